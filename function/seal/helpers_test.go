package seal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/agent-audit/agent-audit/function/seal"
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issuer is a FileSigner whose signing can be made to fail or hang, and which counts its signatures.
type issuer struct {
	*seal.FileSigner
	mu    sync.Mutex
	fails int           // the next fails Sign calls fail
	hang  chan struct{} // while non-nil and open, Sign waits for it (or ctx)
	signs int
}

func newIssuer(t testing.TB, k *ecdsa.PrivateKey) *issuer {
	t.Helper()
	fs, err := seal.NewFileSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{FileSigner: fs}
}

func (i *issuer) Sign(ctx context.Context, digest []byte) ([]byte, error) {
	i.mu.Lock()
	i.signs++
	hang := i.hang
	fail := i.fails > 0
	if fail {
		i.fails--
	}
	i.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail {
		return nil, errors.New("KMSInternalException: try again")
	}
	return i.FileSigner.Sign(ctx, digest)
}

func (i *issuer) Signs() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.signs
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newSealer returns a Sealer certified by iss, closed when the test ends.
func newSealer(t testing.TB, iss seal.Issuer, opts ...seal.Option) *seal.Sealer {
	t.Helper()
	s, err := seal.NewSealer(iss, append([]seal.Option{seal.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// record and line are the package's own test fixtures (export_test.go): one-span traces and their lines.
var (
	record = seal.RecordForTest
	line   = seal.LineForTest
)

func sealN(t testing.TB, s *seal.Sealer, n int) [][]byte {
	t.Helper()
	var lines [][]byte
	for i := range n {
		l, _, err := s.Seal(context.Background(), line(t, record(fmt.Sprintf("prompt %d", i))))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return lines
}

func fingerprint(t testing.TB, k *ecdsa.PublicKey) string {
	t.Helper()
	fp, err := seal.Fingerprint(k)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// check verifies lines (each must verify) into Chains and returns the report.
func check(t testing.TB, v *seal.Verifier, lines [][]byte, windowed bool) seal.Report {
	t.Helper()
	var c seal.Chains
	for i, l := range lines {
		r, err := v.Verify(l)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		c.Add(r, fmt.Sprint("line ", i))
	}
	return c.Check(windowed)
}

func problems(rep seal.Report) []string {
	var out []string
	for _, p := range rep.Problems {
		out = append(out, p.String())
	}
	return out
}
