// Package replay sends traces from the audit trail to any OTLP/HTTP backend (an OpenTelemetry Collector,
// Jaeger, Grafana Tempo, Logfire, Langfuse, Arize Phoenix), whole and as stored.
//
// Select picks traces with the query layer's views (package queries) and names the record objects that hold
// them. Assemble reads those objects from a trail.Store and rebuilds each trace: every span once (a record
// Firehose stored twice, or a late span shipped again, counts once), the parts of a split shipment together, and
// the content of oversize spans put back from the object each one names. IDs, timestamps, kind, status, events,
// links, attributes, resource and scope are kept as stored; the seal and framing attributes too, unless
// StripAuditAttributes is set, in which case the records' resources become equal and their spans are sent under
// one resource.
//
// An Exporter speaks OTLP/HTTP as the OTLP specification and the SDK exporter specification define it:
// protobuf or JSON bodies, gzip compression, retries of 429, 502, 503 and 504 answers and of transport errors
// with exponential backoff and jitter, honouring Retry-After, and a partial success counted as a failure of the
// spans the server rejected. ConfigFromEnv reads the standard OTEL_EXPORTER_OTLP_* variables.
//
// Replay ties them together: with verification asked for, it refuses every trace whose records fail trail/verify,
// batches the others into requests without ever splitting a trace, sends them, and returns a Summary of what was
// delivered and what was not. Replaying twice sends every span twice; the backend decides what duplicates mean.
package replay
