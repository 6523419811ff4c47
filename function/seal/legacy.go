package seal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// verifyOther checks a line that does not start as a format-2 seal: an unsealed record, a format-1 record, or
// one that is not OTLP/JSON or whose seal is out of place. These are read with pdata, whole: they are the
// exceptions, and format 1 puts its seal wherever pdata put the attributes.
func (v *Verifier) verifyOther(line []byte) (Record, error) {
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(line)
	if err != nil {
		return Record{}, fmt.Errorf("not an OTLP/JSON record: %v: %w", err, ErrMalformed)
	}
	r := Record{TraceID: firstTraceID(line)}
	if td.ResourceSpans().Len() == 0 {
		return r, fmt.Errorf("record has no resource: %w", ErrUnsealed)
	}
	attrs := td.ResourceSpans().At(0).Resource().Attributes()
	str := func(k string) (string, bool) {
		v, ok := attrs.Get(k)
		return v.Str(), ok
	}
	sig, sealed := str(AttrSig)
	// A format-2 seal anywhere but at the line's start, or without its version, is no format-1 seal.
	_, versioned := attrs.Get(AttrVersion)
	if _, cert := attrs.Get(AttrCert); cert {
		versioned = true
	}
	switch {
	case !sealed && !versioned:
		if why, ok := str(AttrUnsealed); ok {
			return r, fmt.Errorf("%w: %s", ErrUnsealed, why)
		}
		return r, ErrUnsealed
	case versioned:
		ver, ok := attrs.Get(AttrVersion)
		if !ok {
			return r, fmt.Errorf("%w: a format-%d seal without its version", ErrMalformed, Version)
		}
		return r, fmt.Errorf("%w: seal format %s, or a format-%d seal that is not the first resource's first attributes", ErrMalformed, ver.AsString(), Version)
	}
	return v.verifyV1(line, attrs, sig)
}

// verifyV1 checks a format-1 record: attributes chain, seq, prev (hex SHA-256 of the previous line), key (a KMS
// key ARN or local:sha256:<fingerprint hex>), alg and sig (base64url DER over SHA-256 of the line with the
// signature value blanked). The key is selected by the fingerprint in a local key id, by AcceptLegacyKeyID for
// a KMS ARN, or, for an unbound ARN, only when the Verifier holds a single key. The signature is decoded as
// format 1 wrote it (no low-S rule), which is why format 1's links stay malleable.
func (v *Verifier) verifyV1(line []byte, attrs pcommon.Map, sig string) (Record, error) {
	r := Record{Version: 1, TraceID: firstTraceID(line)}
	var okChain, okKey bool
	if c, ok := attrs.Get(AttrChain); ok {
		r.Chain, okChain = c.Str(), true
	}
	if p, ok := attrs.Get(AttrPrev); ok {
		r.Prev = p.Str()
	}
	if k, ok := attrs.Get(AttrKey); ok {
		r.Issuer, okKey = k.Str(), true
	}
	if seq, ok := attrs.Get(AttrSeq); ok {
		r.Seq = seq.Int()
	}
	if !okChain || !okKey || r.Seq < 1 {
		return r, fmt.Errorf("%w: format-1 seal incomplete: chain, key and a positive seq are required", ErrMalformed)
	}
	if alg, _ := attrs.Get(AttrAlg); alg.Str() != AlgorithmP256 {
		return r, fmt.Errorf("%w: seal algorithm %q, want %s", ErrMalformed, alg.Str(), AlgorithmP256)
	}
	var pub *ecdsa.PublicKey
	if fp, local := strings.CutPrefix(r.Issuer, "local:"); local {
		if pub = v.keys[fp]; pub == nil {
			return r, fmt.Errorf("record %d of chain %s signed by key %s, which was not passed: %w", r.Seq, r.Chain, fp, ErrUnknownKey)
		}
	} else if pub = v.legacy[r.Issuer]; pub == nil {
		if len(v.keys) != 1 {
			return r, fmt.Errorf("record %d of chain %s (seal format 1) names key %s, which no accepted key is bound to (%d keys passed): %w", r.Seq, r.Chain, r.Issuer, len(v.keys), ErrUnknownKey)
		}
		for _, k := range v.keys {
			pub = k
		}
	}
	r.KeyFingerprint, _ = Fingerprint(pub)
	r.IssuerKey, r.Certified = r.KeyFingerprint, true
	der, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return r, fmt.Errorf("signature is not base64url: %w", ErrBadSignature)
	}
	signed := []byte(sigField + sig + `"}}`)
	if bytes.Count(line, []byte(sigField)) != 1 || !bytes.Contains(line, signed) {
		return r, fmt.Errorf("%w: signature attribute not in its sealed form", ErrMalformed)
	}
	blank := bytes.Replace(line, signed, []byte(sigField+`"}}`), 1)
	digest := sha256.Sum256(blank)
	if !ecdsa.VerifyASN1(pub, digest[:], der) {
		return r, fmt.Errorf("record %d of chain %s, key %s: %w", r.Seq, r.Chain, r.Issuer, ErrBadSignature)
	}
	sum := sha256.Sum256(line)
	r.Hash = hex.EncodeToString(sum[:])
	return r, nil
}
