package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
)

// ErrMaxTurns ends a run whose model still asks for tools after Config.MaxTurns model calls.
var ErrMaxTurns = errors.New("the model asked for more turns than allowed")

// Error types recorded as error.type (low cardinality, as the semantic conventions ask).
const (
	ErrorTypeTimeout        = "timeout"
	ErrorTypeCanceled       = "canceled"
	ErrorTypeTransport      = "transport_error"
	ErrorTypeMaxTurns       = "max_turns_exceeded"
	ErrorTypeTool           = "tool_error"
	ErrorTypeToolPanic      = "tool_panic"
	ErrorTypeUnknownTool    = "unknown_tool"
	ErrorTypeInvalidRequest = "invalid_request"
	ErrorTypePanic          = "panic"
)

// PanicError is a panic recovered outside a tool (in the model client, or in the run itself): the run ends with
// an error, so its trace says ERROR instead of shipping as a success while the invocation fails.
type PanicError struct {
	// Where names what panicked ("model call", "agent run").
	Where string
	Value any
}

// Error implements error.
func (e *PanicError) Error() string { return fmt.Sprintf("panic in %s: %v", e.Where, e.Value) }

// ToolError is a failed tool call. Type is ErrorTypeTool (the default when empty), ErrorTypeToolPanic or
// ErrorTypeUnknownTool.
type ToolError struct {
	Tool string
	Type string
	Err  error
}

// Error implements error.
func (e *ToolError) Error() string { return fmt.Sprintf("tool %s: %v", e.Tool, e.Err) }

// Unwrap returns the cause.
func (e *ToolError) Unwrap() error { return e.Err }

// ErrorType classifies err for error.type, from the most to the least specific: "timeout" and "canceled" when a
// context ended the work, the AWS error code of a smithy.APIError (ThrottlingException, ValidationException, ...),
// "transport_error" when a request never got an answer, "max_turns_exceeded", "panic", a ToolError's type, and otherwise
// the Go type of the error under any fmt.Errorf wrapping (semconv.ErrorType). It returns "" for nil and never
// returns message text, so it is safe to record with content capture off.
func ErrorType(err error) string {
	var (
		apiErr   smithy.APIError
		toolErr  *ToolError
		sendErr  *smithyhttp.RequestSendError
		panicErr *PanicError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return ErrorTypeTimeout
	case errors.Is(err, context.Canceled):
		return ErrorTypeCanceled
	case errors.As(err, &apiErr) && apiErr.ErrorCode() != "":
		return apiErr.ErrorCode()
	case errors.As(err, &sendErr):
		return ErrorTypeTransport
	case errors.Is(err, ErrMaxTurns):
		return ErrorTypeMaxTurns
	case errors.As(err, &panicErr):
		return ErrorTypePanic
	case errors.As(err, &toolErr) && toolErr.Type != "":
		return toolErr.Type
	case toolErr != nil:
		return ErrorTypeTool
	default:
		return semconv.ErrorType(err).Value.AsString()
	}
}

// awsRequestID is the AWS request id of a failed AWS call (x-amzn-RequestId), or "" when err carries none. It
// lets an auditor find the call in the provider's own logs (Bedrock model invocation logging, CloudTrail).
// The SDK's awshttp.ResponseError and awsjson's errors both carry it as ServiceRequestID.
func awsRequestID(err error) string {
	var respErr interface{ ServiceRequestID() string }
	if errors.As(err, &respErr) {
		return respErr.ServiceRequestID()
	}
	return ""
}
