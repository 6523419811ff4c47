// Package proctest holds what the tests that run real programs (MinIO, the Lambda Runtime Interface Emulator)
// share: finding or installing the program with `go install`, a file lock for installs into a shared directory,
// a free local port, and a buffer for its output.
package proctest
