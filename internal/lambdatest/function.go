package lambdatest

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/internal/proctest"
)

// Defaults of the function's Lambda settings.
const (
	// DefaultRegion is the AWS_REGION the function runs in unless Options.Env sets one.
	DefaultRegion = "eu-west-1"
	// DefaultTimeout is the function timeout (AWS_LAMBDA_FUNCTION_TIMEOUT) unless Options.Timeout sets one.
	DefaultTimeout = 30 * time.Second
	// readyTimeout bounds how long Start waits for the emulator to listen.
	readyTimeout = 30 * time.Second
	// stopGrace is how long Stop lets the emulator shut the function down after SIGTERM before killing both.
	stopGrace = 5 * time.Second
)

// Options configure one function.
type Options struct {
	// Bootstrap is the executable to run; empty builds the function with Build.
	Bootstrap string
	// Env is the function's configuration. It overrides the base environment: PATH, AWS_REGION and
	// AWS_DEFAULT_REGION (DefaultRegion), generated AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
	// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE (/dev/null), AWS_EC2_METADATA_DISABLED, and Lambda's
	// AWS_LAMBDA_FUNCTION_NAME / _TIMEOUT / _MEMORY_SIZE. Nothing else of the test process's environment reaches
	// the function.
	Env map[string]string
	// Timeout is the function timeout; zero is DefaultTimeout. Whole seconds, as Lambda's.
	Timeout time.Duration
}

// Function is one running emulator with the function behind it. Safe for concurrent use; the emulator, like one
// Lambda execution environment, serves one invocation at a time.
type Function struct {
	// URL is the emulator's base URL, http://127.0.0.1:<port>.
	URL string
	// Env is the complete environment the emulator and the function were started with.
	Env map[string]string

	cmd    *exec.Cmd
	exited <-chan struct{}
	logs   *proctest.Output
	once   sync.Once
}

// Start runs the function under the emulator and stops both when the test ends. The emulator initialises the
// function lazily, at the first invocation, as Lambda does on a cold start.
func Start(t testing.TB, opts Options) *Function {
	t.Helper()
	rie := Emulator(t)
	bootstrap := opts.Bootstrap
	if bootstrap == "" {
		bootstrap = Build(t)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	env := baseEnv(timeout)
	for k, v := range opts.Env {
		env[k] = v
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken between probe and bind
		f, err := start(rie, bootstrap, env)
		if err == nil {
			t.Cleanup(f.Stop)
			return f
		}
		lastErr = err
	}
	t.Fatalf("lambdatest: %v", lastErr)
	return nil
}

func start(rie, bootstrap string, env map[string]string) (*Function, error) {
	apiPort, runtimePort := proctest.FreePort(), proctest.FreePort()
	if apiPort == 0 || runtimePort == 0 {
		return nil, fmt.Errorf("no free port on 127.0.0.1")
	}
	f := &Function{
		URL:  "http://127.0.0.1:" + strconv.Itoa(apiPort),
		Env:  env,
		logs: &proctest.Output{},
	}
	f.cmd = exec.Command(rie,
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(runtimePort),
		bootstrap)
	f.cmd.Dir = filepath.Dir(bootstrap)
	f.cmd.Env = envList(env)
	f.cmd.Stdout, f.cmd.Stderr = f.logs, f.logs
	exited, _, err := proctest.StartGroup(f.cmd) // Stop kills the group its own way: SIGTERM first, then children
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", rie, err)
	}
	f.exited = exited

	deadline := time.Now().Add(readyTimeout)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(apiPort), time.Second)
		if err == nil {
			conn.Close()
			return f, nil
		}
		select {
		case <-f.exited:
			return nil, fmt.Errorf("the emulator exited before listening:\n%s", f.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			f.Stop()
			return nil, fmt.Errorf("the emulator did not listen on %s within %s:\n%s", f.URL, readyTimeout, f.logs.String())
		}
	}
}

// Stop shuts the execution environment down as Lambda does: SIGTERM to the emulator, which passes it on to the
// function (the runtime's SIGTERM hook runs); whatever still runs after a grace period is killed. Stop waits until
// the emulator and the function are gone; later calls do nothing.
func (f *Function) Stop() {
	f.once.Do(func() {
		children := childProcesses(f.cmd.Process.Pid) // the function runs in its own process group
		_ = f.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-f.exited:
		case <-time.After(stopGrace):
		}
		_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
		for _, pid := range children {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		<-f.exited
	})
}

// Logs returns everything the emulator and the function wrote to stdout and stderr so far: the emulator's
// START/END/REPORT and INIT lines and the function's own log lines, as CloudWatch Logs would receive them.
func (f *Function) Logs() string { return f.logs.String() }

// Credentials returns the fake AWS credentials the function runs with (to assert they never reach a log).
func (f *Function) Credentials() (accessKeyID, secretAccessKey, sessionToken string) {
	return f.Env["AWS_ACCESS_KEY_ID"], f.Env["AWS_SECRET_ACCESS_KEY"], f.Env["AWS_SESSION_TOKEN"]
}

// baseEnv is the environment every function gets; credentials are generated afresh, never literals.
func baseEnv(timeout time.Duration) map[string]string {
	secs := int(timeout.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"AWS_REGION":                      DefaultRegion,
		"AWS_DEFAULT_REGION":              DefaultRegion,
		"AWS_ACCESS_KEY_ID":               "ASIA" + strings.ToUpper(randomBase32(10)),
		"AWS_SECRET_ACCESS_KEY":           base64.RawStdEncoding.EncodeToString(randomBytes(30)),
		"AWS_SESSION_TOKEN":               base64.RawStdEncoding.EncodeToString(randomBytes(120)),
		"AWS_CONFIG_FILE":                 os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":     os.DevNull,
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_LAMBDA_FUNCTION_NAME":        "agent-audit",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(secs),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
	}
}

func envList(env map[string]string) []string {
	list := make([]string, 0, len(env))
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	return list
}

// childProcesses lists the direct children of pid from /proc (empty where there is no /proc).
func childProcesses(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses, so parse after the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		if child, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			out = append(out, child)
		}
	}
	return out
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomBase32(n int) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(randomBytes(n))
}
