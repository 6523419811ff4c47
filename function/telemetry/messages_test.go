package telemetry

import (
	"encoding/json"
	"testing"
)

func TestMessagePartsHaveTheSchemaShapes(t *testing.T) {
	tests := []struct {
		name string
		part MessagePart
		want string
	}{
		{"a text part carries its content", MessagePart{Type: PartText, Content: "hi"}, `{"type":"text","content":"hi"}`},
		{"an empty text part still carries the required content", MessagePart{Type: PartText}, `{"type":"text","content":""}`},
		{"a tool call carries id, name and arguments as JSON", MessagePart{Type: PartToolCall, ID: "t1", Name: "clock", Arguments: json.RawMessage(`{"timezone":"UTC"}`)},
			`{"type":"tool_call","id":"t1","name":"clock","arguments":{"timezone":"UTC"}}`},
		{"a tool call without arguments records null", MessagePart{Type: PartToolCall, ID: "t1", Name: "clock"}, `{"type":"tool_call","id":"t1","name":"clock","arguments":null}`},
		{"a tool response carries id and response as JSON", MessagePart{Type: PartToolCallResponse, ID: "t1", Response: json.RawMessage(`{"v":1}`)},
			`{"type":"tool_call_response","id":"t1","response":{"v":1}}`},
		{"invalid response JSON becomes null instead of breaking the attribute", MessagePart{Type: PartToolCallResponse, ID: "t1", Response: json.RawMessage(`{`)},
			`{"type":"tool_call_response","id":"t1","response":null}`},
		{"fields foreign to a type are left out", MessagePart{Type: PartText, Content: "x", ID: "t1", Name: "n"}, `{"type":"text","content":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PartsJSON([]MessagePart{tt.part}); got != "["+tt.want+"]" {
				t.Fatalf("got  %s\nwant [%s]", got, tt.want)
			}
		})
	}
}

func TestMessagesJSON(t *testing.T) {
	tests := []struct {
		name string
		msgs []ChatMessage
		want string
	}{
		{"an input message has no finish reason", []ChatMessage{{Role: RoleUser, Parts: []MessagePart{{Type: PartText, Content: "q"}}}},
			`[{"role":"user","parts":[{"type":"text","content":"q"}]}]`},
		{"an output message carries its finish reason", []ChatMessage{{Role: RoleAssistant, Parts: []MessagePart{{Type: PartText, Content: "a"}}, FinishReason: "stop"}},
			`[{"role":"assistant","parts":[{"type":"text","content":"a"}],"finish_reason":"stop"}]`},
		{"a message without parts has an empty array, not null", []ChatMessage{{Role: RoleAssistant, FinishReason: "content_filter"}},
			`[{"role":"assistant","parts":[],"finish_reason":"content_filter"}]`},
		{"no messages is an empty array", nil, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MessagesJSON(tt.msgs); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if got := PartsJSON(nil); got != "[]" {
		t.Errorf("system instructions without parts: %s", got)
	}
}
