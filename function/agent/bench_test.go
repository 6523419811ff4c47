package agent

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// discard is a span processor that drops every span, so the benchmark measures the agent and the SDK's span
// building, not a recorder's growing memory.
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

// BenchmarkRun measures one offline run with a calculator call (four spans) with content capture off and on:
// the cost of the loop and its instrumentation, without a network.
func BenchmarkRun(b *testing.B) {
	for _, capture := range []struct {
		name string
		on   bool
	}{{"content off", false}, {"content on", true}} {
		b.Run(capture.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discard{}))
			a := newAgent(b, NewOfflineModel(), DefaultTools(), capture.on, tp.Tracer("bench"))
			in := Input{Prompt: "What is (17 * 23) / 4?", ConversationID: "bench"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Run(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
