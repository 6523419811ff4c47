package seal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Sealer signs records and chains them. Safe for concurrent use: it holds its lock while signing (for KMS, one
// network call), so concurrent callers are serialised and the chain stays one sequence. A Lambda container runs
// one invocation at a time, so the lock costs nothing there.
type Sealer struct {
	signer Signer
	chain  string

	mu   sync.Mutex
	seq  int64
	prev string
	// save records the chain position after each record (ResumeSealer); nil for an in-memory chain.
	save func()
	// unlock releases a resumed chain's lock; the process's end does it otherwise.
	unlock func()
}

// NewSealer returns a Sealer starting a new chain, with a random chain id, signed by signer.
func NewSealer(signer Signer) (*Sealer, error) {
	if n := len(signer.KeyID()); n == 0 || n > MaxKeyIDBytes {
		return nil, fmt.Errorf("seal: signing key id of %d bytes; want 1..%d", n, MaxKeyIDBytes)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("seal: chain id: %w", err)
	}
	return &Sealer{signer: signer, chain: hex.EncodeToString(b[:])}, nil
}

// Close releases what a resumed Sealer holds (ResumeSealer's lock), so another process may continue the chain.
// The Sealer must not seal afterwards. A Sealer from NewSealer holds nothing.
func (s *Sealer) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unlock != nil {
		s.unlock()
		s.unlock, s.save = nil, nil
	}
}

// Chain returns the chain id of the records this Sealer seals.
func (s *Sealer) Chain() string { return s.chain }

// Seq returns the position of the last record sealed, 0 before the first.
func (s *Sealer) Seq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// Seal sets the seal attributes on td's first resource, marshals td as one '\n'-terminated OTLP/JSON line and
// signs it. The record takes the next position in the chain; a signing failure takes none, so the chain has no
// gap for a record that never existed, and leaves td without seal attributes. td is modified.
func (s *Sealer) Seal(ctx context.Context, td ptrace.Traces) ([]byte, error) {
	if td.ResourceSpans().Len() == 0 {
		return nil, errors.New("seal: record has no resource to carry the seal")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.seq + 1
	attrs := td.ResourceSpans().At(0).Resource().Attributes()
	attrs.PutStr(AttrChain, s.chain)
	attrs.PutInt(AttrSeq, seq)
	attrs.PutStr(AttrPrev, s.prev)
	attrs.PutStr(AttrKey, s.signer.KeyID())
	attrs.PutStr(AttrAlg, Algorithm)
	attrs.PutStr(AttrSig, "")
	var m ptrace.JSONMarshaler
	b, err := m.MarshalTraces(td)
	if err != nil {
		return nil, fmt.Errorf("seal: marshal OTLP/JSON: %w", err)
	}
	line := append(b, '\n')
	blank := []byte(sigField + `"}}`)
	if n := bytes.Count(line, []byte(sigField)); n != 1 {
		return nil, fmt.Errorf("seal: record holds %d signature attributes, want 1", n)
	}
	digest := sha256.Sum256(line)
	der, err := s.signer.Sign(ctx, digest[:])
	if err != nil {
		attrs.RemoveIf(func(k string, _ pcommon.Value) bool {
			return k == AttrChain || k == AttrSeq || k == AttrPrev || k == AttrKey || k == AttrAlg || k == AttrSig
		})
		return nil, fmt.Errorf("seal: sign record %d of chain %s: %w", seq, s.chain, err)
	}
	signed := []byte(sigField + base64.RawURLEncoding.EncodeToString(der) + `"}}`)
	line = bytes.Replace(line, blank, signed, 1)
	sum := sha256.Sum256(line)
	s.seq, s.prev = seq, hex.EncodeToString(sum[:])
	if s.save != nil {
		s.save()
	}
	return line, nil
}
