package agent

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// conversation has every part the agent records: user text, assistant text with two tool calls, a successful
// and a failed tool result, and the final answer.
var conversation = []Message{
	{Role: RoleUser, Parts: []Part{{Text: "What is 6 * 7, and what time is it in Tokyo?"}}},
	{Role: RoleAssistant, Parts: []Part{
		{Text: "Let me use the tools."},
		{ToolCall: &ToolCall{ID: "tooluse_a", Name: "calculator", Arguments: json.RawMessage(`{"expression":"6 * 7"}`)}},
		{ToolCall: &ToolCall{ID: "tooluse_b", Name: "clock", Arguments: json.RawMessage(`{"timezone":"Asia/Tokio"}`)}},
	}},
	{Role: RoleUser, Parts: []Part{
		{ToolResult: &ToolResult{ID: "tooluse_a", Content: json.RawMessage(`{"expression":"6 * 7","value":"42"}`)}},
		{ToolResult: &ToolResult{ID: "tooluse_b", Content: json.RawMessage(`{"error":"argument \"timezone\": \"Asia/Tokio\" is not an IANA time zone"}`), IsError: true}},
	}},
}

var answer = Message{Role: RoleAssistant, Parts: []Part{{Text: "6 * 7 = 42; the time zone was misspelled."}}}

func TestMessageAttributesFollowTheGenAISchemas(t *testing.T) {
	recorded := map[string]string{
		"gen_ai.input.messages":      messagesJSON(conversation, ""),
		"gen_ai.output.messages":     messagesJSON([]Message{answer}, FinishStop),
		"gen_ai.system_instructions": systemJSON("Be brief."),
	}
	decoded := map[string]any{}
	raw := map[string]json.RawMessage{}
	for k, v := range recorded {
		raw[k] = json.RawMessage(v)
		var x any
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			t.Fatalf("%s is not JSON: %v", k, err)
		}
		decoded[k] = x
	}
	checkMessages(t, decoded["gen_ai.input.messages"], false)
	checkMessages(t, decoded["gen_ai.output.messages"], true)
	for _, p := range decoded["gen_ai.system_instructions"].([]any) {
		checkPart(t, p.(map[string]any))
	}

	// The golden keeps each attribute's own member order; only whitespace is added.
	got, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "genai_messages.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(append(got, '\n'), want) {
		t.Errorf("message attributes differ from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// checkMessages applies the schemas' rules: role from the enum, parts an array of valid parts, finish_reason
// required (from the enum) on output messages and absent on input messages.
func checkMessages(t *testing.T, v any, output bool) {
	t.Helper()
	msgs, ok := v.([]any)
	if !ok || len(msgs) == 0 {
		t.Fatalf("messages %v are not a non-empty array", v)
	}
	for i, m := range msgs {
		msg := m.(map[string]any)
		if !slices.Contains([]any{"system", "user", "assistant", "tool"}, msg["role"]) {
			t.Errorf("message %d: role %v", i, msg["role"])
		}
		reason, has := msg["finish_reason"]
		if output != has || (has && !slices.Contains([]any{"stop", "length", "content_filter", "tool_call", "error"}, reason)) {
			t.Errorf("message %d: finish_reason %v (output message: %v)", i, reason, output)
		}
		parts, ok := msg["parts"].([]any)
		if !ok {
			t.Errorf("message %d: parts %v", i, msg["parts"])
		}
		for _, p := range parts {
			checkPart(t, p.(map[string]any))
		}
	}
}

// checkPart checks a part has exactly the members its type requires.
func checkPart(t *testing.T, p map[string]any) {
	t.Helper()
	required := map[any][]string{
		"text":               {"type", "content"},
		"tool_call":          {"type", "id", "name", "arguments"},
		"tool_call_response": {"type", "id", "response"},
	}[p["type"]]
	if required == nil {
		t.Errorf("part of unknown type %v", p["type"])
		return
	}
	for _, k := range required {
		if _, ok := p[k]; !ok {
			t.Errorf("%v part lacks %s: %v", p["type"], k, p)
		}
	}
	if len(p) != len(required) {
		t.Errorf("%v part has members beyond %v: %v", p["type"], required, p)
	}
}

func TestOnlyResultMessagesTakeTheToolRole(t *testing.T) {
	mixed := Message{Role: RoleUser, Parts: []Part{{Text: "and also"}, {ToolResult: &ToolResult{ID: "x", Content: json.RawMessage(`{}`)}}}}
	var got []struct{ Role string }
	if err := json.Unmarshal([]byte(messagesJSON([]Message{conversation[2], mixed, conversation[0]}, "")), &got); err != nil {
		t.Fatal(err)
	}
	if got[0].Role != "tool" || got[1].Role != "user" || got[2].Role != "user" {
		t.Fatalf("roles %+v, want tool, user, user", got)
	}
}
