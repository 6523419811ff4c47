// Package agentaudittest holds what a user of package agentaudit needs to test an audited agent without AWS, the
// way go.opentelemetry.io/otel/sdk/trace/tracetest serves the OTel SDK: an in-memory sink that keeps every record
// the audit processor delivers (pass it with agentaudit.WithSink). Each record is one OTLP/JSON line; the
// Collector's ptrace.JSONUnmarshaler reads it back.
//
// Stable API: MemorySink and its methods. Nothing here is meant for shipped code.
package agentaudittest
