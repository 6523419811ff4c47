package agentaudit

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/internal/audittest"
)

type ticketArgs struct {
	ID string `json:"id"`
}

var ticketSchema = json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`)

func TestNewToolDecodesStrictlyAndAuditsFailures(t *testing.T) {
	tools := []agent.Tool{
		NewTool("echo", "Echoes the id.", ticketSchema, func(_ context.Context, a ticketArgs) (any, error) {
			return map[string]string{"id": a.ID}, nil
		}),
		NewTool("raw", "Returns raw JSON.", ticketSchema, func(context.Context, ticketArgs) (any, error) {
			return json.RawMessage(`{"raw":true}`), nil
		}),
		NewTool("broken", "Always fails.", ticketSchema, func(context.Context, ticketArgs) (any, error) {
			return nil, errors.New("ticket store unavailable")
		}),
		NewTool("panicky", "Always panics.", ticketSchema, func(context.Context, ticketArgs) (any, error) {
			panic("nil map")
		}),
	}
	tests := []struct {
		name, tool, args, wantResult, wantErrorType string
	}{
		{"arguments arrive decoded and the result goes back as JSON", "echo", `{"id":"T-1"}`, `{"id":"T-1"}`, ""},
		{"a json.RawMessage result passes unchanged", "raw", `{"id":"T-1"}`, `{"raw":true}`, ""},
		{"an unknown argument is an error result naming it, and the function is not called", "broken", `{"id":"T-1","force":true}`, `force`, "tool_error"},
		{"a returned error is an error result the model reads", "broken", `{"id":"T-1"}`, `ticket store unavailable`, "tool_error"},
		{"a panic is recovered and audited as tool_panic", "panicky", `{"id":"T-1"}`, `the tool failed unexpectedly`, "tool_panic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := agent.NewOfflineModel(agent.WithScript(
				agent.Step{ToolCalls: []agent.ToolCall{{Name: tt.tool, Arguments: json.RawMessage(tt.args)}}},
				agent.Step{Text: "done"},
			))
			a, sink := newOfflineApp(t, nil, WithModel(model), WithTools(tools...))
			resp, err := invoke(t, a, `{"prompt":"go"}`)
			if err != nil || resp.Output != "done" {
				t.Fatalf("the run did not go on after the tool: %+v, %v", resp, err)
			}
			spans := audittest.Named(audittest.Decode(t, sink.Records()), "execute_tool "+tt.tool)
			if len(spans) != 1 {
				t.Fatalf("%d execute_tool %s spans", len(spans), tt.tool)
			}
			sp := spans[0]
			result, _ := sp.Attrs["gen_ai.tool.call.result"].(string)
			if !strings.Contains(result, tt.wantResult) {
				t.Errorf("result %q, want it to hold %q", result, tt.wantResult)
			}
			if got, _ := sp.Attrs["error.type"].(string); got != tt.wantErrorType {
				t.Errorf("error.type %q, want %q", got, tt.wantErrorType)
			}
			if failed := sp.StatusCode == ptrace.StatusCodeError; failed != (tt.wantErrorType != "") {
				t.Errorf("status %v for error type %q", sp.StatusCode, tt.wantErrorType)
			}
		})
	}
}
