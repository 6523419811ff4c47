package awsjson

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
)

// apiError reads an awsJson1_1 error answer: its code from X-Amzn-Errortype or __type, without the namespace
// before '#' or the URI after ':'. The message is dropped: nothing of an answer is repeated.
func apiError(resp *http.Response, answer []byte) error {
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(answer, &e)
		code = e.Type
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if code == "" {
		code = fmt.Sprintf("HTTP%d", resp.StatusCode)
	}
	fault := smithy.FaultClient
	if resp.StatusCode >= 500 {
		fault = smithy.FaultServer
	}
	return &statusError{APIError: &smithy.GenericAPIError{Code: code, Fault: fault}, status: resp.StatusCode}
}

// statusError is an API error with the answer's HTTP status, which the standard retryer reads (5xx, 429).
type statusError struct {
	smithy.APIError
	status int
}

// HTTPStatusCode is the answer's HTTP status.
func (e *statusError) HTTPStatusCode() int { return e.status }

// Unwrap gives the API error, for errors.As.
func (e *statusError) Unwrap() error { return e.APIError }
