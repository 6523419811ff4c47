package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Bounds of the fuzzed shipments: records of 2 to 8 KiB, so that a few spans already split, and up to
// fuzzMaxSpans spans whose content reaches three times the record limit, so that some cannot fit on their own.
const (
	fuzzMinLimit = 2 * 1024
	fuzzMaxSpans = 24
	fuzzShortMax = 64 // bytes of the fuzz input copied into names, status messages, events and the resource
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// FuzzEncodeSplit runs spans built with the OTel SDK, their content taken from the fuzz input, through
// Encode with small record limits and reads every record back with the Collector's OTLP/JSON unmarshaler.
// The seed corpus is in testdata/fuzz/FuzzEncodeSplit.
//
// Half the runs give the Encoder an in-memory OversizeStore. Properties: Encode never panics; it fails only with
// ErrSpanTooLarge, and then exactly when some span's record on its own exceeds the limit (with a store: when even
// the span without its attributes, plus the reference to them, would exceed it); otherwise every record is one
// '\n'-terminated line within the limit that parses as OTLP/JSON; all records carry one 32-hex batch key and are framed part i of n on every resource, with the
// followup flag given; every input span comes back exactly once (by span ID) with its name, attributes, status
// and events, strings as given (invalid UTF-8 bytes each as U+FFFD, as OTLP strings must be valid UTF-8), and
// the resource it was recorded with. With a store, content is stored only for spans too large on their own,
// each object is referenced from its span (URI, key, SHA-256 and size matching the gunzipped object, which is one
// OTLP/JSON span holding exactly the listed attributes), and the record's attributes plus the stored ones are
// the span's attributes.
func FuzzEncodeSplit(f *testing.F) {
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x"}]}]}]}`), "gen_ai.input.messages", uint8(6), uint8(0), uint16(3), false, false)
	f.Fuzz(func(t *testing.T, content []byte, key string, nSpans, limitKiB uint8, repeat uint16, followup, offload bool) {
		if strings.HasPrefix(key, "agent_audit.oversize.") {
			key = "fuzz." + key // the namespace of the references to stored content; the agent never sets it
		}
		limit := fuzzMinLimit + int(limitKiB%7)*1024
		n := int(nSpans)%fuzzMaxSpans + 1
		value := strings.Repeat(string(content), int(repeat)%64+1)
		value = truncate(value, 3*limit)
		spans := fuzzSpans(value, key, n)

		var store *memoryStore
		var opts []EncoderOption
		if offload {
			store = &memoryStore{objects: map[string][]byte{}}
			opts = append(opts, WithOversizeStore(store))
		}
		records, err := NewEncoder(limit, opts...).Encode(context.Background(), spans, followup)
		tooLarge := largestAlone(t, spans) > limit
		switch {
		case errors.Is(err, ErrSpanTooLarge) && tooLarge && (!offload || largestAlone(t, withoutAttributes(spans))+maxReferenceBytes > limit):
			return
		case err != nil:
			t.Fatalf("Encode of %d spans with a %d-byte limit (a span too large alone: %v, oversize store: %v): %v", n, limit, tooLarge, offload, err)
		case tooLarge && !offload:
			t.Fatalf("Encode accepted a span whose record alone exceeds the %d-byte limit", limit)
		}
		got := readBack(t, records, limit, followup)
		if offload {
			if !tooLarge && len(store.objects) > 0 {
				t.Fatalf("%d objects stored for spans that fit a record", len(store.objects))
			}
			restoreOversize(t, got, store)
		}
		checkSpans(t, spans, got)
	})
}

// maxReferenceBytes bounds what the reference attributes of a span whose content was stored apart add to its
// record (URI, key, SHA-256, size, the list of moved keys).
const maxReferenceBytes = 1024

// memoryStore is an OversizeStore in memory.
type memoryStore struct {
	objects map[string][]byte
}

func (s *memoryStore) URI(key string) string { return "mem:///" + key }

func (s *memoryStore) Put(_ context.Context, key string, object []byte) error {
	s.objects[key] = append([]byte(nil), object...)
	return nil
}

// withoutAttributes copies spans without their attributes: what is left of a span once all of them are stored.
func withoutAttributes(spans []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	stubs := tracetest.SpanStubsFromReadOnlySpans(spans)
	for i := range stubs {
		stubs[i].Attributes = nil
	}
	return stubs.Snapshots()
}

// restoreOversize checks every reference to stored content and puts the stored attributes back on their span, so
// that the span can be compared with the one recorded. Every stored object is referenced by its span.
func restoreOversize(t *testing.T, got map[string]fuzzSpan, store *memoryStore) {
	t.Helper()
	var u ptrace.JSONUnmarshaler
	referenced := 0
	for id, g := range got {
		attrs := g.span.Attributes()
		key, ok := attrs.Get(AttrOversizeKey)
		if !ok {
			continue
		}
		referenced++
		uri, _ := attrs.Get(AttrOversizeURI)
		sha, _ := attrs.Get(AttrOversizeSHA256)
		size, _ := attrs.Get(AttrOversizeBytes)
		moved, _ := attrs.Get(AttrOversizeAttributes)
		gz, ok := store.objects[key.Str()]
		if !ok || uri.Str() != store.URI(key.Str()) {
			t.Fatalf("span %s refers to %q (%q), which was not stored", id, key.Str(), uri.Str())
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("span %s: stored object is not gzip: %v", id, err)
		}
		content, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("span %s: gunzip the stored object: %v", id, err)
		}
		sum := sha256.Sum256(content)
		if sha.Str() != hex.EncodeToString(sum[:]) || size.Int() != int64(len(content)) || !strings.HasSuffix(key.Str(), "-"+sha.Str()+".json.gz") {
			t.Fatalf("span %s: reference sha256 %s, %d bytes, key %s; the object is %d bytes hashing to %x", id, sha.Str(), size.Int(), key.Str(), len(content), sum)
		}
		td, err := u.UnmarshalTraces(content)
		if err != nil || td.SpanCount() != 1 {
			t.Fatalf("span %s: stored object is not one OTLP/JSON span (%v)", id, err)
		}
		stored := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
		if stored.SpanID() != g.span.SpanID() || stored.TraceID() != g.span.TraceID() {
			t.Fatalf("span %s: stored object holds span %s/%s", id, stored.TraceID(), stored.SpanID())
		}
		if moved.Type() != pcommon.ValueTypeSlice || moved.Slice().Len() != stored.Attributes().Len() {
			t.Fatalf("span %s: reference lists %v, the object holds %v", id, moved.AsRaw(), keys(stored.Attributes().AsRaw()))
		}
		for _, k := range []string{AttrOversizeURI, AttrOversizeKey, AttrOversizeSHA256, AttrOversizeBytes, AttrOversizeAttributes} {
			attrs.Remove(k)
		}
		for i := 0; i < moved.Slice().Len(); i++ {
			k := moved.Slice().At(i).Str()
			v, ok := stored.Attributes().Get(k)
			if !ok {
				t.Fatalf("span %s: moved attribute %q is not in the stored object", id, k)
			}
			if _, dup := attrs.Get(k); dup {
				t.Fatalf("span %s: attribute %q is both in the record and stored apart", id, k)
			}
			v.CopyTo(attrs.PutEmpty(k))
		}
	}
	if referenced != len(store.objects) {
		t.Fatalf("%d objects stored, %d referenced from spans", len(store.objects), referenced)
	}
}

// fuzzSpans records n spans of one trace with the SDK: a root and children spread over two resources and two
// scopes, each child carrying value under key (and a prefix of value in its name, status, event and resource).
func fuzzSpans(value, key string, n int) []sdktrace.ReadOnlySpan {
	short := truncate(value, fuzzShortMax)
	rec := tracetest.NewSpanRecorder()
	providers := []*sdktrace.TracerProvider{
		sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(resource.NewSchemaless(
			attribute.String("service.name", "agent-audit"), attribute.String("fuzz.resource", short)))),
		sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(resource.NewSchemaless(
			attribute.String("service.name", "other")))),
	}
	tracers := []trace.Tracer{
		providers[0].Tracer("github.com/agent-audit/agent-audit/function/agent"),
		providers[0].Tracer("fuzz/" + short),
		providers[1].Tracer("github.com/agent-audit/agent-audit/function/agent"),
	}
	ctx, root := tracers[0].Start(context.Background(), "invoke_agent "+short)
	for i := 1; i < n; i++ {
		_, s := tracers[i%len(tracers)].Start(ctx, fmt.Sprintf("span %d %s", i, short),
			trace.WithAttributes(attribute.Int("fuzz.index", i), attribute.String(key, value)))
		s.AddEvent(short, trace.WithAttributes(attribute.String("exception.message", short)))
		if i%2 == 0 {
			s.SetStatus(codes.Error, short)
		}
		s.End()
	}
	root.End()
	return rec.Ended()
}

// truncate cuts s to at most n bytes, at the start of a rune, so that valid UTF-8 stays valid.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// largestAlone is the size of the largest record holding one span alone.
func largestAlone(t *testing.T, spans []sdktrace.ReadOnlySpan) int {
	t.Helper()
	largest := 0
	for _, s := range spans {
		records, err := NewEncoder(1<<30).Encode(context.Background(), []sdktrace.ReadOnlySpan{s}, false)
		if err != nil {
			t.Fatalf("encode span %q alone: %v", s.Name(), err)
		}
		largest = max(largest, len(records[0]))
	}
	return largest
}

// readBack checks every record's shape and framing and returns its spans by span ID, each with its resource.
func readBack(t *testing.T, records [][]byte, limit int, followup bool) map[string]fuzzSpan {
	t.Helper()
	var u ptrace.JSONUnmarshaler
	got := map[string]fuzzSpan{}
	batchKey := ""
	for i, r := range records {
		if len(r) > limit {
			t.Fatalf("record %d of %d is %d bytes, over the limit of %d", i, len(records), len(r), limit)
		}
		if bytes.IndexByte(r, '\n') != len(r)-1 {
			t.Fatalf("record %d is not one newline-terminated line", i)
		}
		td, err := u.UnmarshalTraces(r)
		if err != nil {
			t.Fatalf("record %d does not parse as OTLP/JSON: %v\n%q", i, err, r)
		}
		if td.SpanCount() == 0 {
			t.Fatalf("record %d holds no span", i)
		}
		for j := 0; j < td.ResourceSpans().Len(); j++ {
			rs := td.ResourceSpans().At(j)
			attrs := rs.Resource().Attributes()
			key, _ := attrs.Get(AttrBatchKey)
			if batchKey == "" {
				batchKey = key.Str()
			}
			if !hex32.MatchString(key.Str()) || key.Str() != batchKey {
				t.Fatalf("record %d resource %d: batch key %q, want the shipment's 32-hex key %q", i, j, key.Str(), batchKey)
			}
			part, _ := attrs.Get(AttrPart)
			parts, _ := attrs.Get(AttrParts)
			fu, ok := attrs.Get(AttrFollowup)
			if part.Type() != pcommon.ValueTypeInt || part.Int() != int64(i) || parts.Type() != pcommon.ValueTypeInt ||
				parts.Int() != int64(len(records)) || !ok || fu.Bool() != followup {
				t.Fatalf("record %d resource %d framed as part %v of %v followup %v, want %d of %d followup %v",
					i, j, part.AsRaw(), parts.AsRaw(), fu.AsRaw(), i, len(records), followup)
			}
			res := attrs.AsRaw()
			for _, k := range []string{AttrBatchKey, AttrPart, AttrParts, AttrFollowup} {
				delete(res, k)
			}
			for k := 0; k < rs.ScopeSpans().Len(); k++ {
				ss := rs.ScopeSpans().At(k)
				for m := 0; m < ss.Spans().Len(); m++ {
					s := ss.Spans().At(m)
					id := s.SpanID().String()
					if prev, dup := got[id]; dup {
						t.Fatalf("span %s is in record %d and again in record %d", id, prev.record, i)
					}
					got[id] = fuzzSpan{span: s, scope: ss.Scope().Name(), resource: res, record: i}
				}
			}
		}
	}
	return got
}

// fuzzSpan is one span read back, with where it came from.
type fuzzSpan struct {
	span     ptrace.Span
	scope    string
	resource map[string]any
	record   int
}

// checkSpans asserts that got holds exactly the input spans, each as recorded.
func checkSpans(t *testing.T, spans []sdktrace.ReadOnlySpan, got map[string]fuzzSpan) {
	t.Helper()
	if len(got) != len(spans) {
		t.Fatalf("%d spans read back, want %d", len(got), len(spans))
	}
	for _, want := range spans {
		id := want.SpanContext().SpanID().String()
		g, ok := got[id]
		if !ok {
			t.Fatalf("span %s (%q) is in no record", id, want.Name())
		}
		s := g.span
		wantParent := pcommon.SpanID(want.Parent().SpanID())
		if s.TraceID() != pcommon.TraceID(want.SpanContext().TraceID()) || s.ParentSpanID() != wantParent {
			t.Fatalf("span %s: trace %s parent %s, want %s parent %s", id, s.TraceID(), s.ParentSpanID(), want.SpanContext().TraceID(), wantParent)
		}
		if s.Name() != otlpString(want.Name()) || g.scope != otlpString(want.InstrumentationScope().Name) {
			t.Fatalf("span %s: name %q scope %q, want %q %q", id, s.Name(), g.scope, otlpString(want.Name()), otlpString(want.InstrumentationScope().Name))
		}
		if !s.StartTimestamp().AsTime().Equal(want.StartTime()) || !s.EndTimestamp().AsTime().Equal(want.EndTime()) {
			t.Fatalf("span %s: times %v–%v, want %v–%v", id, s.StartTimestamp(), s.EndTimestamp(), want.StartTime(), want.EndTime())
		}
		assertAttrs(t, "span "+id, s.Attributes().AsRaw(), want.Attributes())
		assertAttrs(t, "span "+id+" resource", g.resource, want.Resource().Attributes())
		wantCode := ptrace.StatusCodeUnset
		if want.Status().Code == codes.Error {
			wantCode = ptrace.StatusCodeError
		}
		if s.Status().Code() != wantCode || s.Status().Message() != otlpString(want.Status().Description) {
			t.Fatalf("span %s: status %v %q, want %v %q", id, s.Status().Code(), s.Status().Message(), wantCode, otlpString(want.Status().Description))
		}
		if s.Events().Len() != len(want.Events()) {
			t.Fatalf("span %s: %d events, want %d", id, s.Events().Len(), len(want.Events()))
		}
		for e, we := range want.Events() {
			ge := s.Events().At(e)
			if ge.Name() != otlpString(we.Name) {
				t.Fatalf("span %s event %d: name %q, want %q", id, e, ge.Name(), otlpString(we.Name))
			}
			assertAttrs(t, fmt.Sprintf("span %s event %d", id, e), ge.Attributes().AsRaw(), we.Attributes)
		}
	}
}

// assertAttrs compares attributes read back with the recorded ones: the same keys, the same values, strings as
// OTLP carries them.
func assertAttrs(t *testing.T, where string, got map[string]any, want []attribute.KeyValue) {
	t.Helper()
	expected := map[string]any{}
	for _, kv := range want {
		switch kv.Value.Type() {
		case attribute.STRING:
			expected[otlpString(string(kv.Key))] = otlpString(kv.Value.AsString())
		case attribute.INT64:
			expected[otlpString(string(kv.Key))] = kv.Value.AsInt64()
		default:
			t.Fatalf("%s: unexpected attribute type %v", where, kv.Value.Type())
		}
	}
	if len(got) != len(expected) {
		t.Fatalf("%s: %d attributes %v, want %d %v", where, len(got), keys(got), len(expected), keys(expected))
	}
	for k, v := range expected {
		if got[k] != v {
			t.Fatalf("%s: attribute %q = %.200q, want %.200q", where, k, fmt.Sprint(got[k]), fmt.Sprint(v))
		}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// otlpString is s as an OTLP record carries it: OTLP strings are valid UTF-8, so each byte that is not part of a
// valid UTF-8 sequence becomes U+FFFD, as Go's string-to-rune conversion and encoding/json do.
func otlpString(s string) string { return string([]rune(s)) }
