package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// The last-chance flush runs when Lambda shuts a container down: the real bootstrap asks for SIGTERM during its
// init (package function/sigterm), so the emulator, stopped, sends SIGTERM before SIGKILL and the hook logs
// where the container's seal chain ended. Without the registration the emulator kills the process outright and
// neither line appears.
func TestShutdownRunsTheLastChanceFlush(t *testing.T) {
	fn, _, _ := sealedFunction(t)
	const n = 3
	for i := range n {
		okResponse(t, fn.Invoke(t, []byte(fmt.Sprintf(`{"prompt":"What is %d * 7?"}`, i))))
	}
	logs := fn.Logs()
	if strings.Contains(logs, "Lambda was not asked for SIGTERM") {
		t.Fatalf("the registration failed:\n%s", logs)
	}
	fn.Stop()
	logs = fn.Logs()
	if !strings.Contains(logs, `"msg":"seal chain ends"`) || !strings.Contains(logs, fmt.Sprintf(`"last_seq":%d`, n)) {
		t.Fatalf("no last-chance flush at shutdown (want seal chain ends with last_seq %d):\n%s", n, logs)
	}
}
