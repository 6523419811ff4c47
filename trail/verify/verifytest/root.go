// Package verifytest writes sealed audit roots for tests and benchmarks of package trail/verify and its
// callers: records sealed by the real seal.Sealer, gzip'd into objects in Firehose's layout under a local
// root, with the chain state a local root keeps. It is for tests and benchmarks only; no shipped code imports
// it.
package verifytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// Options shape a root.
type Options struct {
	// Records is how many records to seal (default 10).
	Records int
	// PerObject is how many records each object holds (default 1).
	PerObject int
	// Chains is how many chains seal the records, taking turns (default 1). The first keeps the root's chain
	// state; the others are chains of processes that could not take it.
	Chains int
	// ContentBytes is the size of each record's prompt text, pseudo-random words (default 200).
	ContentBytes int
	// Start is the first record's seal time (default 2026-11-01T10:00:00Z); each record is sealed one
	// millisecond after the one before.
	Start time.Time
}

// Object is one object written: its key and the records it holds, in line order.
type Object struct {
	Key     string
	Records []Placed
}

// Placed is where a record went: its chain and seq.
type Placed struct {
	Chain string
	Seq   int64
}

// Root is what WriteRoot wrote.
type Root struct {
	Dir     string
	Objects []Object
	// Chains are the chain ids, the first being the one the chain state records.
	Chains []string
}

// Line returns the object and line (1-based) holding seq of chain.
func (r Root) Line(chain string, seq int64) (key string, line int) {
	for _, o := range r.Objects {
		for i, p := range o.Records {
			if p.Chain == chain && p.Seq == seq {
				return o.Key, i + 1
			}
		}
	}
	return "", 0
}

// quiet discards the Sealer's log of its certifications.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// WriteRoot seals o.Records records with keys certified by issuer and writes them under dir.
func WriteRoot(dir string, issuer seal.Issuer, o Options) (Root, error) {
	o = o.withDefaults()
	ctx := context.Background()
	clock := o.Start
	var sealTime atomic.Int64 // the Sealer's background certification reads the clock too
	sealTime.Store(clock.UnixNano())
	now := func() time.Time { return time.Unix(0, sealTime.Load()).UTC() }
	opts := []seal.Option{seal.WithClock(now), seal.WithLogger(quiet), seal.WithValidity(365 * 24 * time.Hour)}
	sealers := make([]*seal.Sealer, o.Chains)
	root := Root{Dir: dir}
	for i := range sealers {
		var s *seal.Sealer
		var err error
		if i == 0 {
			s, _, err = seal.ResumeSealer(issuer, filepath.Join(dir, seal.ChainStateFile), opts...)
		} else {
			s, err = seal.NewSealer(issuer, opts...)
		}
		if err != nil {
			return root, fmt.Errorf("verifytest: sealer: %w", err)
		}
		defer s.Close()
		sealers[i] = s
		root.Chains = append(root.Chains, s.Chain())
	}
	store := trail.NewLocal(dir)
	words := newWords(1)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	var obj Object
	flush := func() error {
		if err := zw.Close(); err != nil {
			return err
		}
		if _, err := store.Put(ctx, obj.Key, buf.Bytes()); err != nil {
			return fmt.Errorf("verifytest: %w", err)
		}
		root.Objects = append(root.Objects, obj)
		buf.Reset()
		zw.Reset(&buf)
		obj = Object{}
		return nil
	}
	for n := range o.Records {
		if obj.Key == "" {
			obj.Key = ObjectKey(clock, len(root.Objects))
		}
		s := sealers[n%o.Chains]
		line, seq, err := s.Seal(ctx, RecordLine(n, clock, words.text(o.ContentBytes)))
		if err != nil {
			return root, fmt.Errorf("verifytest: seal record %d: %w", n, err)
		}
		zw.Write(line)
		obj.Records = append(obj.Records, Placed{Chain: s.Chain(), Seq: seq})
		clock = clock.Add(time.Millisecond)
		sealTime.Store(clock.UnixNano())
		if len(obj.Records) == o.PerObject {
			if err := flush(); err != nil {
				return root, err
			}
		}
	}
	if len(obj.Records) > 0 {
		if err := flush(); err != nil {
			return root, err
		}
	}
	return root, nil
}

func (o Options) withDefaults() Options {
	if o.Records <= 0 {
		o.Records = 10
	}
	if o.PerObject <= 0 {
		o.PerObject = 1
	}
	if o.Chains <= 0 {
		o.Chains = 1
	}
	if o.ContentBytes <= 0 {
		o.ContentBytes = 200
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	}
	return o
}

// ObjectKey is the key of the n-th object written at t, in Firehose's layout: hour partition, then a name that
// sorts in writing order.
func ObjectKey(t time.Time, n int) string {
	t = t.UTC()
	return fmt.Sprintf("traces/year=%04d/month=%02d/day=%02d/hour=%02d/agent-audit-1-%s-%08d.gz",
		t.Year(), t.Month(), t.Day(), t.Hour(), t.Format("2006-01-02-15-04-05"), n)
}

// RecordLine is the n-th record's OTLP/JSON line as pdata writes it, before sealing: one resource, one span
// (trace ID from n) whose gen_ai.prompt attribute holds text.
func RecordLine(n int, t time.Time, text string) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "agent-audit")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(TraceID(n))
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(n)+1)
	sp.SetSpanID(id)
	sp.SetName("invoke_agent")
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(t))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(t.Add(time.Millisecond)))
	sp.Attributes().PutStr("gen_ai.operation.name", "invoke_agent")
	sp.Attributes().PutStr("gen_ai.prompt", text)
	var m ptrace.JSONMarshaler
	b, err := m.MarshalTraces(td)
	if err != nil {
		panic(fmt.Sprintf("verifytest: marshal a record: %v", err)) // pdata marshals any Traces it built
	}
	return append(b, '\n')
}

// TraceID is the n-th record's trace ID.
func TraceID(n int) pcommon.TraceID {
	var id [16]byte
	binary.BigEndian.PutUint64(id[8:], uint64(n)+1)
	id[0] = 0x4b
	return id
}

// words makes pseudo-random text that compresses like prose, not like a repeated byte.
type words struct{ r *rand.Rand }

func newWords(seed uint64) *words { return &words{rand.New(rand.NewPCG(seed, seed))} }

var vocabulary = strings.Fields(`the agent called a tool with arguments and the model answered in several turns while the user
asked about the weather invoice total balance report summary count words time date city name number result error
retry token input output cache prompt system assistant function value list table query record span trace audit`)

func (w *words) text(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(vocabulary[w.r.IntN(len(vocabulary))])
		b.WriteByte(' ')
	}
	return b.String()[:n]
}
