package seal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/function/seal"
)

// typicalLine is a record of the size of the audit pipeline's typical trace (about 27 KB).
func typicalLine(b *testing.B) []byte {
	return line(b, record(strings.Repeat("lorem ipsum ", 2200)))
}

// BenchmarkSeal: sealing one typical record with a certified chain key: one SHA-256 over the line, one local
// P-256 signature, and the line's tail moved over to make room for the seal.
func BenchmarkSeal(b *testing.B) {
	s := newSealer(b, newIssuer(b, newKey(b)))
	l := typicalLine(b)
	if _, _, err := s.Seal(context.Background(), l); err != nil { // certifies the key before the timer starts
		b.Fatal(err)
	}
	// Seal may build in the line's spare capacity, so each round seals a fresh copy, as the encoder hands it one.
	buf := make([]byte, len(l), len(l)+seal.Overhead)
	b.SetBytes(int64(len(l)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		copy(buf, l)
		if _, _, err := s.Seal(context.Background(), buf[:len(l)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify: verifying one typical record: the seal read from the line's start, the certificate from the
// Verifier's cache, one SHA-256 and one P-256 verification.
func BenchmarkVerify(b *testing.B) { benchmarkVerify(b, (*seal.Verifier).Verify) }

// BenchmarkInspect: Verify without the record's own P-256 verification, for a verifier that lets each chain's
// links carry the signatures.
func BenchmarkInspect(b *testing.B) { benchmarkVerify(b, (*seal.Verifier).Inspect) }

func benchmarkVerify(b *testing.B, check func(*seal.Verifier, []byte) (seal.Record, error)) {
	k := newKey(b)
	s := newSealer(b, newIssuer(b, k))
	sealed, _, err := s.Seal(context.Background(), typicalLine(b))
	if err != nil {
		b.Fatal(err)
	}
	v := seal.NewVerifier(&k.PublicKey)
	if _, err := check(v, sealed); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(sealed)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := check(v, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
