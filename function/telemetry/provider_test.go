package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestNewTracerProviderRecordsEverySpan(t *testing.T) {
	tests := []struct {
		name  string
		flags trace.TraceFlags
	}{
		{"a caller that sampled", trace.FlagsSampled},
		{"a caller whose traceparent says unsampled", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Resource(ResourceConfig{ServiceName: "svc"})
			if err != nil {
				t.Fatal(err)
			}
			first, second := tracetest.NewSpanRecorder(), tracetest.NewSpanRecorder()
			tp := NewTracerProvider(res, first, second)
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

			parent := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID{0xa1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
				SpanID:  trace.SpanID{0xb1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: tt.flags, Remote: true,
			})
			_, span := tp.Tracer("t").Start(trace.ContextWithRemoteSpanContext(context.Background(), parent), "run")
			span.End()

			for i, rec := range []*tracetest.SpanRecorder{first, second} {
				spans := rec.Ended()
				if len(spans) != 1 {
					t.Fatalf("processor %d got %d spans, want 1", i, len(spans))
				}
				s := spans[0]
				if !s.SpanContext().IsSampled() || s.SpanContext().TraceID() != parent.TraceID() {
					t.Errorf("processor %d: sampled=%v trace %s, want sampled in the caller's trace", i, s.SpanContext().IsSampled(), s.SpanContext().TraceID())
				}
				if !s.Resource().Equal(res) {
					t.Errorf("processor %d: span does not carry the provider's resource", i)
				}
			}
		})
	}
}
