package lambdatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// invokePath is the Lambda Invoke API's path for the emulator's one function.
const invokePath = "/2015-03-31/functions/function/invocations"

// Response is what an invocation returned.
type Response struct {
	// Status is the HTTP status of the Invoke call (200 for function errors too, as Lambda answers them).
	Status int
	// Payload is the response body: the handler's result, or Lambda's error object.
	Payload []byte
	// Error is set when the function returned an error (the payload is {"errorType":…,"errorMessage":…}).
	Error *FunctionError
}

// FunctionError is the error object Lambda returns for a handler error.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Invoke calls the function with payload over HTTP as the Invoke API does (RequestResponse) and waits for its
// answer. It fails the test only if the call itself fails; function errors are in Response.Error.
func (f *Function) Invoke(t testing.TB, payload []byte) Response {
	t.Helper()
	resp, err := f.invoke(payload)
	if err != nil {
		t.Fatalf("invoke: %v\nlogs:\n%s", err, f.Logs())
	}
	return resp
}

func (f *Function) invoke(payload []byte) (Response, error) {
	r, err := http.Post(f.URL+invokePath, "application/json", bytes.NewReader(payload))
	if err != nil {
		return Response{}, err
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return Response{}, fmt.Errorf("read the response: %w", err)
	}
	resp := Response{Status: r.StatusCode, Payload: body}
	var fe FunctionError
	if json.Unmarshal(body, &fe) == nil && fe.Type != "" && fe.Message != "" {
		resp.Error = &fe
	}
	return resp, nil
}
