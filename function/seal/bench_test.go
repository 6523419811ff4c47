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
// P-256 signature, one copy.
func BenchmarkSeal(b *testing.B) {
	s := newSealer(b, newIssuer(b, newKey(b)))
	l := typicalLine(b)
	if _, _, err := s.Seal(context.Background(), l); err != nil { // certifies the key before the timer starts
		b.Fatal(err)
	}
	b.SetBytes(int64(len(l)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, _, err := s.Seal(context.Background(), l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify: verifying one typical record: the seal read from the line's start, the certificate from the
// Verifier's cache, one SHA-256 and one P-256 verification.
func BenchmarkVerify(b *testing.B) {
	k := newKey(b)
	s := newSealer(b, newIssuer(b, k))
	sealed, _, err := s.Seal(context.Background(), typicalLine(b))
	if err != nil {
		b.Fatal(err)
	}
	v := seal.NewVerifier(&k.PublicKey)
	if _, err := v.Verify(sealed); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(sealed)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := v.Verify(sealed); err != nil {
			b.Fatal(err)
		}
	}
}
