package faultmatrix

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// endedSpan is what the ground truth keeps of a span the process ended.
type endedSpan struct {
	TraceID, SpanID, Name string
	// Root is set for the trace's local root (no parent, or a remote one).
	Root bool
	// Error is set when the span ended with status ERROR.
	Error bool
}

// groundTruth is a span processor that records every span the process ends. Registered on the function's
// provider after the audit processor, it sees a span after the audit processor has handled it. Safe for
// concurrent use.
type groundTruth struct {
	mu    sync.Mutex
	spans []endedSpan
}

var _ sdktrace.SpanProcessor = (*groundTruth)(nil)

// OnStart implements sdktrace.SpanProcessor.
func (*groundTruth) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd implements sdktrace.SpanProcessor.
func (g *groundTruth) OnEnd(s sdktrace.ReadOnlySpan) {
	parent := s.Parent()
	e := endedSpan{
		TraceID: s.SpanContext().TraceID().String(),
		SpanID:  s.SpanContext().SpanID().String(),
		Name:    s.Name(),
		Root:    !parent.IsValid() || parent.IsRemote(),
		Error:   s.Status().Code == codes.Error,
	}
	g.mu.Lock()
	g.spans = append(g.spans, e)
	g.mu.Unlock()
}

// Shutdown implements sdktrace.SpanProcessor.
func (*groundTruth) Shutdown(context.Context) error { return nil }

// ForceFlush implements sdktrace.SpanProcessor.
func (*groundTruth) ForceFlush(context.Context) error { return nil }

// ended returns a copy of the spans ended so far.
func (g *groundTruth) ended() []endedSpan {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]endedSpan(nil), g.spans...)
}
