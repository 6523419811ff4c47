package collectortest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/internal/proctest"
)

// startTimeout bounds how long Start waits for the receiver to listen.
const startTimeout = 60 * time.Second

// Collector is one running test Collector. Its fields are read-only.
type Collector struct {
	// Endpoint is the OTLP/HTTP base URL, http://127.0.0.1:<port>; traces go to Endpoint + "/v1/traces".
	Endpoint string

	out  string
	logs *proctest.Output
}

// config is the Collector's configuration: OTLP/HTTP only (no gRPC port to collide on), the file exporter
// flushing every 50 ms, and no telemetry server of its own (its default :8888 would collide between tests).
const config = `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  file:
    path: %s
    flush_interval: 50ms
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
`

// Start runs a fresh Collector and stops it (its process group) when the test ends. It fails the test if the
// Collector cannot be built or does not listen within a minute.
func Start(t testing.TB) *Collector {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // a free port can be taken between probe and bind
		c, err := start(t, bin, dir, attempt)
		if err == nil {
			return c
		}
		lastErr = err
	}
	t.Fatalf("collectortest: %v", lastErr)
	return nil
}

func start(t testing.TB, bin, dir string, attempt int) (*Collector, error) {
	port := proctest.FreePort()
	if port == 0 {
		return nil, errors.New("no free port on 127.0.0.1")
	}
	c := &Collector{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		out:      filepath.Join(dir, fmt.Sprintf("traces-%d.jsonl", attempt)),
		logs:     &proctest.Output{},
	}
	cfgPath := filepath.Join(dir, fmt.Sprintf("config-%d.yaml", attempt))
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, config, port, c.out), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = c.logs, c.logs
	exited, stop, err := proctest.StartGroup(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	if err := waitListening(port, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w\ncollector output:\n%s", err, c.logs.String())
	}
	t.Cleanup(stop)
	return c, nil
}

// waitListening polls the receiver's port until it accepts connections.
func waitListening(port int, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			return errors.New("the Collector exited before listening")
		default:
		}
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Collector did not listen on port %d within %s", port, startTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Logs returns what the Collector wrote to stdout and stderr so far.
func (c *Collector) Logs() string { return c.logs.String() }

// WaitSpans waits until the file exporter has written at least n spans, or until timeout, and returns every
// request it wrote, each decoded with the Collector's own JSON unmarshaler. It fails t on timeout or on a line
// that does not decode.
func (c *Collector) WaitSpans(t testing.TB, n int, timeout time.Duration) []ptrace.Traces {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, spans, err := c.read()
		if err != nil {
			t.Fatalf("collectortest: %v", err)
		}
		if spans >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("collectortest: the Collector wrote %d spans within %s, want %d\ncollector output:\n%s", spans, timeout, n, c.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// read decodes the complete lines the file exporter wrote so far.
func (c *Collector) read() ([]ptrace.Traces, int, error) {
	data, err := os.ReadFile(c.out)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1] // a line still being written is read next time
	} else {
		return nil, 0, nil
	}
	var out []ptrace.Traces
	spans := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var u ptrace.JSONUnmarshaler
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		td, err := u.UnmarshalTraces(sc.Bytes())
		if err != nil {
			return nil, 0, fmt.Errorf("the file exporter wrote a line that is not OTLP/JSON: %w", err)
		}
		out = append(out, td)
		spans += td.SpanCount()
	}
	return out, spans, sc.Err()
}
