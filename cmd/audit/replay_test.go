package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/internal/collectortest"
	"github.com/agent-audit/agent-audit/internal/ssmtest"
	"github.com/agent-audit/agent-audit/trail/replay"
)

func TestReplaySendsTheDemoRootToARealCollector(t *testing.T) {
	root, _ := demoRoot(t)
	var spans int
	{
		out, _, err := execute(t, "query", "--root", root, "-o", "csv", "SELECT count(*) AS n FROM spans")
		if err != nil {
			t.Fatal(err)
		}
		spans = atoi(t, strings.Fields(strings.Split(out, "\n")[1])[0])
	}
	for _, protocol := range []string{"http/protobuf", "http/json"} {
		t.Run(protocol, func(t *testing.T) {
			c := collectortest.Start(t)
			stdout, stderr, err := execute(t, "replay", "--root", root, "--otlp-endpoint", c.Endpoint, "--protocol", protocol)
			if err != nil {
				t.Fatalf("replay: %v\n%s%s", err, stdout, stderr)
			}
			if !strings.Contains(stdout, "replayed 20 of 20 traces to "+c.Endpoint+"/v1/traces ("+protocol+")") {
				t.Errorf("summary %q", stdout)
			}
			if stderr != "" {
				t.Errorf("progress or noise on a pipe: %q", stderr)
			}
			got := c.WaitSpans(t, spans, time.Minute)
			n := 0
			for _, td := range got {
				n += td.SpanCount()
			}
			if n != spans {
				t.Errorf("the Collector wrote %d spans, the trail holds %d", n, spans)
			}
		})
	}
}

func TestReplaySelectsOneTraceByPrefix(t *testing.T) {
	root, _ := demoRoot(t)
	out, _, err := execute(t, "query", "--root", root, "-o", "csv", "SELECT trace, count(*) FROM spans GROUP BY trace ORDER BY trace LIMIT 1")
	if err != nil {
		t.Fatal(err)
	}
	row := strings.Split(strings.Split(out, "\n")[1], ",")
	c := collectortest.Start(t)
	stdout, _, err := execute(t, "replay", "--root", root, "--otlp-endpoint", c.Endpoint+"/v1/traces", "--trace", row[0][:12])
	if err != nil || !strings.Contains(stdout, "replayed 1 of 1 traces") {
		t.Fatalf("replay --trace: %v\n%s", err, stdout)
	}
	got := c.WaitSpans(t, atoi(t, row[1]), time.Minute)
	if id := got[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID().String(); id != row[0] {
		t.Errorf("sent trace %s, want %s", id, row[0])
	}
}

func TestReplayExitsNonZeroWhenAnythingIsNotDelivered(t *testing.T) {
	root, _ := demoRoot(t)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	t.Setenv(replay.EnvTimeout, "200")
	stdout, _, err := execute(t, "replay", "--root", root, "--otlp-endpoint", "http://"+addr, "--status", "error")
	if exitCode(err) != ExitProblems {
		t.Fatalf("exit %d (%v), want %d", exitCode(err), err, ExitProblems)
	}
	if !strings.Contains(stdout, "replayed 0 of") || !strings.Contains(stdout, "not delivered") {
		t.Errorf("summary %q does not list the failures", stdout)
	}
}

func TestReplayLogfireTokenNeverReachesTheOutput(t *testing.T) {
	root, _ := demoRoot(t)
	const token = "pylf_v1_eu_replaytokenthatmustnotleak0123"
	var sawToken bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawToken = r.Header.Get("Authorization") == token && r.URL.Path == "/v1/traces"
		http.Error(w, "unknown token "+r.Header.Get("Authorization"), http.StatusUnauthorized)
	}))
	defer srv.Close()
	t.Setenv(EnvLogfireToken, token)
	t.Setenv("LOGFIRE_BASE_URL", srv.URL)
	stdout, stderr, err := execute(t, "replay", "--root", root, "--logfire", "--conversation", "demo-0")
	if !sawToken || exitCode(err) != ExitProblems {
		t.Fatalf("token sent %v, exit %d (%v)", sawToken, exitCode(err), err)
	}
	if strings.Contains(stdout+stderr+err.Error(), token) {
		t.Errorf("the token reached the output:\n%s%s%v", stdout, stderr, err)
	}
}

func TestReplayUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"grpc is not OTLP/HTTP", []string{"--protocol", "grpc"}, "grpc"},
		{"two destinations", []string{"--logfire", "--otlp-endpoint", "http://localhost:4318"}, "one destination"},
		{"a bad status", []string{"--status", "warn"}, "--status"},
		{"until before since", []string{"--since", "2026-11-02", "--until", "2026-11-01"}, "not after"},
		{"a header without a value", []string{"--header", "Authorization"}, "K=V"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := execute(t, append([]string{"replay", "--root", t.TempDir()}, tt.args...)...)
			var e *exitError
			if !errors.As(err, &e) || e.code != ExitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want a usage error naming %q", err, tt.want)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

func TestReplayLogfireReadsTheTokenFromSSM(t *testing.T) {
	root, _ := demoRoot(t)
	const token = "pylf_v1_eu_tokenfromssmparameter0123456789"
	params := ssmtest.New(t, map[string]string{"/agent-audit-dev-logfire/logfire-token": token})
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_SSM", params.URL)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv(EnvLogfireToken, "")
	t.Setenv("LOGFIRE_BASE_URL", srv.URL)

	stdout, _, err := execute(t, "replay", "--root", root, "--logfire", "--logfire-token-parameter", "/agent-audit-dev-logfire/logfire-token", "--conversation", "demo-0")
	if err != nil || got.Load() != token {
		t.Fatalf("replay: %v\n%s\nthe server saw Authorization %v", err, stdout, got.Load() != nil)
	}
	if calls, decrypted := params.Calls(); calls != 1 || !decrypted[0] {
		t.Errorf("%d GetParameter calls, decrypted %v: want one, with decryption", calls, decrypted)
	}
	_, _, err = execute(t, "replay", "--root", root, "--logfire", "--logfire-token-parameter", "/missing")
	if exitCode(err) != ExitCannotCheck || !strings.Contains(err.Error(), "ParameterNotFound") {
		t.Errorf("a missing parameter: exit %d, %v", exitCode(err), err)
	}
}

func TestReplayQueryThatReturnsNoTraceIDsIsAUsageError(t *testing.T) {
	root, _ := demoRoot(t)
	_, _, err := execute(t, "replay", "--root", root, "--otlp-endpoint", "http://127.0.0.1:1", "--query", "SELECT model FROM runs")
	if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "first column") {
		t.Errorf("exit %d, %v: want a usage error naming the query's first column", exitCode(err), err)
	}
}

func TestReplayVerifyRefusesATamperedRun(t *testing.T) {
	root, _ := demoRoot(t)
	objects, _ := filepath.Glob(filepath.Join(root, "traces", "*", "*", "*", "*", "*"))
	tampered := 0
	for _, path := range objects {
		raw, _ := os.ReadFile(path)
		data, err := gunzip(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("What is 1 * 23?")) {
			continue
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(bytes.ReplaceAll(data, []byte("What is 1 * 23?"), []byte("What is 1 * 24?")))
		zw.Close()
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		tampered++
	}
	if tampered == 0 {
		t.Fatal("the demo no longer asks 1 * 23: nothing to tamper with")
	}
	c := collectortest.Start(t)
	stdout, _, err := execute(t, "replay", "--root", root, "--otlp-endpoint", c.Endpoint, "--verify")
	if exitCode(err) != ExitProblems {
		t.Fatalf("exit %d (%v), want %d\n%s", exitCode(err), err, ExitProblems, stdout)
	}
	if !strings.Contains(stdout, "replayed 19 of 20 traces") || !strings.Contains(stdout, "refused: its records fail verification: bad-signature") {
		t.Errorf("summary %q: want the tampered run refused and the others sent", stdout)
	}
}
