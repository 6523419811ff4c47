// Package audittest holds this repository's test helpers for code that produces audit records: a decoder that
// reads delivered OTLP/JSON records (from memory or from a Firehose-layout directory) back into flat spans with
// the Collector's own OTLP/JSON unmarshaler. It is for tests only; no shipped code imports it. The in-memory sink
// a user needs is public, in package agentaudittest.
package audittest
