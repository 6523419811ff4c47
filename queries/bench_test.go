package queries

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/agentaudittest"
	"github.com/agent-audit/agent-audit/function/demo"
)

const (
	benchRuns          = 100_000
	benchHours         = 48   // runs spread over two days, so day and hour filters have objects to skip
	benchRecordsPerObj = 1000 // Firehose packs many records into one object (5 MB buffer by default)
)

var (
	benchOnce  sync.Once
	benchDir   string
	benchBytes int64
	benchErr   error
)

// benchRoot generates benchRuns runs' worth of records once per process: the real function with the offline
// model produces the records of a few distinct runs (prompts with and without tools, a failure), and those
// records are written as Firehose would, benchRecordsPerObj to a GZIP object, over benchHours hourly partitions.
// Re-using a run's record keeps generation to seconds; the views then see benchRuns runs (each copy is a distinct
// trace: its IDs are rewritten).
func benchRoot(b *testing.B) (string, int64) {
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "agent-audit-bench-")
		if benchErr != nil {
			return
		}
		sink := &agentaudittest.MemorySink{}
		cfg := agentaudit.DefaultConfig()
		cfg.Model = agentaudit.ModelOffline
		a, err := agentaudit.New(context.Background(), cfg, append(demo.Options(), agentaudit.WithSink(sink), agentaudit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))...)
		if err != nil {
			benchErr = err
			return
		}
		for _, p := range []string{`{"prompt":"What is 17 * 23?"}`, `{"prompt":"What time is it in Tokyo?"}`, `{"prompt":"Say hello."}`, `{"prompt":"x [fail:ThrottlingException]"}`} {
			_, _ = a.Handler.Handle(context.Background(), []byte(p))
		}
		templates := sink.Records()
		start := time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)
		var object bytes.Buffer
		zw := gzip.NewWriter(&object)
		n, obj := 0, 0
		flush := func(hour time.Time) {
			zw.Close()
			dir := filepath.Join(benchDir, fmt.Sprintf("traces/year=%04d/month=%02d/day=%02d/hour=%02d", hour.Year(), hour.Month(), hour.Day(), hour.Hour()))
			if benchErr = os.MkdirAll(dir, 0o755); benchErr == nil {
				benchErr = os.WriteFile(filepath.Join(dir, fmt.Sprintf("bench-%06d.gz", obj)), object.Bytes(), 0o644)
			}
			benchBytes += int64(object.Len())
			obj++
			object.Reset()
			zw.Reset(&object)
		}
		for run := 0; run < benchRuns && benchErr == nil; run++ {
			rec := templates[run%len(templates)]
			// A distinct trace ID per run: replace the template's 32-hex ID with the run number.
			id := fmt.Sprintf("%032x", run+1)
			rec = bytes.ReplaceAll(rec, rec[bytes.Index(rec, []byte(`"traceId":"`))+11:][:32], []byte(id))
			zw.Write(rec)
			n++
			if n%benchRecordsPerObj == 0 || run == benchRuns-1 {
				flush(start.Add(time.Duration(run*benchHours/benchRuns) * time.Hour))
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir, benchBytes
}

// BenchmarkViews times the runs and traces views over 100,000 runs: cold (a new DuckDB with the views defined,
// nothing cached by DuckDB; the OS page cache is warm) and warm (the same connection again), over everything and
// with a partition filter on one day or one hour. MB/s is GZIP bytes of the whole trail per second.
func BenchmarkViews(b *testing.B) {
	root, size := benchRoot(b)
	queries := []struct{ name, sql string }{
		{"runs/all", "SELECT count(*), sum(in_tokens), sum(out_tokens) FROM runs"},
		{"traces/all", "SELECT model, count(*), sum(in_tokens + out_tokens) FROM traces GROUP BY model"},
		{"runs/one-day", "SELECT count(*) FROM runs WHERE year = 2026 AND month = 6 AND day = 9"},
		{"runs/one-hour", "SELECT count(*) FROM runs WHERE year = 2026 AND month = 6 AND day = 9 AND hour = 5"},
	}
	for _, q := range queries {
		for _, mode := range []string{"cold", "warm"} {
			b.Run(q.name+"/"+mode, func(b *testing.B) {
				db, err := Open(context.Background(), root)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				b.SetBytes(size)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if mode == "cold" {
						b.StopTimer()
						db.Close()
						if db, err = Open(context.Background(), root); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					rows, err := db.Query(q.sql)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
					}
					rows.Close()
				}
				b.ReportMetric(float64(benchRuns)*float64(b.N)/b.Elapsed().Seconds(), "runs/s")
			})
		}
	}
}
