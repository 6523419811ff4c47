package seal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/function/seal"
)

// typicalLine is a record of the size of the audit pipeline's typical trace (about 27 KB).
func typicalLine(b *testing.B) []byte {
	return line(b, record(strings.Repeat("lorem ipsum ", 2200)))
}

// BenchmarkSeal: sealing one typical record with a certified chain key: one SHA-256 over the line, one local
// Ed25519 signature, and the line copied once to make room for the seal.
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

// BenchmarkChainKeySignature compares the two signatures a chain key can make over a record's 32-byte signed
// hash: Ed25519, what a Sealer signs with, and ECDSA P-256, what chain keys signed with before (and the issuers
// still do). The difference is what the choice saves on every record's path.
func BenchmarkChainKeySignature(b *testing.B) {
	digest := seal.DomainHash(seal.DomainRecord, []byte("a record"))
	b.Run("Ed25519", func(b *testing.B) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for range b.N {
			ed25519.Sign(key, digest[:])
		}
	})
	b.Run("ECDSA-P256", func(b *testing.B) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for range b.N {
			if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
