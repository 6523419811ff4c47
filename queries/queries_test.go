package queries

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/demo"
)

// produce runs the real function (offline model, local Firehose-layout sink) once per event into root and
// returns the trace ID of each invocation, failed ones included.
func produce(t *testing.T, root string, mutate func(*agentaudit.Config), opts []agentaudit.Option, events ...string) []string {
	t.Helper()
	cfg := agentaudit.DefaultConfig()
	cfg.Model = agentaudit.ModelOffline
	cfg.LocalRoot = root
	if mutate != nil {
		mutate(&cfg)
	}
	opts = append(append(demo.Options(), agentaudit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))), opts...)
	a, err := agentaudit.New(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range events {
		resp, err := a.Handler.Handle(context.Background(), []byte(ev))
		if err != nil {
			m := regexp.MustCompile(`trace_id=([0-9a-f]{32})`).FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("event %s: %v", ev, err)
			}
			ids = append(ids, m[1])
			continue
		}
		ids = append(ids, resp.TraceID)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ids
}

func open(t *testing.T, root string) *sql.DB {
	t.Helper()
	db, err := Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rows returns every row of query as column → value maps.
func rows(t *testing.T, db *sql.DB, query string, args ...any) []map[string]any {
	t.Helper()
	r, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer r.Close()
	cols, _ := r.Columns()
	var out []map[string]any
	for r.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := map[string]any{}
		for i, c := range cols {
			row[c] = vals[i]
		}
		out = append(out, row)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestEveryColumnOfEveryViewForARunWithATool(t *testing.T) {
	root := t.TempDir()
	ids := produce(t, root, nil, nil, `{"prompt":"What is 17 * 23?","conversation_id":"conv-9"}`)
	db := open(t, root)
	now := time.Now().UTC()

	chats := rows(t, db, "SELECT * FROM traces ORDER BY started")
	if len(chats) != 2 {
		t.Fatalf("%d chat rows, want 2", len(chats))
	}
	for i, c := range chats {
		if c["trace"] != ids[0] || c["model"] != "offline" || c["conversation_id"] != "conv-9" || c["status"] != "UNSET" ||
			c["system_prompt"] != demo.SystemPrompt || c["user_prompt"] != "What is 17 * 23?" || c["error_type"] != nil {
			t.Errorf("chat %d: %v", i, c)
		}
		if c["dur_ms"].(float64) <= 0 || c["in_tokens"].(int64) <= 0 || c["out_tokens"].(int64) <= 0 || c["started"].(time.Time).IsZero() {
			t.Errorf("chat %d timing/usage: %v", i, c)
		}
		if !hex32.MatchString(c["batch_key"].(string)) || !strings.Contains(c["source_file"].(string), "/traces/year=") {
			t.Errorf("chat %d framing: %v / %v", i, c["batch_key"], c["source_file"])
		}
		if c["year"] != int32(now.Year()) || c["month"] != int32(now.Month()) || c["day"] != int32(now.Day()) {
			t.Errorf("chat %d partition %v-%v-%v", i, c["year"], c["month"], c["day"])
		}
		for _, k := range []string{"input_messages", "output_messages"} {
			if !json.Valid([]byte(c[k].(string))) {
				t.Errorf("chat %d %s is not JSON", i, k)
			}
		}
	}
	if chats[0]["finish"] != "tool_call" || chats[0]["assistant_response"] != nil || chats[1]["finish"] != "stop" || chats[1]["assistant_response"] != "17 * 23 = 391" {
		t.Errorf("finish/response: %v %v / %v %v", chats[0]["finish"], chats[0]["assistant_response"], chats[1]["finish"], chats[1]["assistant_response"])
	}

	runs := rows(t, db, "SELECT * FROM runs")
	if len(runs) != 1 {
		t.Fatalf("%d runs", len(runs))
	}
	r := runs[0]
	sumIn := chats[0]["in_tokens"].(int64) + chats[1]["in_tokens"].(int64)
	sumOut := chats[0]["out_tokens"].(int64) + chats[1]["out_tokens"].(int64)
	if r["trace"] != ids[0] || r["agent"] != "agent-audit" || r["model"] != "offline" || r["in_tokens"] != sumIn || r["out_tokens"] != sumOut ||
		r["turns"] != int64(2) || r["tool_calls"] != int64(1) || r["status"] != "UNSET" || r["error_type"] != nil ||
		r["conversation_id"] != "conv-9" || r["user_prompt"] != "What is 17 * 23?" || r["output"] != "17 * 23 = 391" {
		t.Errorf("run %v (chat token sums %d/%d)", r, sumIn, sumOut)
	}
	if r["dur_ms"].(float64) < chats[0]["dur_ms"].(float64)+chats[1]["dur_ms"].(float64) {
		t.Errorf("the run is shorter than its model calls: %v", r["dur_ms"])
	}

	tools := rows(t, db, "SELECT * FROM tool_calls")
	if len(tools) != 1 || tools[0]["tool"] != "calculator" || tools[0]["trace"] != ids[0] || tools[0]["status"] != "UNSET" ||
		tools[0]["arguments"] != `{"expression":"17 * 23"}` || tools[0]["result"] != `{"expression":"17 * 23","value":"391"}` ||
		!strings.HasPrefix(tools[0]["call_id"].(string), "tooluse_") {
		t.Errorf("tool calls %v", tools)
	}
}

func TestASplitTraceAndADuplicatedRecordReadAsOneTrace(t *testing.T) {
	root := t.TempDir()
	const limit = 2500
	produce(t, root, nil, []agentaudit.Option{
		agentaudit.WithProcessorOptions(audit.WithMaxRecordBytes(limit)),
		agentaudit.WithLocalSinkOptions(audit.WithLocalMaxRecordBytes(limit)),
	}, `{"prompt":"What is 17 * 23?"}`)
	db := open(t, root)
	parts := rows(t, db, "SELECT DISTINCT batch_key, part, parts FROM spans")
	if len(parts) < 2 {
		t.Fatalf("the trace was not split (%d records); lower the limit", len(parts))
	}
	assertOneRun := func() {
		t.Helper()
		if n := rows(t, db, "SELECT count(*) AS n FROM spans")[0]["n"]; n != int64(4) {
			t.Fatalf("%v spans, want 4", n)
		}
		if n := rows(t, db, "SELECT count(*) AS n FROM runs")[0]["n"]; n != int64(1) {
			t.Fatalf("%v runs, want 1", n)
		}
		if n := rows(t, db, "SELECT count(*) AS n FROM traces")[0]["n"]; n != int64(2) {
			t.Fatalf("%v chat rows, want 2", n)
		}
	}
	assertOneRun()

	// Firehose stores an object again after a lost acknowledgement: same records, another object.
	objects, _ := filepath.Glob(filepath.Join(root, "traces", "*", "*", "*", "*", "*.gz"))
	data, err := os.ReadFile(objects[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(objects[0], ".gz")+"-retry.gz", data, 0o644); err != nil {
		t.Fatal(err)
	}
	assertOneRun()
}

func TestFailedRunsAndRejectedEvents(t *testing.T) {
	root := t.TempDir()
	ids := produce(t, root, nil, nil, `{"prompt":"hi [fail:ThrottlingException]"}`, `{"prompt":42}`)
	db := open(t, root)
	got := map[string]map[string]any{}
	for _, r := range rows(t, db, "SELECT trace, status, error_type, status_message, turns FROM runs") {
		got[r["trace"].(string)] = r
	}
	if r := got[ids[0]]; r["status"] != "ERROR" || r["error_type"] != "ThrottlingException" || r["turns"] != int64(1) {
		t.Errorf("failed run %v", r)
	}
	if r := got[ids[1]]; r["status"] != "ERROR" || r["error_type"] != "invalid_request" || !strings.Contains(fmt.Sprint(r["status_message"]), "prompt: must be a string") {
		t.Errorf("rejected event %v", r)
	}
	chat := rows(t, db, "SELECT status, error_type FROM traces WHERE trace = ?", ids[0])
	if len(chat) != 1 || chat[0]["status"] != "ERROR" || chat[0]["error_type"] != "ThrottlingException" {
		t.Errorf("failed chat %v", chat)
	}
}

func TestContentOffLeavesContentColumnsNull(t *testing.T) {
	root := t.TempDir()
	produce(t, root, func(c *agentaudit.Config) { c.CaptureContent = false }, nil, `{"prompt":"What is 6 * 7?"}`)
	db := open(t, root)
	for _, c := range rows(t, db, "SELECT * FROM traces") {
		for _, k := range []string{"system_prompt", "user_prompt", "assistant_response", "input_messages", "output_messages"} {
			if c[k] != nil {
				t.Errorf("%s = %v with content off", k, c[k])
			}
		}
		if c["in_tokens"] == nil || c["finish"] == nil || c["model"] != "offline" {
			t.Errorf("metadata lost with content off: %v", c)
		}
	}
	for _, tc := range rows(t, db, "SELECT * FROM tool_calls") {
		if tc["arguments"] != nil || tc["result"] != nil || tc["tool"] != "calculator" {
			t.Errorf("tool call with content off: %v", tc)
		}
	}
	if r := rows(t, db, "SELECT user_prompt, output, tool_calls FROM runs")[0]; r["user_prompt"] != nil || r["output"] != nil || r["tool_calls"] != int64(1) {
		t.Errorf("run with content off: %v", r)
	}
}

func TestPartitionFiltersPruneObjects(t *testing.T) {
	root := t.TempDir()
	for _, day := range []time.Time{time.Date(2026, 6, 8, 20, 0, 0, 0, time.UTC), time.Date(2026, 6, 9, 9, 0, 0, 0, time.UTC)} {
		produce(t, root, nil, []agentaudit.Option{agentaudit.WithLocalSinkOptions(audit.WithClock(func() time.Time { return day }))},
			`{"prompt":"What is 1 + 1?"}`, `{"prompt":"What is 2 + 2?"}`)
	}
	db := open(t, root)
	filesRead := func(query string) string {
		t.Helper()
		var plan strings.Builder
		for _, r := range rows(t, db, "EXPLAIN ANALYZE "+query) {
			for _, v := range r {
				fmt.Fprint(&plan, v)
			}
		}
		m := regexp.MustCompile(`Total Files Read: (\d+)`).FindStringSubmatch(plan.String())
		if m == nil {
			t.Fatalf("no file count in the plan of %s", query)
		}
		return m[1]
	}
	for _, view := range []string{"spans", "traces", "runs", "tool_calls"} {
		if n := filesRead("SELECT count(*) FROM " + view); n != "4" {
			t.Errorf("%s unfiltered read %s objects, want all 4", view, n)
		}
		if n := filesRead("SELECT count(*) FROM " + view + " WHERE year = 2026 AND month = 6 AND day = 9"); n != "2" {
			t.Errorf("%s filtered to one day read %s objects, want 2", view, n)
		}
	}
	if n := rows(t, db, "SELECT count(*) AS n FROM runs WHERE day = 8")[0]["n"]; n != int64(2) {
		t.Errorf("%v runs on day 8, want 2", n)
	}
}

func TestOpenSaysWhatIsMissing(t *testing.T) {
	_, err := Open(context.Background(), t.TempDir())
	if !errors.Is(err, ErrNoRecords) || !strings.Contains(err.Error(), "audit run") {
		t.Errorf("empty root: %v", err)
	}
	// S3: this machine cannot download DuckDB's httpfs extension; a user's can, and then fails on the
	// (nonexistent) bucket. Either way Open must fail with an error that says what it was doing.
	_, err = Open(context.Background(), "s3://agent-audit-test-no-such-bucket-0")
	if err == nil {
		t.Fatal("opened a bucket that does not exist")
	}
	if !strings.Contains(err.Error(), "httpfs") && !strings.Contains(err.Error(), "agent-audit-test-no-such-bucket-0") {
		t.Errorf("S3 error does not say what failed: %v", err)
	}
}

func TestTheScriptIsIdempotent(t *testing.T) {
	root := t.TempDir()
	produce(t, root, nil, nil, `{}`)
	db := open(t, root)
	if _, err := db.Exec(TracesSQL); err != nil {
		t.Fatalf("re-running traces.sql: %v", err)
	}
	if n := rows(t, db, "SELECT count(*) AS n FROM runs")[0]["n"]; n != int64(1) {
		t.Fatalf("%v runs after re-running the script", n)
	}
}

func TestEveryOperatorQuestionRuns(t *testing.T) {
	root := t.TempDir()
	produce(t, root, nil, nil,
		`{"prompt":"What is 17 * 23?","conversation_id":"conv-9"}`,
		`{"prompt":"then fail [fail:ThrottlingException]","conversation_id":"conv-9"}`,
		`{"prompt":"What is 1 / 0?","conversation_id":"conv-9"}`)
	db := open(t, root)
	if _, err := db.Exec("SET VARIABLE conversation = 'conv-9'; SET VARIABLE token_budget = 100"); err != nil {
		t.Fatal(err)
	}
	questions := Questions()
	if len(questions) != 6 {
		t.Fatalf("%d questions, want 6", len(questions))
	}
	want := []int{1, 3, 1, 1, 7, 2} // rows each question returns for these three runs
	for i, q := range questions {
		got := rows(t, db, q)
		if len(got) != want[i] {
			t.Errorf("question %d returned %d rows, want %d:\n%s", i+1, len(got), want[i], q)
		}
	}
}
