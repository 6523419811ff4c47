package handler

// StatusOK is the only status of a successful Response; failures are errors, which Lambda reports as such.
const StatusOK = "ok"

// Response is the result of a successful invocation: {"status": "ok", "output": "...", "trace_id": "<32 hex>"}.
// It is returned only after the run's audit record has been delivered (unless fail-open is configured).
type Response struct {
	Status  string `json:"status"`
	Output  string `json:"output"`
	TraceID string `json:"trace_id"`
}
