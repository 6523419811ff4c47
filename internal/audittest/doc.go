// Package audittest holds test helpers for code that produces audit records: an in-memory audit.Sink and a
// decoder that reads delivered OTLP/JSON records (from memory or from a Firehose-layout directory) back into
// flat spans with the Collector's own OTLP/JSON unmarshaler. It is for tests only; no shipped code imports it.
package audittest
