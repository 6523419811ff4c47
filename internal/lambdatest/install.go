package lambdatest

import (
	"testing"

	"github.com/agent-audit/agent-audit/internal/proctest"
)

// EmulatorModule is the pinned Runtime Interface Emulator that `go install` builds when no aws-lambda-rie is
// found (the repository has no semver tags; the module proxy serves pseudo-versions).
const EmulatorModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// Emulator returns the path of aws-lambda-rie: on PATH, else in the Go bin directory (GOBIN, or GOPATH/bin), else
// installed there with `go install EmulatorModule`. Concurrent callers, in this process or others, wait on a file
// lock so one install runs at a time.
func Emulator(t testing.TB) string {
	t.Helper()
	return proctest.GoTool(t, "aws-lambda-rie", EmulatorModule)
}
