package lambdatest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/agentenv"
)

func TestTheRealBootstrapAnswersOverTheInvokeAPI(t *testing.T) {
	// The test process's environment must not reach the function: were this inherited, every prompt would be
	// rejected as too long.
	t.Setenv(agentenv.MaxPromptBytes, "1")
	root := t.TempDir()
	fn := Start(t, Options{Env: map[string]string{agentenv.Model: agentenv.ModelOffline, agentenv.LocalRoot: root}})
	if _, ok := fn.InitDuration(); ok {
		t.Fatal("an init duration before the first invocation: the emulator initialises lazily")
	}

	ok := fn.Invoke(t, []byte(`{"prompt":"What is 17 * 23?"}`))
	var out struct{ Status, Output, TraceID string }
	if err := json.Unmarshal(ok.Payload, &out); err != nil || ok.Status != 200 || ok.Error != nil {
		t.Fatalf("status %d payload %s error %v", ok.Status, ok.Payload, ok.Error)
	}
	if out.Status != "ok" || out.Output != "17 * 23 = 391" {
		t.Fatalf("response %s", ok.Payload)
	}
	if d, found := fn.InitDuration(); !found || d <= 0 {
		t.Fatalf("no INIT REPORT after the first invocation:\n%s", fn.Logs())
	}

	bad := fn.Invoke(t, []byte(`{"prompt":""}`))
	if bad.Status != 200 || bad.Error == nil || bad.Error.Type != "InvocationError" || !strings.HasPrefix(bad.Error.Message, "invalid event: prompt") {
		t.Fatalf("rejected request: status %d payload %s", bad.Status, bad.Payload)
	}

	logs := fn.Logs()
	for _, want := range []string{`"msg":"agent run ok"`, `"msg":"invalid event rejected"`, "START RequestId:", "REPORT RequestId:"} {
		if !strings.Contains(logs, want) {
			t.Errorf("captured logs lack %s:\n%s", want, logs)
		}
	}
	records, _ := filepath.Glob(filepath.Join(root, "traces", "year=*", "month=*", "day=*", "hour=*", "*.gz"))
	if len(records) != 2 {
		t.Fatalf("%d records under the local root, want one per invocation", len(records))
	}
}

func TestStopLeavesNothingRunning(t *testing.T) {
	fn := Start(t, Options{Env: map[string]string{agentenv.Model: agentenv.ModelOffline, agentenv.LocalRoot: t.TempDir()}})
	fn.Invoke(t, []byte(`{}`)) // the function process exists from the first invocation on
	emulator := fn.cmd.Process.Pid
	children := childProcesses(emulator)
	if len(children) == 0 {
		t.Fatal("no function process under the emulator")
	}
	fn.Stop()
	for _, pid := range append(children, emulator) {
		if alive(pid) {
			t.Errorf("process %d still runs after Stop", pid)
		}
	}
}

// alive reports whether pid is a process that has not exited (a zombie awaiting its reaper has).
func alive(pid int) bool {
	deadline := time.Now().Add(5 * time.Second) // an orphan's reaping by init is asynchronous
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && strings.HasPrefix(strings.TrimSpace(string(b[i+1:])), "Z") {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTheInitReportIsParsed(t *testing.T) {
	cases := []struct {
		name  string
		logs  string
		want  time.Duration
		found bool
	}{
		{"the emulator's INIT REPORT line gives the duration", "25 Nov 2026 09:22:55,767 [INFO] (rapid) INIT REPORT(durationMs: 18.342000)\n", 18342 * time.Microsecond, true},
		{"whole milliseconds parse too", "INIT REPORT(durationMs: 7)", 7 * time.Millisecond, true},
		{"no init yet, no duration", "START RequestId: x\n", 0, false},
		{"a REPORT line's own Init Duration is not the init phase", "REPORT RequestId: x\tInit Duration: 1.12 ms\t", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, found := parseInitDuration(tc.logs)
			if got != tc.want || found != tc.found {
				t.Fatalf("got %s %v, want %s %v", got, found, tc.want, tc.found)
			}
		})
	}
}
