package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// ErrMaxTurns ends a run whose model still asks for tools after Config.MaxTurns model calls.
var ErrMaxTurns = errors.New("the model asked for more turns than allowed")

// Error types recorded as error.type (low cardinality, as the semantic conventions ask).
const (
	ErrorTypeTimeout        = "timeout"
	ErrorTypeCanceled       = "canceled"
	ErrorTypeMaxTurns       = "max_turns_exceeded"
	ErrorTypeTool           = "tool_error"
	ErrorTypeToolPanic      = "tool_panic"
	ErrorTypeUnknownTool    = "unknown_tool"
	ErrorTypeInvalidRequest = "invalid_request"
)

// ToolError is a failed tool call. Type is one of the tool error types.
type ToolError struct {
	Tool string
	Type string
	Err  error
}

// Error implements error.
func (e *ToolError) Error() string { return fmt.Sprintf("tool %s: %v", e.Tool, e.Err) }

// Unwrap returns the cause.
func (e *ToolError) Unwrap() error { return e.Err }

// ErrorType classifies err for error.type: "timeout" and "canceled" for context ends, the AWS error code of a
// smithy.APIError (ThrottlingException, ValidationException, ...), "max_turns_exceeded", the ToolError's type,
// and otherwise the Go type name. It never returns message text.
func ErrorType(err error) string {
	var apiErr smithy.APIError
	var toolErr *ToolError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return ErrorTypeTimeout
	case errors.Is(err, context.Canceled):
		return ErrorTypeCanceled
	case errors.Is(err, ErrMaxTurns):
		return ErrorTypeMaxTurns
	case errors.As(err, &toolErr):
		return toolErr.Type
	case errors.As(err, &apiErr) && apiErr.ErrorCode() != "":
		return apiErr.ErrorCode()
	default:
		return fmt.Sprintf("%T", err)
	}
}
