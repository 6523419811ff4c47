package verify

import (
	"context"
	"crypto/ecdsa"
	"path/filepath"
	"testing"

	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify/verifytest"
)

// BenchmarkVerify verifies a local root of 20,000 records (100 per object, 4 chains, prompts of 5 KB of words:
// lines of about 6.5 KB, as `audit run` writes) sealed by the real Sealer. records/s is the figure
// docs/performance.md reports; its 1,000,000-record run uses the built CLI (see there).
func BenchmarkVerify(b *testing.B) {
	const records = 20_000
	k := newKey(b)
	root, err := verifytest.WriteRoot(filepath.Join(b.TempDir(), "audit-data"), newIssuer(b, k), verifytest.Options{
		Records: records, PerObject: 100, Chains: 4, ContentBytes: 5000,
	})
	if err != nil {
		b.Fatal(err)
	}
	store := trail.NewLocal(root.Dir)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := Verify(context.Background(), store, Options{Keys: []*ecdsa.PublicKey{&k.PublicKey}})
		if err != nil || !rep.Verified {
			b.Fatalf("verify: %v %+v", err, rep.Findings)
		}
	}
	b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
}
