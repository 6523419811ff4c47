package audit

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

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
		// The spans are snapshots: feed them as ended spans of a trace the processor has not seen, which ships
		// them as one shipment, exactly as at the end of a run.
		p.mu.Lock()
		p.traces[spans[0].SpanContext().TraceID()] = &traceState{open: len(spans)}
		p.mu.Unlock()
		for _, s := range spans {
			p.OnEnd(s)
		}
	}
	b.ReportMetric(float64(len(recs)), "records/trace")
}

// BenchmarkShipTypicalTrace: 10 spans with about 20 KB of content, one record.
func BenchmarkShipTypicalTrace(b *testing.B) {
	benchmarkShip(b, stubTrace(10, 2200), DefaultMaxRecordBytes)
}

// BenchmarkShipLargeTrace: 40 spans with about 2 MB of content, split into three records.
func BenchmarkShipLargeTrace(b *testing.B) {
	benchmarkShip(b, stubTrace(40, 52_000), DefaultMaxRecordBytes)
}

// BenchmarkShipTypicalTraceSealed: the typical trace, sealed (format 2: the chain's own P-256 key signs, its
// certification is done once, before the timer starts). Compare with BenchmarkShipTypicalTrace of the same run:
// the difference is the seal's cost per record.
func BenchmarkShipTypicalTraceSealed(b *testing.B) {
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
	defer sealer.Close()
	sealer.Certify()
	benchmarkShip(b, stubTrace(10, 2200), DefaultMaxRecordBytes, WithSealer(sealer))
}
