package telemetry

import (
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ProviderOptions are the options of an audited tracer provider: the resource, each processor in order, and a
// sampler that samples every span whatever a caller's traceparent says (the audit copy is always 100%; a second
// destination samples on its own). The sampler comes last, so these options put after others override any
// sampler those set.
func ProviderOptions(res *resource.Resource, procs ...sdktrace.SpanProcessor) []sdktrace.TracerProviderOption {
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	for _, p := range procs {
		opts = append(opts, sdktrace.WithSpanProcessor(p))
	}
	return append(opts, sdktrace.WithSampler(sdktrace.AlwaysSample()))
}

// NewTracerProvider returns a provider built with ProviderOptions: every span sampled and handed to every
// processor in order.
func NewTracerProvider(res *resource.Resource, procs ...sdktrace.SpanProcessor) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(ProviderOptions(res, procs...)...)
}
