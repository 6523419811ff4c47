package audit

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	goldenTrace = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	t0          = time.Date(2026, 6, 8, 20, 31, 5, 926721468, time.UTC)
)

// stubTrace builds n deterministic spans of one trace: a root and n-1 children, each child carrying content of
// contentBytes bytes.
func stubTrace(n, contentBytes int) []sdktrace.ReadOnlySpan {
	res := resource.NewSchemaless(attribute.String("service.name", "agent-audit"), attribute.String("cloud.provider", "aws"))
	scope := instrumentation.Scope{Name: "github.com/agent-audit/agent-audit/function/agent"}
	root := trace.NewSpanContext(trace.SpanContextConfig{TraceID: goldenTrace, SpanID: trace.SpanID{0, 0, 0, 0, 0, 0, 0, 1}, TraceFlags: trace.FlagsSampled})
	stubs := tracetest.SpanStubs{{
		Name: "invoke_agent agent-audit", SpanContext: root, SpanKind: trace.SpanKindInternal,
		StartTime: t0, EndTime: t0.Add(4100 * time.Millisecond), Resource: res, InstrumentationScope: scope,
		Attributes: []attribute.KeyValue{attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.Int64("agent_audit.usage.input_tokens", 1<<40)},
	}}
	for i := 1; i < n; i++ {
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: goldenTrace, SpanID: trace.SpanID{0, 0, 0, 0, 0, 0, 1, byte(i)}, TraceFlags: trace.FlagsSampled})
		stubs = append(stubs, tracetest.SpanStub{
			Name: "chat claude-haiku-4-5", SpanContext: sc, Parent: root, SpanKind: trace.SpanKindClient,
			StartTime: t0.Add(time.Duration(i) * time.Millisecond), EndTime: t0.Add(time.Duration(i+1) * time.Millisecond),
			Resource: res, InstrumentationScope: scope, Status: sdktrace.Status{Code: codes.Error, Description: "ThrottlingException"},
			Attributes: []attribute.KeyValue{
				attribute.String("gen_ai.operation.name", "chat"),
				attribute.Int("gen_ai.usage.input_tokens", 1247),
				attribute.String("gen_ai.input.messages", strings.Repeat("x", contentBytes)),
			},
			Events: []sdktrace.Event{{Name: "exception", Time: t0, Attributes: []attribute.KeyValue{attribute.String("exception.type", "ThrottlingException")}}},
		})
	}
	return stubs.Snapshots()
}

var batchKeyValue = regexp.MustCompile(`"agent_audit.record.batch_key","value":\{"stringValue":"[0-9a-f]{32}"\}`)

func TestEncodeWritesSpecOTLPJSON(t *testing.T) {
	records, err := NewEncoder(0).Encode(context.Background(), stubTrace(3, 16), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1 {
		t.Fatalf("%d records, want 1", len(records))
	}
	rec := records[0]
	if !bytes.HasSuffix(rec, []byte("\n")) || bytes.Count(rec, []byte("\n")) != 1 {
		t.Fatal("a record is not exactly one newline-terminated line")
	}
	for _, want := range []string{
		`"traceId":"4bf92f3577b34da6a3ce929d0e0e4736"`, // lowercase hex, not base64
		`"spanId":"0000000000000001"`,
		`"kind":3`,                                  // enums as integers
		`"startTimeUnixNano":"1780950665926721468"`, // 64-bit integers as decimal strings
		`"intValue":"1099511627776"`,
		`"code":2`,
	} {
		if !bytes.Contains(rec, []byte(want)) {
			t.Errorf("record lacks %s", want)
		}
	}
	if !batchKeyValue.Match(rec) {
		t.Error("record lacks a 32-hex batch key")
	}

	// The Collector's own OTLP/JSON unmarshaler reads it back to the same spans.
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(rec)
	if err != nil {
		t.Fatalf("Collector unmarshal: %v", err)
	}
	span := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
	if td.SpanCount() != 3 || span.TraceID().String() != goldenTrace.String() || span.ParentSpanID().String() != "0000000000000001" ||
		span.Kind() != ptrace.SpanKindClient || span.Status().Code() != ptrace.StatusCodeError {
		t.Fatalf("round trip lost data: %d spans, span %s parent %s kind %v", td.SpanCount(), span.TraceID(), span.ParentSpanID(), span.Kind())
	}
	part, _ := td.ResourceSpans().At(0).Resource().Attributes().Get(AttrParts)
	if part.Int() != 1 {
		t.Fatalf("parts = %d", part.Int())
	}

	golden := filepath.Join("testdata", "typical.golden.json")
	normalised := batchKeyValue.ReplaceAll(rec, []byte(`"agent_audit.record.batch_key","value":{"stringValue":"<batch key>"}`))
	if *update {
		if err := os.WriteFile(golden, normalised, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(normalised, want) {
		t.Errorf("record differs from %s (go test -update rewrites it after a deliberate change)\ngot:  %s\nwant: %s", golden, normalised, want)
	}
}

func TestSplitKeepsEveryRecordUnderTheLimit(t *testing.T) {
	spans := stubTrace(20, 5000)
	whole, err := NewEncoder(10<<20).Encode(context.Background(), spans, true)
	if err != nil || len(whole) != 1 {
		t.Fatalf("whole: %d records, %v", len(whole), err)
	}
	size := len(whole[0])

	tests := []struct {
		name      string
		limit     int
		wantParts func(int) bool
	}{
		{"a trace exactly at the limit is one record", size, func(n int) bool { return n == 1 }},
		{"one byte less splits it", size - 1, func(n int) bool { return n >= 2 }},
		{"a quarter of the size makes about four", size / 4, func(n int) bool { return n >= 4 && n <= 6 }},
		// A chat span alone makes a ~6.2 KB record; only the small root can share one.
		{"room for one chat span each makes a record per span", 7000, func(n int) bool { return n == 19 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, err := NewEncoder(tt.limit).Encode(context.Background(), spans, true)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.wantParts(len(records)) {
				t.Fatalf("%d records for limit %d of a %d-byte trace", len(records), tt.limit, size)
			}
			assertReassembles(t, records, tt.limit, 20)
		})
	}
}

// assertReassembles checks what a reader relies on: every record within the limit and valid OTLP/JSON, one batch
// key, parts numbered 0..n-1 with the same count, and every span exactly once.
func assertReassembles(t *testing.T, records [][]byte, limit, wantSpans int) {
	t.Helper()
	var u ptrace.JSONUnmarshaler
	seen := map[string]int{}
	keys := map[string]bool{}
	for i, r := range records {
		if len(r) > limit {
			t.Fatalf("record %d is %d bytes, over the limit %d", i, len(r), limit)
		}
		td, err := u.UnmarshalTraces(r)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		attrs := td.ResourceSpans().At(0).Resource().Attributes()
		key, _ := attrs.Get(AttrBatchKey)
		part, _ := attrs.Get(AttrPart)
		parts, _ := attrs.Get(AttrParts)
		followup, _ := attrs.Get(AttrFollowup)
		keys[key.Str()] = true
		if part.Int() != int64(i) || parts.Int() != int64(len(records)) || !followup.Bool() {
			t.Fatalf("record %d framed as part %d of %d, followup %v", i, part.Int(), parts.Int(), followup.Bool())
		}
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for j := 0; j < spans.Len(); j++ {
			seen[spans.At(j).SpanID().String()]++
		}
	}
	if len(keys) != 1 {
		t.Fatalf("%d batch keys across one shipment", len(keys))
	}
	if len(seen) != wantSpans {
		t.Fatalf("%d distinct spans, want %d", len(seen), wantSpans)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("span %s appears %d times", id, n)
		}
	}
}

func TestASpanTooLargeForARecordFailsLoudly(t *testing.T) {
	_, err := NewEncoder(4000).Encode(context.Background(), stubTrace(3, 5000), false)
	if !errors.Is(err, ErrSpanTooLarge) {
		t.Fatalf("err %v, want ErrSpanTooLarge", err)
	}
	for _, want := range []string{"4bf92f3577b34da6a3ce929d0e0e4736", "0000000000000101", "chat claude-haiku-4-5", "4000 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
