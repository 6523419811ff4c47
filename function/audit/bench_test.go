package audit

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/agent-audit/agent-audit/function/seal"
)

// discard is a Sink that accepts everything, so the benchmarks measure the processor, encoder and splitter.
type discard struct{ bytes int }

func (d *discard) Deliver(_ context.Context, records [][]byte) error {
	for _, r := range records {
		d.bytes += len(r)
	}
	return nil
}

// benchmarkShip drives spans through OnStart/OnEnd of a Processor, the path a real trace takes, and reports the
// encoded bytes per trace as the throughput basis.
func benchmarkShip(b *testing.B, spans []sdktrace.ReadOnlySpan, maxRecord int, opts ...EncoderOption) {
	sink := &discard{}
	p := NewProcessor(sink, WithMaxRecordBytes(maxRecord), WithEncoderOptions(opts...))
	recs, err := NewEncoder(maxRecord).Encode(context.Background(), spans, false)
	if err != nil {
		b.Fatal(err)
	}
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		shipOnce(p, spans)
	}
	b.ReportMetric(float64(len(recs)), "records/trace")
}

// shipOnce feeds spans, snapshots of one trace, to p as the ended spans of a trace it has not seen, which ships
// them as one shipment, exactly as at the end of a run.
func shipOnce(p *Processor, spans []sdktrace.ReadOnlySpan) {
	p.mu.Lock()
	p.traces[spans[0].SpanContext().TraceID()] = &traceState{open: len(spans)}
	p.mu.Unlock()
	for _, s := range spans {
		p.OnEnd(s)
	}
}

// BenchmarkShipTypicalTrace: 10 spans with about 20 KB of content, one record.
func BenchmarkShipTypicalTrace(b *testing.B) {
	benchmarkShip(b, stubTrace(10, 2200), DefaultMaxRecordBytes)
}

// BenchmarkShipLargeTrace: 40 spans with about 2 MB of content, split into three records.
func BenchmarkShipLargeTrace(b *testing.B) {
	benchmarkShip(b, stubTrace(40, 52_000), DefaultMaxRecordBytes)
}

// benchSealer returns a Sealer certified by a local key, closed when the benchmark ends; its key's
// certification has started, and the first shipment waits for it (before the timer starts).
func benchSealer(b *testing.B) *seal.Sealer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	issuer, err := seal.NewFileSigner(key)
	if err != nil {
		b.Fatal(err)
	}
	sealer, err := seal.NewSealer(issuer, seal.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sealer.Close)
	sealer.Certify()
	return sealer
}

// BenchmarkShipTypicalTraceSealed: the typical trace, sealed (format 2: the chain's own Ed25519 key signs, its
// certification is done once, before the timer starts). Compare with BenchmarkShipTypicalTrace of the same run:
// the difference is the seal's cost per record.
func BenchmarkShipTypicalTraceSealed(b *testing.B) {
	sealer := benchSealer(b)
	benchmarkShip(b, stubTrace(10, 2200), DefaultMaxRecordBytes, WithSealer(sealer))
}

// BenchmarkSealCost ships the typical trace through an unsealed and a sealed processor in turn, in every
// iteration, so that both see the same machine load, and reports each one's time per record and the
// difference: the seal's cost per record in the pipeline (the seal itself, and the garbage of its one extra
// record-sized buffer).
func BenchmarkSealCost(b *testing.B) {
	sealer := benchSealer(b)
	spans := stubTrace(10, 2200)
	plain := NewProcessor(&discard{}, WithMaxRecordBytes(DefaultMaxRecordBytes))
	sealed := NewProcessor(&discard{}, WithMaxRecordBytes(DefaultMaxRecordBytes), WithEncoderOptions(WithSealer(sealer)))
	ship := func(p *Processor) time.Duration {
		start := time.Now()
		shipOnce(p, spans)
		return time.Since(start)
	}
	ship(sealed) // certifies the sealing key before the timer starts
	var unsealedTime, sealedTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		unsealedTime += ship(plain)
		sealedTime += ship(sealed)
	}
	n := float64(b.N)
	b.ReportMetric(float64(unsealedTime.Nanoseconds())/n/1e3, "unsealed-µs/record")
	b.ReportMetric(float64(sealedTime.Nanoseconds())/n/1e3, "sealed-µs/record")
	b.ReportMetric(float64((sealedTime-unsealedTime).Nanoseconds())/n/1e3, "seal-µs/record")
}
