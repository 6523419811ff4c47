package replay

import (
	"context"
	"crypto/ecdsa"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/internal/miniotest"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify"
)

// TestReplayReadsTheBucket replays from a real S3 (MinIO, Object Lock on) holding the fixture's objects, records
// and oversize content alike, verified first.
func TestReplayReadsTheBucket(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	srv := miniotest.Start(t)
	srv.LockedBucket(t, "audit", types.ObjectLockRetentionModeGovernance, 1)
	store := trail.NewS3(srv.Client(t), "audit")
	err := filepath.WalkDir(f.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name()[0] == '.' {
			return err
		}
		rel, _ := filepath.Rel(f.root, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = store.Put(ctx, filepath.ToSlash(rel), data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// DuckDB reads s3:// through its httpfs extension, which it downloads on first use: select on the local copy,
	// whose keys are the bucket's.
	sel, err := Select(ctx, openDB(t, f.root), f.root, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var spans atomic.Int64
	exp, _ := NewExporter(ExporterConfig{Endpoint: countingServer(t, &spans).URL})
	opts := Options{Verify: &verify.Options{Keys: []*ecdsa.PublicKey{signingKey(t, f.key)}}}
	sum, err := Replay(ctx, store, sel, exp, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := len(stored(t, f.root))
	if !sum.Delivered() || sum.Traces != len(f.ids) || sum.Spans != want || spans.Load() != int64(want) || sum.Oversize == 0 {
		t.Errorf("summary %+v, server saw %d spans: want %d traces and %d spans, oversize content put back", sum, spans.Load(), len(f.ids), want)
	}
}
