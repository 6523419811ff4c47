// Package proctest holds what the tests that run real programs (MinIO, the Lambda Runtime Interface Emulator, the
// OpenTelemetry Collector) share: finding or installing the program with `go install`, a file lock for installs
// into a shared directory, a free local port, starting it in a process group of its own, and a buffer for its
// output.
package proctest
