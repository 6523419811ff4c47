package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestWaterfallGolden(t *testing.T) {
	t0 := time.Date(2026, 6, 8, 20, 31, 5, 0, time.UTC)
	ms := time.Millisecond
	spans := []traceSpan{
		{ID: "c2", Parent: "r", Name: "chat claude-haiku-4-5", Start: t0.Add(2200 * ms), Duration: 600 * ms},
		{ID: "r", Name: "invoke_agent terraform_pr_agent", Start: t0, Duration: 4100 * ms,
			Attrs: []attr{{"gen_ai.operation.name", "invoke_agent"}, {"agent_audit.usage.input_tokens", "2494"}}},
		{ID: "c1", Parent: "r", Name: "chat claude-haiku-4-5", Start: t0.Add(100 * ms), Duration: 900 * ms,
			Attrs: []attr{{"gen_ai.usage.input_tokens", "1247"}, {"gen_ai.input.messages", strings.Repeat("x", 150)}}},
		{ID: "t1", Parent: "r", Name: "execute_tool write_file", Start: t0.Add(1100 * ms), Duration: 200 * ms},
		{ID: "t2", Parent: "r", Name: "execute_tool terraform_validate", Start: t0.Add(2900 * ms), Duration: 300 * ms, Status: "ERROR",
			Attrs: []attr{{"error.type", "tool_error"}}},
	}
	var out bytes.Buffer
	renderTrace(&out, "4bf92f3577b34da6a3ce929d0e0e4736", spans, nil)
	golden := filepath.Join("testdata", "waterfall.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("waterfall differs from %s:\n%s", golden, out.String())
	}
}

// demoRoot runs the demo once into a fresh root shared by the read tests.
func demoRoot(t *testing.T) (root, stdout string) {
	t.Helper()
	root = filepath.Join(t.TempDir(), "demo")
	out, stderr, err := execute(t, "demo", "--runs", "20", "--root", root)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	return root, out
}

func TestDemoRunsTheTour(t *testing.T) {
	root, out := demoRoot(t)
	if !strings.HasPrefix(out, "20 runs into "+root+": 17 ok, 2 failed in the model, 1 rejected event (all audited)") {
		t.Fatalf("summary: %q", strings.SplitN(out, "\n", 2)[0])
	}
	for _, want := range []string{"ThrottlingException", "invoke_agent agent-audit", "execute_tool calculator", "█", "gen_ai.tool.call.result"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if _, _, err := execute(t, "demo", "--root", root); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("demo into a used root: %v", err)
	}
}

func TestTracesQueryAndShowReadTheTrail(t *testing.T) {
	root, _ := demoRoot(t)

	out, _, err := execute(t, "runs", "--root", root, "--status", "error", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var failed []map[string]any
	if err := json.Unmarshal([]byte(out), &failed); err != nil || len(failed) != 3 {
		t.Fatalf("error runs: %d (%v)\n%s", len(failed), err, out)
	}
	for _, r := range failed {
		if r["status"] != "ERROR" {
			t.Fatalf("--status error returned %v", r)
		}
	}
	out, _, _ = execute(t, "runs", "--root", root, "--since", "1h", "--limit", "3")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "started") {
		t.Fatalf("table with limit 3:\n%s", out)
	}
	if _, _, err := execute(t, "runs", "--root", root, "--status", "maybe"); err == nil {
		t.Fatal("accepted --status maybe")
	}

	out, _, err = execute(t, "query", "--root", root, "-o", "csv", "SELECT tool, count(*) AS n FROM tool_calls GROUP BY tool ORDER BY tool")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 4 || strings.Join(recs[0], ",") != "tool,n" || recs[1][0] != "calculator" {
		t.Fatalf("csv %v (%v)", recs, err)
	}

	out, _, _ = execute(t, "query", "--root", root, "-o", "csv", "SELECT trace FROM runs WHERE tool_calls = 1 LIMIT 1")
	id := strings.TrimSpace(strings.Split(out, "\n")[1])
	out, _, err = execute(t, "show", "--root", root, id[:10])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "trace "+id+"  4 spans") || !strings.Contains(out, "  execute_tool ") || !strings.Contains(out, "gen_ai.tool.call.id") {
		t.Fatalf("show:\n%s", out)
	}
	out, _, err = execute(t, "show", "--root", root, "--json", id[:10])
	if err != nil {
		t.Fatal(err)
	}
	var u ptrace.JSONUnmarshaler
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		td, err := u.UnmarshalTraces([]byte(l))
		if err != nil || td.SpanCount() != 4 || td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).TraceID().String() != id {
			t.Fatalf("--json line is not the trace's OTLP record: %v", err)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("--json printed %d records, want 1", len(lines))
	}

	if _, _, err := execute(t, "show", "--root", root, "ffffffffffffffffffffffffffffffff"); err == nil || !strings.Contains(err.Error(), "no trace starts with") {
		t.Errorf("unknown trace: %v", err)
	}
	if _, _, err := execute(t, "show", "--root", root, "xyz"); err == nil || !strings.Contains(err.Error(), "hexadecimal") {
		t.Errorf("bad prefix: %v", err)
	}
	if _, _, err := execute(t, "show", "--root", root, ""); err == nil {
		t.Error("empty prefix accepted")
	}
}

func TestReadCommandsExplainAnEmptyRoot(t *testing.T) {
	_, _, err := execute(t, "runs", "--root", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no audit records") {
		t.Fatalf("err %v", err)
	}
}
