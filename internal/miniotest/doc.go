// Package miniotest runs a real MinIO server for tests: an S3-compatible store that implements Object Lock
// faithfully (bucket default retention applied on PUT, locked versions refuse deletion, COMPLIANCE retention
// cannot be shortened, GOVERNANCE yields only to the bypass header). It is a test dependency only, never shipped.
//
// Start finds the minio binary on PATH or in the Go bin directory, or installs the pinned version with
// `go install` (a few minutes cold; concurrent test binaries serialise on a file lock), starts it bound to
// 127.0.0.1 on free ports with a temporary data directory and freshly generated root credentials, waits until it
// serves S3, and kills its process group when the test ends. .ci/run installs the binary ahead of the tests.
package miniotest
