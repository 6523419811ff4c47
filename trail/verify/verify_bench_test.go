package verify

import (
	"context"
	"crypto/ecdsa"
	"path/filepath"
	"testing"

	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify/verifytest"
)

// BenchmarkVerify verifies a local root of 20,000 records (1,000 per object, 20 chains taking turns, prompts of
// 5,000 bytes of words: lines of about 6.5 KB) sealed by the real Sealer, checking one signature per run of
// linked records (the default) and every record's. docs/performance.md reports the 250,000- and
// 1,000,000-record runs of the built CLI.
func BenchmarkVerify(b *testing.B) {
	const records = 20_000
	k := newKey(b)
	root, err := verifytest.WriteRoot(filepath.Join(b.TempDir(), "audit-data"), newIssuer(b, k), verifytest.Options{
		Records: records, PerObject: 1000, Chains: 20, ContentBytes: 5000,
	})
	if err != nil {
		b.Fatal(err)
	}
	store := trail.NewLocal(root.Dir)
	for _, mode := range []struct {
		name string
		all  bool
	}{{"runs", false}, {"every-signature", true}} {
		b.Run(mode.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rep, err := Verify(context.Background(), store, Options{Keys: []*ecdsa.PublicKey{&k.PublicKey}, AllSignatures: mode.all})
				if err != nil || !rep.Verified {
					b.Fatalf("verify: %v %+v", err, rep.Findings)
				}
			}
			b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
