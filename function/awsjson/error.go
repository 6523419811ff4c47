package awsjson

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
)

// apiError reads an awsJson1_1 error answer of operation: its code from X-Amzn-Errortype or __type, without the
// namespace before '#' or the URI after ':', and its message when svc keeps messages.
func apiError(svc Service, operation string, resp *http.Response, answer []byte) error {
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageC string `json:"Message"`
	}
	_ = json.Unmarshal(answer, &e)
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		code = e.Type
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if code == "" {
		code = "UnknownError" // as the SDK names an answer without a code
	}
	message := ""
	if svc.KeepMessages {
		message = e.Message
		if message == "" {
			message = e.MessageC
		}
	}
	return NewAPIError(operation, resp.StatusCode, resp.Header.Get("X-Amzn-Requestid"), code, message)
}

// NewAPIError is the error of an AWS error answer of operation, whatever its protocol: a smithy.APIError with
// code and message (empty to keep it out), a server fault for a 5xx status, and an HTTPStatusCode method giving
// status, which the SDK's retryers read. Its text names the operation, the status and requestID.
func NewAPIError(operation string, status int, requestID, code, message string) error {
	fault := smithy.FaultClient
	if status >= 500 {
		fault = smithy.FaultServer
	}
	apiErr := &smithy.GenericAPIError{Code: code, Message: message, Fault: fault}
	return &statusError{APIError: apiErr, operation: operation, status: status, requestID: requestID}
}

// statusError is an API error with the answer's HTTP status, which the standard retryer reads (5xx, 429), and the
// request ID an AWS support case asks for.
type statusError struct {
	smithy.APIError
	operation string
	status    int
	requestID string
}

// Error names the operation, the status and the request ID, as the SDK's errors do.
func (e *statusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d, RequestID %q: %v", e.operation, e.status, e.requestID, e.APIError)
}

// HTTPStatusCode is the answer's HTTP status.
func (e *statusError) HTTPStatusCode() int { return e.status }

// Unwrap gives the API error, for errors.As.
func (e *statusError) Unwrap() error { return e.APIError }
