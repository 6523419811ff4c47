package seal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// ErrUnsealed is wrapped by Verify's error for a record that carries no seal.
var ErrUnsealed = errors.New("record is not sealed")

// ErrBadSignature is wrapped by Verify's error for a record whose signature does not match its bytes under any
// of the verifier's keys: the record was changed after it was signed, or signed by another key.
var ErrBadSignature = errors.New("signature does not verify")

// Record is what a verified record says of its place in its chain.
type Record struct {
	Chain string
	Seq   int64
	// Prev is the hex SHA-256 of the previous record's line, as the record claims it.
	Prev string
	// Hash is the hex SHA-256 of this record's line, what the next record's Prev must be.
	Hash  string
	KeyID string
}

// Verifier checks records against a set of public keys. Safe for concurrent use.
type Verifier struct {
	keys []*ecdsa.PublicKey
}

// NewVerifier returns a Verifier accepting signatures by any of keys.
func NewVerifier(keys ...*ecdsa.PublicKey) *Verifier { return &Verifier{keys: keys} }

// Verify checks one stored line (with its '\n', as Firehose wrote it): that it is OTLP/JSON, carries a seal,
// and that the signature verifies over the line with the signature value blanked. It returns the record's
// chain position.
func (v *Verifier) Verify(line []byte) (Record, error) {
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(line)
	if err != nil {
		return Record{}, fmt.Errorf("not an OTLP/JSON record: %w", err)
	}
	if td.ResourceSpans().Len() == 0 {
		return Record{}, fmt.Errorf("record has no resource: %w", ErrUnsealed)
	}
	attrs := td.ResourceSpans().At(0).Resource().Attributes()
	str := func(k string) (string, bool) {
		v, ok := attrs.Get(k)
		return v.Str(), ok
	}
	sig, ok := str(AttrSig)
	if !ok {
		if why, ok := str(AttrUnsealed); ok {
			return Record{}, fmt.Errorf("%w: %s", ErrUnsealed, why)
		}
		return Record{}, ErrUnsealed
	}
	var r Record
	var okChain, okKey, okSeq bool
	r.Chain, okChain = str(AttrChain)
	r.Prev, _ = str(AttrPrev)
	r.KeyID, okKey = str(AttrKey)
	if seq, ok := attrs.Get(AttrSeq); ok {
		r.Seq, okSeq = seq.Int(), true
	}
	if !okChain || !okKey || !okSeq || r.Seq < 1 {
		return Record{}, fmt.Errorf("seal incomplete: chain, key and a positive seq are required: %w", ErrBadSignature)
	}
	if alg, _ := str(AttrAlg); alg != Algorithm {
		return Record{}, fmt.Errorf("seal algorithm %q, want %s", alg, Algorithm)
	}
	der, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return Record{}, fmt.Errorf("signature is not base64url: %w", ErrBadSignature)
	}
	signed := []byte(sigField + sig + `"}}`)
	if bytes.Count(line, []byte(sigField)) != 1 || !bytes.Contains(line, signed) {
		return Record{}, fmt.Errorf("signature attribute not in its sealed form: %w", ErrBadSignature)
	}
	blank := bytes.Replace(line, signed, []byte(sigField+`"}}`), 1)
	digest := sha256.Sum256(blank)
	verified := false
	for _, k := range v.keys {
		if ecdsa.VerifyASN1(k, digest[:], der) {
			verified = true
			break
		}
	}
	if !verified {
		return Record{}, fmt.Errorf("record %d of chain %s, key %s: %w", r.Seq, r.Chain, r.KeyID, ErrBadSignature)
	}
	sum := sha256.Sum256(line)
	r.Hash = hex.EncodeToString(sum[:])
	return r, nil
}
