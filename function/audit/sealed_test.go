package audit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/audittest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newSealKey(t testing.TB) (*ecdsa.PrivateKey, *seal.FileSigner) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := seal.NewFileSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, fs
}

func newTestSealer(t testing.TB, iss seal.Issuer, opts ...seal.Option) *seal.Sealer {
	t.Helper()
	s, err := seal.NewSealer(iss, append([]seal.Option{seal.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestSealedRecordsFitVerifyAndChain(t *testing.T) {
	key, fs := newSealKey(t)
	sealer := newTestSealer(t, fs)
	const limit = 12000
	enc := NewEncoder(limit, WithSealer(sealer), WithOversizeStore(NewLocalOversizeStore(t.TempDir())))
	v := seal.NewVerifier(&key.PublicKey)
	var chains seal.Chains
	var all int
	for shipment, spans := range [][]int{{1, 10}, {12, 300}, {3, 15000}} { // one record; split; oversize and split
		records, err := enc.Encode(context.Background(), stubTrace(spans[0], spans[1]), false)
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range records {
			if len(rec) > limit {
				t.Errorf("shipment %d record %d: %d bytes, over %d", shipment, i, len(rec), limit)
			}
			r, err := v.Verify(rec)
			if err != nil {
				t.Fatalf("shipment %d record %d: %v", shipment, i, err)
			}
			all++
			if r.Seq != int64(all) || r.Chain != sealer.Chain() || !r.Certified {
				t.Errorf("shipment %d record %d: seq %d of %s, certified %v; want %d of %s", shipment, i, r.Seq, r.Chain, r.Certified, all, sealer.Chain())
			}
			chains.Add(r, fmt.Sprintf("shipment %d record %d", shipment, i))
		}
	}
	if all < 4 {
		t.Fatalf("only %d records: the split cases did not split", all)
	}
	if rep := chains.Check(false); len(rep.Problems) != 0 || rep.Records != all {
		t.Errorf("chain: %+v", rep)
	}
}

// downIssuer fails while down is set.
type downIssuer struct {
	*seal.FileSigner
	mu   sync.Mutex
	down bool
}

func (s *downIssuer) Sign(ctx context.Context, digest []byte) ([]byte, error) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return nil, errors.New("KMSInternalException: try again")
	}
	return s.FileSigner.Sign(ctx, digest)
}

func (s *downIssuer) set(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func TestWhileTheIssuerIsDownRecordsAreStillSealed(t *testing.T) {
	key, fs := newSealKey(t)
	iss := &downIssuer{FileSigner: fs, down: true}
	sealer := newTestSealer(t, iss, seal.WithCertifyWait(10*time.Millisecond), seal.WithRetryBackoff(20*time.Millisecond))
	enc := NewEncoder(0, WithSealer(sealer))
	v := seal.NewVerifier(&key.PublicKey)
	var chains seal.Chains
	certified := false
	for i := 0; !certified; i++ {
		if i == 2 {
			iss.set(false)
		}
		if i > 500 {
			t.Fatal("no record certified after the issuer came back")
		}
		records, err := enc.Encode(context.Background(), stubTrace(2, 10), false)
		if err != nil || len(records) != 1 {
			t.Fatalf("shipment %d: %d records, %v", i, len(records), err)
		}
		r, err := v.Verify(records[0])
		if err != nil {
			t.Fatalf("shipment %d: %v: a record must be sealed while the issuer is down", i, err)
		}
		if i < 2 && r.Certified {
			t.Fatalf("shipment %d certified while the issuer was down", i)
		}
		certified = r.Certified
		chains.Add(r, fmt.Sprint("shipment ", i))
		time.Sleep(5 * time.Millisecond)
	}
	if rep := chains.Check(false); len(rep.Problems) != 0 {
		t.Fatalf("chain: %v", rep.Problems)
	}
}

// sealAttrs lists the agent_audit.seal.* attributes of a record's first resource.
func sealAttrs(t *testing.T, rec []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	decodeRecord(t, rec).ResourceSpans().At(0).Resource().Attributes().Range(func(k string, v pcommon.Value) bool {
		if strings.HasPrefix(k, "agent_audit.seal.") {
			out[k] = v.AsString()
		}
		return true
	})
	return out
}

// Every way sealing can fail leaves the record whole, delivered, and cleanly unsealed: no seal attribute but
// the reason (an unsealed record with an empty signature would read as tampered with, not as unsealed), and no
// chain position taken.
func TestEverySealFailureLeavesTheRecordCleanlyUnsealed(t *testing.T) {
	withSpanAttr := func(key string) []sdktrace.ReadOnlySpan {
		stubs := tracetest.SpanStubsFromReadOnlySpans(stubTrace(2, 10))
		stubs[1].Attributes = append(stubs[1].Attributes, attribute.String(key, "x"))
		return stubs.Snapshots()
	}
	withResourceAttr := func(key string) []sdktrace.ReadOnlySpan {
		stubs := tracetest.SpanStubsFromReadOnlySpans(stubTrace(2, 10))
		res := resource.NewSchemaless(attribute.String("service.name", "agent-audit"), attribute.String(key, "0123456789abcdef0123456789abcdef"))
		for i := range stubs {
			stubs[i].Resource = res
		}
		return stubs.Snapshots()
	}
	cases := []struct {
		name    string
		spans   []sdktrace.ReadOnlySpan
		close   bool
		reason  string
		foreign string
	}{
		{"a span attribute imitating the signature", withSpanAttr(seal.AttrSig), false, "reserves", ""},
		{"a span attribute in the seal's namespace", withSpanAttr(seal.AttrChain), false, "reserves", ""},
		{"a resource attribute in the seal's namespace", withResourceAttr(seal.AttrChain), false, "reserves", seal.AttrChain},
		{"a closed sealer", stubTrace(2, 10), true, "sealer closed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, fs := newSealKey(t)
			sealer := newTestSealer(t, fs)
			var logs bytes.Buffer
			enc := NewEncoder(0, WithSealer(sealer), WithEncoderLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			before, err := enc.Encode(context.Background(), stubTrace(1, 10), false)
			if err != nil {
				t.Fatal(err)
			}
			if c.close {
				sealer.Close()
			}
			records, err := enc.Encode(context.Background(), c.spans, false)
			if err != nil || len(records) != 1 {
				t.Fatalf("%d records, %v: the trace must be kept", len(records), err)
			}
			_, err = seal.NewVerifier(&key.PublicKey).Verify(records[0])
			if !errors.Is(err, seal.ErrUnsealed) || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("verify: %v, want unsealed saying %q", err, c.reason)
			}
			attrs := sealAttrs(t, records[0])
			delete(attrs, c.foreign)
			if len(attrs) != 1 || !strings.Contains(attrs[seal.AttrUnsealed], c.reason) {
				t.Fatalf("the unsealed record carries %v, want only %s", attrs, seal.AttrUnsealed)
			}
			if got := decodeRecord(t, records[0]).ResourceSpans().At(0).ScopeSpans().At(0).Spans().Len(); got != 2 {
				t.Fatalf("unsealed record holds %d spans", got)
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "audit record kept unsealed") {
				t.Errorf("the unsealed record was not logged: %q", logs.String())
			}
			if !c.close {
				after, err := enc.Encode(context.Background(), stubTrace(1, 10), false)
				if err != nil {
					t.Fatal(err)
				}
				v := seal.NewVerifier(&key.PublicKey)
				r1, _ := v.Verify(before[0])
				r2, err := v.Verify(after[0])
				if err != nil || r2.Seq != r1.Seq+1 || r2.Prev != r1.Hash {
					t.Fatalf("the next record is at %d after %d (%v): a failed seal must take no position", r2.Seq, r1.Seq, err)
				}
			}
		})
	}
}

// Issue 11 point 4: a sealed record whose delivery failed (and failed its invocation) is declared by the chain's
// next record, so the chain shows a declared gap where a deletion would show a missing record.
func TestAnUndeliveredRecordIsDeclaredByTheNextOne(t *testing.T) {
	key, fs := newSealKey(t)
	sealer := newTestSealer(t, fs)
	tracer, p, sink := setup(t, WithEncoderOptions(WithSealer(sealer)), WithLogger(quiet))
	run := func(name string) error {
		ctx, root := tracer.Start(handlerCtx(), name)
		_, child := tracer.Start(ctx, "child")
		child.End()
		root.End()
		return p.FlushTrace(context.Background(), root.SpanContext().TraceID())
	}
	if err := run("first"); err != nil {
		t.Fatal(err)
	}
	sink.FailWith(errors.New("ServiceUnavailableException"))
	if err := run("lost"); err == nil {
		t.Fatal("the failed delivery did not fail the trace")
	}
	sink.FailWith(nil)
	if err := run("third"); err != nil {
		t.Fatal(err)
	}
	records := sink.Records()
	if len(records) != 2 {
		t.Fatalf("%d records delivered", len(records))
	}
	v := seal.NewVerifier(&key.PublicKey)
	var chains seal.Chains
	for i, rec := range records {
		r, err := v.Verify(rec)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 && (r.Seq != 3 || fmt.Sprint(r.Undelivered) != "[2]") {
			t.Fatalf("the record after the lost one is seq %d declaring %v, want 3 declaring [2]", r.Seq, r.Undelivered)
		}
		chains.Add(r, fmt.Sprint("record ", i))
	}
	rep := chains.Check(false)
	if len(rep.Problems) != 0 || len(rep.Notices) != 1 || rep.Notices[0].Seq != 2 || !strings.Contains(rep.Notices[0].What, "record declared undelivered by record 3") {
		t.Fatalf("problems %v, notices %v: want seq 2 declared, not missing", rep.Problems, rep.Notices)
	}
	if n := len(audittest.Decode(t, records)); n != 4 {
		t.Fatalf("%d spans in the delivered records", n)
	}
}
