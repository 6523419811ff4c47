package agent

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/internal/bedrocktest"
)

// marker stands for content: it is in the prompt, the tool arguments, the model's text and the errors, so it
// shows wherever content reaches a span.
const marker = "SECRET-MARKER-7"

func TestContentOffKeepsContentOutOfEverySpanField(t *testing.T) {
	offline := func(steps ...Step) func(*testing.T) Model {
		return func(*testing.T) Model { return NewOfflineModel(WithScript(steps...)) }
	}
	bedrock := func(replies ...bedrocktest.Reply) func(*testing.T) Model {
		return func(t *testing.T) Model {
			srv := bedrocktest.New(t, profileARN)
			srv.Enqueue(replies...)
			m, err := NewBedrockModel(srv.Client(), profileARN, "claude-haiku-4-5")
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	args := json.RawMessage(`{"expression":"` + marker + `"}`)
	tests := []struct {
		name    string
		model   func(*testing.T) Model
		wantErr bool
	}{
		{"a model error that echoes the prompt", offline(Step{Err: APIError("ValidationException", "bad input: please "+marker)}), true},
		{"a Bedrock error whose message echoes the prompt", bedrock(bedrocktest.Fault("ValidationException", "Malformed input near 'please "+marker+"'")), true},
		{"a tool error that echoes its arguments", offline(
			Step{ToolCalls: []ToolCall{{Name: "calculator", Arguments: args}}},
			Step{Text: "done " + marker}), false},
		{"a tool error on Bedrock", bedrock(
			bedrocktest.Reply{ToolUses: []bedrocktest.ToolUse{{ID: "t1", Name: "calculator", Input: args}}},
			bedrocktest.Reply{Text: "done " + marker}), false},
		{"a panicking tool", offline(
			Step{ToolCalls: []ToolCall{{Name: "panicky", Arguments: json.RawMessage(`{"x":"` + marker + `"}`)}}},
			Step{Text: "done"}), false},
		{"an unknown tool", offline(
			Step{ToolCalls: []ToolCall{{Name: "nope", Arguments: json.RawMessage(`{"x":"` + marker + `"}`)}}},
			Step{Text: "done " + marker}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, capture := range []bool{false, true} {
				rec, tracer := recorder(t)
				a := newAgent(t, tt.model(t), append(DefaultTools(), panicky{}), capture, tracer)
				_, err := a.Run(context.Background(), Input{Prompt: "please " + marker})
				if (err != nil) != tt.wantErr {
					t.Fatalf("capture=%v: err %v", capture, err)
				}
				leaked, messages := false, false
				for _, s := range rec.Ended() {
					d := dump(s)
					leaked = leaked || strings.Contains(d, marker)
					messages = messages || strings.Contains(d, "exception.message=")
					if !capture && strings.Contains(d, marker) {
						t.Errorf("content off: span %s carries the marker:\n%s", s.Name(), d)
					}
					if !capture && (strings.Contains(d, "exception.message=") || strings.Contains(d, "exception.stacktrace=")) {
						t.Errorf("content off: span %s records an exception message or stack:\n%s", s.Name(), d)
					}
					for _, e := range s.Events() {
						if e.Name == "exception" && len(e.Attributes) == 0 {
							t.Errorf("span %s: exception event without exception.type", s.Name())
						}
					}
				}
				// With content on, the same run must show the marker, or this test could not see a leak.
				if capture && !leaked {
					t.Errorf("content on: the marker is nowhere")
				}
				if capture && !messages {
					t.Errorf("content on: no exception message recorded")
				}
			}
		})
	}
}
