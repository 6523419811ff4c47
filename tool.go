package agentaudit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/agent-audit/agent-audit/function/agent"
)

// funcTool is the agent.Tool NewTool returns.
type funcTool[Args any] struct {
	spec agent.ToolSpec
	fn   func(ctx context.Context, args Args) (any, error)
}

// NewTool makes an agent.Tool of a Go function, for WithTools. inputSchema is the JSON Schema of the arguments
// object the model sees. fn receives the model's arguments decoded strictly into Args: an unknown field or a wrong
// type becomes an error result naming the field, and fn is not called. fn's result is encoded as JSON for the
// model (a json.RawMessage passes unchanged). An error fn returns becomes an error result the model reads and
// marks the execute_tool span ERROR; a panic in fn is recovered and audited the same way (error.type
// tool_panic), and the run goes on. fn must be safe for concurrent use. New checks the name, description and
// schema.
func NewTool[Args any](name, description string, inputSchema json.RawMessage, fn func(ctx context.Context, args Args) (any, error)) agent.Tool {
	return funcTool[Args]{spec: agent.ToolSpec{Name: name, Description: description, InputSchema: inputSchema}, fn: fn}
}

// Spec implements agent.Tool.
func (t funcTool[Args]) Spec() agent.ToolSpec { return t.spec }

// Call implements agent.Tool.
func (t funcTool[Args]) Call(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var args Args
	if err := agent.DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	out, err := t.fn(ctx, args)
	if err != nil {
		return nil, err
	}
	if r, ok := out.(json.RawMessage); ok {
		return r, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode the result of %s: %w", t.spec.Name, err)
	}
	return b, nil
}
