package main

import (
	"bytes"
	"encoding/json"

	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// FuzzShowRecord feeds `audit show` record lines. DuckDB reads the records; what the CLI parses itself is each
// span's attribute list (decodeAttrs, anyValue) and the spans it lays out as a waterfall (renderTrace). The
// harness reads a line as any OTLP reader would (the Collector's unmarshaler), hands the CLI each span as the
// spans view does (attributes as OTLP/JSON key/value lists, times truncated to microseconds, duration in
// milliseconds) and checks what the CLI makes of them. The seed corpus is in testdata/fuzz/FuzzShowRecord.
//
// Properties: nothing panics, whatever the line; decodeAttrs returns every attribute of a span, in order, with
// its key, and string, integer and boolean values as the record holds them; the waterfall has one line per span
// and the header counts every span.
func FuzzShowRecord(f *testing.F) {
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"0000000000000001","name":"invoke_agent","attributes":[{"key":"k","value":{"stringValue":"v"}}]}]}]}]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		// Whatever DuckDB hands over, the attribute decoders must not panic.
		decodeAttrs(string(line))
		anyValue(json.RawMessage(line))

		var u ptrace.JSONUnmarshaler
		td, err := u.UnmarshalTraces(line)
		if err != nil {
			return // not a record: DuckDB reports it, the CLI never sees its spans
		}
		// The function writes records with pdata's marshaler; read the spans from that canonical form.
		var m ptrace.JSONMarshaler
		canonical, err := m.MarshalTraces(td)
		if err != nil {
			t.Fatalf("re-marshal a parsed record: %v", err)
		}
		rawAttrs := attributeLists(t, canonical)

		var spans []traceSpan
		seen := map[pcommon.SpanID]bool{}
		traceID := ""
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			sss := td.ResourceSpans().At(i).ScopeSpans()
			for j := 0; j < sss.Len(); j++ {
				for k := 0; k < sss.At(j).Spans().Len(); k++ {
					s := sss.At(j).Spans().At(k)
					raw := rawAttrs[0]
					rawAttrs = rawAttrs[1:]
					ts := asViewRow(s)
					ts.Attrs = decodeAttrs(raw)
					checkDecodedAttrs(t, s, ts.Attrs)
					if traceID == "" {
						traceID = s.TraceID().String()
					}
					if s.TraceID().String() != traceID || seen[s.SpanID()] {
						// `audit show` reads one trace, and the spans view keeps one row per trace and span within
						// a partition (one object).
						continue
					}
					seen[s.SpanID()] = true
					spans = append(spans, ts)
				}
			}
		}
		if len(spans) == 0 {
			return // `audit show` finds no trace to show
		}
		var out bytes.Buffer
		renderTrace(&out, traceID, spans, nil)
		checkWaterfall(t, out.String(), spans)
	})
}

// asViewRow is the span as loadSpans reads it from the spans view.
func asViewRow(s ptrace.Span) traceSpan {
	start, end := int64(s.StartTimestamp()), int64(s.EndTimestamp())
	status := map[ptrace.StatusCode]string{ptrace.StatusCodeError: "ERROR", ptrace.StatusCodeOk: "OK"}[s.Status().Code()]
	if status == "" {
		status = "UNSET"
	}
	durMS := float64(end-start) / 1e6
	return traceSpan{
		ID:       hexOrEmpty(s.SpanID()),
		Parent:   hexOrEmpty(s.ParentSpanID()),
		Name:     s.Name(),
		Status:   status,
		Start:    time.UnixMicro(start / 1000).UTC(),
		Duration: time.Duration(durMS * float64(time.Millisecond)),
	}
}

func hexOrEmpty(id pcommon.SpanID) string {
	if id.IsEmpty() {
		return ""
	}
	return id.String()
}

// attributeLists returns each span's attributes, in record order, as the JSON key/value list the spans view's
// attributes column holds.
func attributeLists(t *testing.T, record []byte) []string {
	t.Helper()
	var rec struct {
		ResourceSpans []struct {
			ScopeSpans []struct {
				Spans []struct {
					Attributes json.RawMessage `json:"attributes"`
				} `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	}
	if err := json.Unmarshal(record, &rec); err != nil {
		t.Fatalf("a record pdata wrote is not JSON: %v", err)
	}
	var out []string
	for _, rs := range rec.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				out = append(out, string(s.Attributes))
			}
		}
	}
	return out
}

// checkDecodedAttrs compares decodeAttrs' result with the span's attributes as pdata read them.
func checkDecodedAttrs(t *testing.T, s ptrace.Span, got []attr) {
	t.Helper()
	attrs := s.Attributes()
	if attrs.Len() != len(got) {
		t.Fatalf("span %s: decodeAttrs returned %d attributes, the record holds %d", s.SpanID(), len(got), attrs.Len())
	}
	i := 0
	for k, v := range attrs.All() {
		if got[i].Key != validText(k) {
			t.Fatalf("span %s attribute %d: key %q, want %q", s.SpanID(), i, got[i].Key, validText(k))
		}
		var want string
		switch v.Type() {
		case pcommon.ValueTypeStr:
			want = validText(v.Str())
		case pcommon.ValueTypeInt, pcommon.ValueTypeBool:
			want = v.AsString()
		default:
			i++
			continue // doubles, arrays, maps and bytes are rendered for reading, not compared
		}
		if got[i].Value != want {
			t.Fatalf("span %s attribute %q: value %q, want %q", s.SpanID(), k, got[i].Value, want)
		}
		i++
	}
}

// validText is s as a JSON reader returns it: each byte that is not part of valid UTF-8 as U+FFFD.
func validText(s string) string { return string([]rune(s)) }

// checkWaterfall asserts that the waterfall counts every span in its header and draws one line per span.
func checkWaterfall(t *testing.T, out string, spans []traceSpan) {
	t.Helper()
	head, rest, _ := strings.Cut(out, "\n\n")
	if !strings.HasPrefix(head, "trace ") || !strings.Contains(head, "  "+count(len(spans), "span")+"  ") {
		t.Fatalf("waterfall header %q does not count %d spans", head, len(spans))
	}
	bars := 0
	for _, l := range strings.Split(rest, "\n") {
		if l == "" {
			break
		}
		bars++
	}
	if bars != len(spans) {
		t.Fatalf("waterfall draws %d lines for %d spans:\n%s", bars, len(spans), out)
	}
	if strings.ContainsFunc(out, func(r rune) bool { return r != '\n' && unsafeRune(r) }) {
		t.Fatalf("stored content reaches the terminal raw: %q", out)
	}
}
