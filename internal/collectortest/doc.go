// Package collectortest runs a real OpenTelemetry Collector for tests: the core OTLP receiver on 127.0.0.1 and
// contrib's file exporter, so a test can send OTLP/HTTP to it and read back, line by line, what the Collector
// decoded and passed on.
//
// The Collector is built on first use with the OpenTelemetry Collector Builder (BuilderModule, pinned) from
// manifest.yaml, and cached in the user's cache directory under a name derived from the manifest and the
// builder's version, so every later run, in any package, reuses it; a file lock makes concurrent test processes
// wait for one build. A cold build takes a minute or two (README, Tests).
package collectortest
