package awsjson

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
)

// apiError reads an error answer of operation as the SDK's awsJson1_1 and restJson1 protocols both read it: its
// code from X-Amzn-Errortype, else the body's __type, else its code, cut before the first ':' (a URI) and after
// the first '#' (a namespace); and its message when svc keeps messages.
func apiError(svc Service, operation string, resp *http.Response, answer []byte) error {
	var e struct {
		Type string `json:"__type"`
		// Message and Code match any case ("message", "Message"), as the SDK's decoding does.
		Message string
		Code    any
	}
	_ = json.Unmarshal(answer, &e)
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		code = e.Type
	}
	if c, ok := e.Code.(string); ok && code == "" {
		code = c
	}
	code, _, _ = strings.Cut(code, ":")
	if _, name, ok := strings.Cut(code, "#"); ok {
		code = name
	}
	if code == "" {
		code = "UnknownError" // as the SDK names an answer without a code
	}
	message := ""
	if svc.KeepMessages {
		message = e.Message
	}
	return NewAPIError(operation, resp.StatusCode, resp.Header.Get("X-Amzn-Requestid"), code, message)
}

// NewAPIError is the error of an AWS error answer of operation, whatever its protocol: a smithy.APIError with
// code and message (empty to keep it out), a server fault for a 5xx status, an HTTPStatusCode method giving
// status, which the SDK's retryers read, and ServiceRequestID giving requestID. Its text names the operation,
// the status and requestID.
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

// ServiceRequestID is the answer's request ID, under the name the SDK's errors give it (awshttp.ResponseError).
func (e *statusError) ServiceRequestID() string { return e.requestID }

// Unwrap gives the API error, for errors.As.
func (e *statusError) Unwrap() error { return e.APIError }
