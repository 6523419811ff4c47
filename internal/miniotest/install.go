package miniotest

import (
	"testing"

	"github.com/agent-audit/agent-audit/internal/proctest"
)

// Module is the pinned MinIO version that `go install` builds when no minio binary is found. It is the
// module proxy's latest (MinIO stopped tagging semver releases; the proxy serves pseudo-versions).
const Module = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

// Binary returns the path of the minio executable: on PATH, else in the Go bin directory (GOBIN, or GOPATH/bin),
// else installed there with `go install Module`. Concurrent callers, in this process or others, wait on a file
// lock so one install runs at a time; the install's output goes to the test log.
func Binary(t testing.TB) string {
	t.Helper()
	return proctest.GoTool(t, "minio", Module)
}
