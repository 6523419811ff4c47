package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

var written = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// readObject reads an oversize object from a local root and checks it against the reference attributes.
func readObject(t *testing.T, root string, ref pcommon.Map) ptrace.Traces {
	t.Helper()
	key, _ := ref.Get(AttrOversizeKey)
	gz, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(key.Str())))
	if err != nil {
		t.Fatalf("oversize object: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	content, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if sha, _ := ref.Get(AttrOversizeSHA256); sha.Str() != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 attribute %s, content hashes to %x", sha.Str(), sum)
	}
	if n, _ := ref.Get(AttrOversizeBytes); n.Int() != int64(len(content)) {
		t.Errorf("bytes attribute %d, content is %d bytes", n.Int(), len(content))
	}
	if !strings.HasSuffix(key.Str(), "-"+hex.EncodeToString(sum[:])+".json.gz") {
		t.Errorf("key %s does not end with the content hash", key.Str())
	}
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(content)
	if err != nil {
		t.Fatalf("oversize object is not OTLP/JSON: %v", err)
	}
	return td
}

func TestOversizeContentIsStoredWholeAndReferenced(t *testing.T) {
	root := t.TempDir()
	const limit = 4000
	enc := NewEncoder(limit, WithOversizeStore(NewLocalOversizeStore(root)), WithEncoderClock(func() time.Time { return written }))
	spans := stubTrace(3, 5000)
	records, err := enc.Encode(context.Background(), spans, false)
	if err != nil {
		t.Fatal(err)
	}
	refs := 0
	for _, rec := range records {
		if len(rec) > limit {
			t.Errorf("record of %d bytes over the %d limit", len(rec), limit)
		}
		td := decodeRecord(t, rec)
		ss := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for i := 0; i < ss.Len(); i++ {
			sp := ss.At(i)
			attrs := sp.Attributes()
			if _, ok := attrs.Get(AttrOversizeKey); !ok {
				if _, has := attrs.Get("gen_ai.input.messages"); has {
					t.Errorf("span %s kept content over the limit without a reference", sp.SpanID())
				}
				continue
			}
			refs++
			if _, has := attrs.Get("gen_ai.input.messages"); has {
				t.Errorf("span %s keeps the moved attribute too", sp.SpanID())
			}
			if tokens, _ := attrs.Get("gen_ai.usage.input_tokens"); tokens.Int() != 1247 {
				t.Errorf("small attributes must stay on the span: tokens %v", tokens.AsRaw())
			}
			moved, _ := attrs.Get(AttrOversizeAttributes)
			if got := moved.Slice().AsRaw(); len(got) != 1 || got[0] != "gen_ai.input.messages" {
				t.Errorf("moved attributes %v", got)
			}
			key, _ := attrs.Get(AttrOversizeKey)
			wantPrefix := "oversize/year=2026/month=11/day=25/hour=09/" + sp.TraceID().String() + "/" + sp.SpanID().String() + "-"
			if !strings.HasPrefix(key.Str(), wantPrefix) {
				t.Errorf("key %s, want prefix %s", key.Str(), wantPrefix)
			}
			uri, _ := attrs.Get(AttrOversizeURI)
			abs, _ := filepath.Abs(filepath.Join(root, key.Str()))
			if uri.Str() != "file://"+abs {
				t.Errorf("uri %s, want file://%s", uri.Str(), abs)
			}
			obj := readObject(t, root, attrs)
			osp := obj.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
			if osp.SpanID() != sp.SpanID() || osp.TraceID() != sp.TraceID() || osp.Name() != sp.Name() {
				t.Errorf("object holds span %s %q, want %s %q", osp.SpanID(), osp.Name(), sp.SpanID(), sp.Name())
			}
			content, _ := osp.Attributes().Get("gen_ai.input.messages")
			if content.Str() != strings.Repeat("x", 5000) || osp.Attributes().Len() != 1 {
				t.Errorf("object holds %d attributes, content of %d bytes", osp.Attributes().Len(), len(content.Str()))
			}
			if svc, _ := obj.ResourceSpans().At(0).Resource().Attributes().Get("service.name"); svc.Str() != "agent-audit" {
				t.Error("object lost the resource")
			}
		}
	}
	if refs != 2 {
		t.Fatalf("%d spans reference oversize content, want 2", refs)
	}
}

func TestOversizeFailuresAreLoud(t *testing.T) {
	hugeEvents := tracetest.SpanStubFromReadOnlySpan(stubTrace(1, 0)[0])
	hugeEvents.Events = []sdktrace.Event{{Name: "exception", Attributes: []attribute.KeyValue{attribute.String("exception.message", strings.Repeat("e", 6000))}}}
	tests := []struct {
		name  string
		store OversizeStore
		spans []sdktrace.ReadOnlySpan
		want  []string
	}{
		{"without a store an oversize span fails", nil, stubTrace(2, 5000), []string{"no oversize store is configured"}},
		{"a span too large even without attributes fails", NewLocalOversizeStore(t.TempDir()), []sdktrace.ReadOnlySpan{hugeEvents.Snapshot()}, []string{"even with all its attributes stored apart"}},
		{"a store failure fails the shipment and names the object", failingStore{}, stubTrace(2, 5000), []string{"store 5", "oversize/year=", "disk on fire"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []EncoderOption
			if tt.store != nil {
				opts = append(opts, WithOversizeStore(tt.store))
			}
			_, err := NewEncoder(4000, opts...).Encode(context.Background(), tt.spans, false)
			if err == nil {
				t.Fatal("encoded")
			}
			if tt.store == nil || strings.Contains(tt.name, "without attributes") {
				if !errors.Is(err, ErrSpanTooLarge) {
					t.Errorf("error %v is not ErrSpanTooLarge", err)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

type failingStore struct{}

func (failingStore) URI(key string) string { return "mem://" + key }

func (failingStore) Put(context.Context, string, []byte) error { return errors.New("disk on fire") }

func decodeRecord(t *testing.T, rec []byte) ptrace.Traces {
	t.Helper()
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(rec)
	if err != nil {
		t.Fatalf("record is not OTLP/JSON: %v", err)
	}
	return td
}
