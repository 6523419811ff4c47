package audit

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// ErrTraceNotRecorded is FlushTrace's error for a trace no span of which reached the processor from the
// delivery context: its local root was not sampled (a ParentBased sampler and an unsampled traceparent), was
// started from a Suppress'ed context or after Shutdown, or never started. Nothing of it can be delivered, so
// the invocation must not answer as if it were audited.
var ErrTraceNotRecorded = errors.New("no span of the trace reached the audit processor (an unsampled root? " +
	"the audit tracer provider must sample every span: sdktrace.AlwaysSample)")

type deadlineKey struct{}

// delivery is what ContextWithDeliveryDeadline puts in a context: the deadline, and the traces whose local
// root the processor accepted from that context, so that FlushTrace can tell a delivered trace from one it never
// saw (both leave nothing behind).
type delivery struct {
	deadline time.Time
	mu       sync.Mutex
	roots    map[trace.TraceID]struct{}
}

func (d *delivery) record(id trace.TraceID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.roots[id] = struct{}{}
}

func (d *delivery) recorded(id trace.TraceID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.roots[id]
	return ok
}

type suppressKey struct{}

// ContextWithDeliveryDeadline records when the trace started from ctx must be delivered by. The Processor reads it
// when the trace's local root starts and bounds delivery (with retries) by it; the handler sets it to just before
// the Lambda deadline. The context also makes FlushTrace (given it or a context derived from it) fail with
// ErrTraceNotRecorded for a trace whose local root the processor never accepted from it.
func ContextWithDeliveryDeadline(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, deadlineKey{}, &delivery{deadline: t, roots: map[trace.TraceID]struct{}{}})
}

func deliveryOf(ctx context.Context) (*delivery, bool) {
	d, ok := ctx.Value(deadlineKey{}).(*delivery)
	return d, ok
}

// Suppress marks ctx so that spans started from it are ignored by the Processor. The sinks deliver with such a
// context, so an instrumented AWS client inside a sink can never feed spans back into the audit it is shipping.
func Suppress(ctx context.Context) context.Context {
	return context.WithValue(ctx, suppressKey{}, true)
}

// IsSuppressed reports whether ctx was marked by Suppress.
func IsSuppressed(ctx context.Context) bool {
	v, _ := ctx.Value(suppressKey{}).(bool)
	return v
}
