// Package telemetry builds the OpenTelemetry pieces every span of the function shares: the resource describing
// the function, the tracer provider (always sampling: the audit copy is 100%), and the GenAI message encoding the
// agent records on its spans.
package telemetry
