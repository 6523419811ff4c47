// Package audit turns finished traces into audit records and delivers them.
//
// The Processor is an OpenTelemetry SpanProcessor that buffers each trace's spans and, once the trace is complete
// (its local root has ended and none of its spans is still open), encodes it and hands it to a Sink
// synchronously, on the goroutine that ended the last span, so an invocation's trace is delivered before the
// invocation returns. A span that ends after its trace shipped is shipped on its own as a follow-up record.
//
// A record is one OTLP/JSON ExportTraceServiceRequest on one line, exactly as the OTLP specification defines the
// JSON encoding (lowercase hex trace and span IDs, enums as integers, 64-bit integers as decimal strings),
// produced by the OTel SDK's own span conversion and the Collector's pdata JSON marshaler. Every record carries
// these resource attributes, so a reader can tell complete from incomplete and de-duplicate:
//
//	agent_audit.record.batch_key  string  32 lowercase hex, random, one per shipment, shared by all its parts
//	agent_audit.record.part       int     0-based index of this record within the shipment
//	agent_audit.record.parts      int     number of records of the shipment
//	agent_audit.record.followup   bool    true when the shipment holds late spans of an already shipped trace
//
// The function's resource also says how the spans were recorded (package app sets it from its configuration):
//
//	agent_audit.content.captured  bool    false when content capture was off: prompts, outputs, tool arguments
//	                                      and results and error messages were not recorded
//
// A shipment larger than the record limit (Firehose's 1,000 KiB) is split into several records, each a complete
// OTLP/JSON request with the same resource and scope and a subset of the spans. Readers that see the same
// (batch_key, part) twice have seen a retried delivery and keep one.
//
// A span too large for a record on its own keeps its content whole in an OversizeStore (S3OversizeStore in the
// audit bucket, LocalOversizeStore in a local root): its largest attributes move, largest first, into one object
// under oversize/year=YYYY/month=MM/day=DD/hour=HH/<trace-id>/<span-id>-<sha256>.json.gz, a gzip'd one-span
// OTLP/JSON line, and the span keeps references to it:
//
//	agent_audit.oversize.uri         string    s3://bucket/key, or file:///path locally
//	agent_audit.oversize.key         string    the object's key relative to the audit root
//	agent_audit.oversize.sha256      string    hex SHA-256 of the object's uncompressed content
//	agent_audit.oversize.bytes       int       size of that content
//	agent_audit.oversize.attributes  string[]  the keys of the attributes moved
//
// Without a store such a span fails its shipment with ErrSpanTooLarge. With a seal.Sealer (WithSealer) every
// record is sealed as the last step of encoding, so the seal covers the references too. A record that cannot be
// sealed is delivered unsealed, with the reason in agent_audit.seal.unsealed; a sealed record whose shipment
// fails is declared undelivered to the Sealer, and the chain's next record says so.
//
// Delivery is bounded by the deadline the handler put in the local root's context (ContextWithDeliveryDeadline),
// or by the default ship timeout. A failure is kept for the handler's FlushTrace; a failure nobody can collect
// any more (a late span's follow-up after FlushTrace) is logged at Error level with the trace ID and span count.
// The sinks are FirehoseSink, which owns retries (its client, awsjson.Firehose, makes one attempt), and
// LocalDirSink, which writes the objects Firehose would write to S3. The processor delivers with a Suppress'ed
// context, so an instrumented AWS client inside a sink never feeds its own spans back into the audit.
package audit
