package audittest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Span is one decoded span with the record it came from, flattened for assertions.
type Span struct {
	TraceID, SpanID, ParentSpanID string
	Name                          string
	Kind                          ptrace.SpanKind
	StatusCode                    ptrace.StatusCode
	StatusMessage                 string
	Attrs                         map[string]any
	Events                        []Event
	Resource                      map[string]any
	Scope                         string
	// Record is the index of the record in the decoded input.
	Record int
}

// Event is one decoded span event.
type Event struct {
	Name  string
	Attrs map[string]any
}

// Decode parses every record (one OTLP/JSON export request per line) with the Collector's unmarshaler and
// returns all spans in order. A record that does not parse, or is not exactly one '\n'-terminated line, fails t.
func Decode(t testing.TB, records [][]byte) []Span {
	t.Helper()
	var out []Span
	var u ptrace.JSONUnmarshaler
	for i, rec := range records {
		if len(rec) == 0 || rec[len(rec)-1] != '\n' || bytes.Count(rec, []byte("\n")) != 1 {
			t.Fatalf("record %d is not one newline-terminated line (%d bytes)", i, len(rec))
		}
		td, err := u.UnmarshalTraces(rec)
		if err != nil {
			t.Fatalf("record %d does not parse as OTLP/JSON: %v", i, err)
		}
		out = append(out, flatten(td, i)...)
	}
	return out
}

func flatten(td ptrace.Traces, record int) []Span {
	var out []Span
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		res := rs.Resource().Attributes().AsRaw()
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			for k := 0; k < ss.Spans().Len(); k++ {
				s := ss.Spans().At(k)
				sp := Span{
					TraceID:       hexID(s.TraceID()),
					SpanID:        hexSpanID(s.SpanID()),
					ParentSpanID:  hexSpanID(s.ParentSpanID()),
					Name:          s.Name(),
					Kind:          s.Kind(),
					StatusCode:    s.Status().Code(),
					StatusMessage: s.Status().Message(),
					Attrs:         s.Attributes().AsRaw(),
					Resource:      res,
					Scope:         ss.Scope().Name(),
					Record:        record,
				}
				for e := 0; e < s.Events().Len(); e++ {
					ev := s.Events().At(e)
					sp.Events = append(sp.Events, Event{Name: ev.Name(), Attrs: ev.Attributes().AsRaw()})
				}
				out = append(out, sp)
			}
		}
	}
	return out
}

func hexID(id pcommon.TraceID) string {
	if id.IsEmpty() {
		return ""
	}
	return id.String()
}

func hexSpanID(id pcommon.SpanID) string {
	if id.IsEmpty() {
		return ""
	}
	return id.String()
}

// ByTrace groups spans by trace ID.
func ByTrace(spans []Span) map[string][]Span {
	out := map[string][]Span{}
	for _, s := range spans {
		out[s.TraceID] = append(out[s.TraceID], s)
	}
	return out
}

// Named returns the spans whose name is name.
func Named(spans []Span, name string) []Span {
	var out []Span
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// ReadRoot reads every object under root/prefix (e.g. "traces"), gunzips it and splits it into records, in path
// order. It also returns the object paths, relative to root, so tests can assert the layout.
func ReadRoot(t testing.TB, root, prefix string) (records [][]byte, objects []string) {
	t.Helper()
	dir := filepath.Join(root, prefix)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		objects = append(objects, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	sort.Strings(objects)
	for _, rel := range objects {
		f, err := os.Open(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s is not GZIP: %v", rel, err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatalf("gunzip %s: %v", rel, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64*1024), 8<<20)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			records = append(records, append(sc.Bytes()[:len(sc.Bytes()):len(sc.Bytes())], '\n'))
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("read records of %s: %v", rel, err)
		}
	}
	return records, objects
}
