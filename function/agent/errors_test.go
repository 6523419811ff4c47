package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestErrorType(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no error has no type", nil, ""},
		{"a passed deadline is a timeout", fmt.Errorf("model call 1: %w", context.DeadlineExceeded), ErrorTypeTimeout},
		{"a canceled context is canceled", fmt.Errorf("x: %w", context.Canceled), ErrorTypeCanceled},
		{"an AWS error is its code", fmt.Errorf("bedrock converse: %w", &smithy.OperationError{ServiceID: "Bedrock Runtime", OperationName: "Converse",
			Err: &types.ThrottlingException{Message: aws.String("slow down")}}), "ThrottlingException"},
		{"a generic AWS error is its code", APIError("ServiceQuotaExceededException", "quota"), "ServiceQuotaExceededException"},
		{"a request that never got an answer is a transport error", &smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: errors.New("connection refused")}}, ErrorTypeTransport},
		{"the turn bound is max_turns_exceeded", fmt.Errorf("after 4 model calls: %w", ErrMaxTurns), ErrorTypeMaxTurns},
		{"a tool error is its type", &ToolError{Tool: "t", Type: ErrorTypeToolPanic, Err: errors.New("boom")}, ErrorTypeToolPanic},
		{"anything else is its Go type under fmt wrapping", fmt.Errorf("a: %w", fmt.Errorf("b: %w", errors.New("c"))), "*errors.errorString"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorType(tt.err); got != tt.want {
				t.Fatalf("ErrorType = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorTypeNeverQuotesTheMessage(t *testing.T) {
	for _, err := range []error{
		errors.New(marker),
		fmt.Errorf("prompt %q: %w", marker, errors.New(marker)),
		APIError("", marker),
		&ToolError{Tool: "t", Err: errors.New(marker)},
	} {
		if got := ErrorType(err); strings.Contains(got, marker) || got == "" {
			t.Errorf("ErrorType(%v) = %q", err, got)
		}
	}
}
