package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/demo"
	"github.com/agent-audit/agent-audit/internal/audittest"
	"github.com/agent-audit/agent-audit/queries"
)

// bigPrompt is over a record on its own: its span's content goes to an oversize object.
var bigPrompt = "Count the words: " + strings.Repeat("lorem ipsum ", 87_000)

// midPrompt fits a record on its own but not together with the other spans of its run: the shipment is split.
var midPrompt = "Count the words: " + strings.Repeat("dolor sit ", 40_000)

// fixture is an audit root written by the function's own handler with the offline model: ordinary runs of two
// conversations, a model failure, a run whose content is stored apart, a run split over several records, and a record object Firehose stored
// twice. ids are the traces in the order run; key is the signing key file.
type fixture struct {
	root, key string
	ids       []string
	// big, split and failed are the IDs of the oversize run, the split run and the failed run.
	big, split, failed string
}

var events = []struct{ prompt, conversation string }{
	{"What is 17 * 23?", "conv-a"},
	{"What time is it in Tokyo?", "conv-a"},
	{"Say hello. [fail:ThrottlingException]", "conv-b"},
	{bigPrompt, "conv-b"},
	{midPrompt, "conv-c"},
	{`How many words are in "the quick brown fox"?`, "conv-c"},
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	f := fixture{root: t.TempDir(), key: filepath.Join(t.TempDir(), "signing-key.pem")}
	cfg := agentaudit.DefaultConfig()
	cfg.Model = agentaudit.ModelOffline
	cfg.LocalRoot = f.root
	cfg.SigningKeyFile = f.key
	cfg.MaxPromptBytes = 1 << 20
	a, err := agentaudit.New(context.Background(), cfg, append(demo.Options(), agentaudit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))...)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		payload, _ := json.Marshal(map[string]string{"prompt": ev.prompt, "conversation_id": ev.conversation})
		resp, err := a.Handler.Handle(context.Background(), payload)
		id := resp.TraceID
		if err != nil {
			m := regexp.MustCompile(`trace_id=([0-9a-f]{32})`).FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("event %.40s: %v", ev.prompt, err)
			}
			id = m[1]
			f.failed = id
		}
		switch ev.prompt {
		case bigPrompt:
			f.big = id
		case midPrompt:
			f.split = id
		}
		f.ids = append(f.ids, id)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if over, _ := filepath.Glob(filepath.Join(f.root, "oversize", "*", "*", "*", "*", "*", "*.json.gz")); len(over) == 0 {
		t.Fatal("no oversize object written: the fixture no longer exercises putting content back")
	}
	// Firehose stores a record twice when an acknowledgement is lost, the copy possibly in a later hour's
	// partition (where the views keep it: their de-duplication is per partition): copy the first object there.
	objects := recordObjects(t, f.root)
	data, err := os.ReadFile(objects[0])
	if err != nil {
		t.Fatal(err)
	}
	hourDir := filepath.Dir(objects[0])
	var hour int
	if _, err := fmt.Sscanf(filepath.Base(hourDir), "hour=%d", &hour); err != nil {
		t.Fatal(err)
	}
	later := filepath.Join(filepath.Dir(hourDir), fmt.Sprintf("hour=%02d", (hour+1)%24))
	if err := os.MkdirAll(later, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(later, filepath.Base(objects[0])+"-retried"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func recordObjects(t *testing.T, root string) []string {
	t.Helper()
	objects, err := filepath.Glob(filepath.Join(root, "traces", "*", "*", "*", "*", "*"))
	if err != nil || len(objects) == 0 {
		t.Fatalf("no record objects under %s: %v", root, err)
	}
	return objects
}

func openDB(t *testing.T, root string) *sql.DB {
	t.Helper()
	db, err := queries.Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// storedSpan is a span as the trail holds it, read without this package: its first record's copy, with the
// content of its oversize object (if any) added, and that record's resource.
type storedSpan struct {
	span     ptrace.Span
	resource pcommon.Map
	parts    int64
}

// stored reads every record of root with internal/audittest and the Collector's unmarshaler, keeps the first
// copy of each span, and adds the content oversize objects hold.
func stored(t *testing.T, root string) map[string]storedSpan {
	t.Helper()
	records, _ := audittest.ReadRoot(t, root, "traces")
	out := map[string]storedSpan{}
	var u ptrace.JSONUnmarshaler
	for _, rec := range records {
		td, err := u.UnmarshalTraces(rec)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			parts, _ := rs.Resource().Attributes().Get(audit.AttrParts)
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				for k := 0; k < rs.ScopeSpans().At(j).Spans().Len(); k++ {
					s := rs.ScopeSpans().At(j).Spans().At(k)
					key := s.TraceID().String() + "/" + s.SpanID().String()
					if _, dup := out[key]; dup {
						continue
					}
					if ref, ok := s.Attributes().Get(audit.AttrOversizeKey); ok {
						addOversize(t, filepath.Join(root, filepath.FromSlash(ref.Str())), s)
					}
					out[key] = storedSpan{span: s, resource: rs.Resource().Attributes(), parts: parts.Int()}
				}
			}
		}
	}
	return out
}

func addOversize(t *testing.T, path string, s ptrace.Span) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(data)
	if err != nil {
		t.Fatal(err)
	}
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Range(func(k string, v pcommon.Value) bool {
		v.CopyTo(s.Attributes().PutEmpty(k))
		return true
	})
}

// compareSpans checks that got holds every span of want exactly once, each field as stored, and returns the
// differences.
func compareSpans(got []ptrace.Traces, want map[string]storedSpan, stripped bool) []string {
	var diffs []string
	seen := map[string]int{}
	for _, td := range got {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				for k := 0; k < rs.ScopeSpans().At(j).Spans().Len(); k++ {
					s := rs.ScopeSpans().At(j).Spans().At(k)
					key := s.TraceID().String() + "/" + s.SpanID().String()
					seen[key]++
					w, ok := want[key]
					if !ok {
						diffs = append(diffs, "unexpected span "+key)
						continue
					}
					diffs = append(diffs, diffSpan(key, s, rs.Resource().Attributes(), w, stripped)...)
				}
			}
		}
	}
	for key := range want {
		if seen[key] != 1 {
			diffs = append(diffs, fmt.Sprintf("span %s arrived %d times", key, seen[key]))
		}
	}
	return diffs
}

func diffSpan(key string, s ptrace.Span, res pcommon.Map, w storedSpan, stripped bool) []string {
	var diffs []string
	check := func(field string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			g, wv := fmt.Sprint(got), fmt.Sprint(want)
			diffs = append(diffs, fmt.Sprintf("span %s %s: got %.200s, want %.200s", key, field, g, wv))
		}
	}
	ws := w.span
	check("parent", s.ParentSpanID(), ws.ParentSpanID())
	check("name", s.Name(), ws.Name())
	check("kind", s.Kind(), ws.Kind())
	check("start", s.StartTimestamp(), ws.StartTimestamp())
	check("end", s.EndTimestamp(), ws.EndTimestamp())
	check("status", [2]any{s.Status().Code(), s.Status().Message()}, [2]any{ws.Status().Code(), ws.Status().Message()})
	check("events", eventsRaw(s), eventsRaw(ws))
	wantAttrs := ws.Attributes().AsRaw()
	wantRes := w.resource.AsRaw()
	if stripped {
		for _, k := range AuditSpanAttributes {
			delete(wantAttrs, k)
		}
		for _, k := range AuditResourceAttributes {
			delete(wantRes, k)
		}
	}
	check("attributes", s.Attributes().AsRaw(), wantAttrs)
	check("resource", res.AsRaw(), wantRes)
	return diffs
}

func eventsRaw(s ptrace.Span) []any {
	var out []any
	for i := 0; i < s.Events().Len(); i++ {
		e := s.Events().At(i)
		out = append(out, []any{e.Name(), e.Timestamp(), e.Attributes().AsRaw()})
	}
	return out
}
