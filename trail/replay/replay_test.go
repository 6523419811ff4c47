package replay

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify"
)

// countingServer answers every request with success and counts the spans it received.
func countingServer(t *testing.T, spans *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		spans.Add(int64(req.Traces().SpanCount()))
		respond(w, r, 0, "")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func signingKey(t *testing.T, path string) *ecdsa.PublicKey {
	t.Helper()
	pem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := seal.ParsePublicKeyPEM(pem)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// tamper changes old to new (same length) in the record object holding them.
func tamper(t *testing.T, root, old, new string) {
	t.Helper()
	for _, path := range recordObjects(t, root) {
		raw, _ := os.ReadFile(path)
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(zr)
		if !bytes.Contains(data, []byte(old)) {
			continue
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(bytes.ReplaceAll(data, []byte(old), []byte(new)))
		zw.Close()
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplayWithVerifyRefusesOnlyTheTracesWhoseRecordsFail(t *testing.T) {
	f := newFixture(t)
	sel, err := Select(context.Background(), openDB(t, f.root), f.root, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	tamper(t, f.root, "17 * 23", "17 * 24") // the first run's records, and the duplicate copy of them
	var spans atomic.Int64
	srv := countingServer(t, &spans)
	exp, err := NewExporter(ExporterConfig{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Verify: &verify.Options{Keys: []*ecdsa.PublicKey{signingKey(t, f.key)}}}
	sum, err := Replay(context.Background(), trail.NewLocal(f.root), sel, exp, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Failures) != 1 || sum.Failures[0].TraceID != f.ids[0] || !errors.Is(sum.Failures[0].Err, ErrRefused) {
		t.Fatalf("failures %v, want the tampered trace %s refused", sum.Failures, f.ids[0])
	}
	if !strings.Contains(sum.Failures[0].Err.Error(), string(verify.KindBadSignature)) {
		t.Errorf("the refusal %q does not say why", sum.Failures[0].Err)
	}
	if sum.Traces != len(f.ids)-1 || int64(sum.Spans) != spans.Load() {
		t.Errorf("summary %+v, server saw %d spans: want every other trace delivered", sum, spans.Load())
	}

	// Without --verify the same trail is sent whole: the refusal came from verification.
	sum, err = Replay(context.Background(), trail.NewLocal(f.root), sel, exp, Options{})
	if err != nil || !sum.Delivered() {
		t.Fatalf("without verification: %+v, %v", sum, err)
	}
}

func TestReplayWithVerifyRefusesRecordsCertifiedByAnotherKey(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t) // another signing key
	sel, err := Select(context.Background(), openDB(t, f.root), f.root, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var spans atomic.Int64
	exp, _ := NewExporter(ExporterConfig{Endpoint: countingServer(t, &spans).URL})
	opts := Options{Verify: &verify.Options{Keys: []*ecdsa.PublicKey{signingKey(t, other.key)}}}
	sum, err := Replay(context.Background(), trail.NewLocal(f.root), sel, exp, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Failures) != len(f.ids) || spans.Load() != 0 {
		t.Errorf("%d failures and %d spans sent, want every trace refused and nothing sent", len(sum.Failures), spans.Load())
	}
}

func TestReplayReportsEveryTraceOfAFailedRequest(t *testing.T) {
	f := newFixture(t)
	sel, err := Select(context.Background(), openDB(t, f.root), f.root, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	exp, _ := NewExporter(ExporterConfig{Endpoint: "http://" + addr + "/v1/traces", InitialBackoff: time.Millisecond, MaxElapsed: 50 * time.Millisecond})
	var progress []int
	sum, err := Replay(context.Background(), trail.NewLocal(f.root), sel, exp, Options{Progress: func(done, total int) { progress = append(progress, done) }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Delivered() || len(sum.Failures) != len(f.ids) || sum.Traces != 0 || sum.Bytes != 0 {
		t.Errorf("summary %+v: want every trace failed, nothing counted as sent", sum)
	}
	if len(progress) == 0 || progress[len(progress)-1] != len(f.ids) {
		t.Errorf("progress %v, want it to end at %d", progress, len(f.ids))
	}
}

func TestAssembleFailsWhenOversizeContentIsGone(t *testing.T) {
	f := newFixture(t)
	sel, err := Select(context.Background(), openDB(t, f.root), f.root, Filter{TraceIDs: []string{f.big}})
	if err != nil || len(sel) != 1 {
		t.Fatalf("select: %v", err)
	}
	if err := os.RemoveAll(f.root + "/oversize"); err != nil {
		t.Fatal(err)
	}
	_, err = Assemble(context.Background(), trail.NewLocal(f.root), f.big, sel[0].Keys, AssembleOptions{})
	if err == nil || !strings.Contains(err.Error(), "oversize") {
		t.Errorf("error %v, want one naming the missing oversize content", err)
	}
}
