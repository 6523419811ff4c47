package handler

import (
	"fmt"
	"strings"
)

// Kinds of InvocationError.
const (
	// KindInvalidEvent: the payload was rejected; the rejection itself was audited.
	KindInvalidEvent = "invalid_event"
	// KindAgentRun: the agent run failed; its ERROR trace was delivered.
	KindAgentRun = "agent_run"
	// KindAuditDelivery: the audit record could not be delivered, or nothing of the run was recorded
	// (audit.ErrTraceNotRecorded), so the invocation fails (fail-closed).
	KindAuditDelivery = "audit_delivery"
)

// InvocationError is every error the handler returns. Lambda reports it as errorType "InvocationError" with the
// message below, which always carries the trace ID so the caller can find the audited trace.
type InvocationError struct {
	// TraceID is the 32-hex ID of the invocation's trace.
	TraceID string
	// Kind is one of the Kind constants.
	Kind string
	// Type is the low-cardinality error type of a failed run (the span's error.type), empty for other kinds.
	Type string
	// Err is the cause; nil when content capture is off and the cause could echo content.
	Err error
}

// Error implements error.
func (e *InvocationError) Error() string {
	var b strings.Builder
	switch e.Kind {
	case KindAgentRun:
		b.WriteString("agent run failed")
		if e.Type != "" {
			fmt.Fprintf(&b, " (%s)", e.Type)
		}
	case KindAuditDelivery:
		b.WriteString("audit record not delivered")
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	fmt.Fprintf(&b, " (trace_id=%s)", e.TraceID)
	return b.String()
}

// Unwrap returns the cause.
func (e *InvocationError) Unwrap() error { return e.Err }
