package seal

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Verify's errors; each error Verify returns wraps exactly one of them.
var (
	// ErrUnsealed: the record carries no seal (it may say why in AttrUnsealed).
	ErrUnsealed = errors.New("record is not sealed")
	// ErrMalformed: the record's seal is not in the form a Sealer writes (a missing, reordered or repeated seal
	// attribute, a value out of its alphabet, an unknown format version), or the line is not OTLP/JSON.
	ErrMalformed = errors.New("seal malformed")
	// ErrBadSignature: a signature (the record's, or its certificate's) is not in its one accepted encoding
	// (low-S, canonical DER, canonical base64url) or does not verify: the record or certificate was changed
	// after it was signed, or it was signed by another key than the one it names.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrUnknownKey: the key that vouches for the record (its certificate's issuer, or a format-1 record's key)
	// is not one the Verifier was given. The error names the key's fingerprint.
	ErrUnknownKey = errors.New("key not accepted")
	// ErrCertificate: the record's certificate does not vouch for it: it is malformed, certifies another chain
	// or another key than the record names, or its validity window does not hold the record's seal time.
	ErrCertificate = errors.New("certificate does not vouch for the record")
)

// Record is what a verified record says of itself and its place in its chain. On an error, Verify returns the
// fields it could read before the failure (Version, Chain, Seq, TraceID at best): unverified claims, for
// locating the problem only.
type Record struct {
	// Version is the seal format: 2, or 1 for a record sealed before format 2 (its chain links cover signature
	// bytes, so they are malleable: see the package documentation).
	Version int
	Chain   string
	Seq     int64
	// Prev is what the record claims as the previous record's Hash ("" at seq 1).
	Prev string
	// Hash is what the next record's Prev must equal: the hex signed hash (DomainHash in DomainRecord of the
	// line with its signature blanked) in format 2, the hex SHA-256 of the whole line in format 1.
	Hash string
	// KeyFingerprint is the fingerprint of the key whose signature the record carries: the chain's key named
	// by its certificate (format 2), or the accepted key itself (format 1).
	KeyFingerprint string
	// Issuer names the key that vouches for the record: the certificate's issuer (a KMS key ARN or
	// local:sha256:…), or a format-1 record's AttrKey.
	Issuer string
	// IssuerKey is the issuer's fingerprint: as the certificate names it (empty in a certificate written before
	// the issuer's key was known), or, in format 1, the accepted key's.
	IssuerKey string
	// Certified is true when an accepted key vouches for KeyFingerprint: the certificate carries a cert_sig
	// that verifies under the accepted key IssuerKey names (format 2), or the record is signed by an accepted
	// key itself (format 1). A format-2 record without it is vouched for only by another record of the same
	// chain and key that has it (the certificate binds the two; see Chains).
	Certified bool
	// CertID is the hex DomainHash of the certificate's bytes: the same for every record of one certificate.
	CertID string
	// Cert is the certificate the record carries (format 2; zero in format 1).
	Cert Certificate
	// SealTime is when the record was sealed, by the sealer's clock (format 2; zero in format 1).
	SealTime time.Time
	// Undelivered are the seqs the record declares sealed but never delivered.
	Undelivered []int64
	// TraceID is the trace ID of the record's first span, lowercase hex ("" when it has none).
	TraceID string
}

// maxCachedCerts bounds the Verifier's cache of checked certificates; a chain has one per key and renewal.
const maxCachedCerts = 4096

// Verifier checks records against a set of accepted public keys, each selected by its fingerprint, never by
// trying every key. Safe for concurrent use once built (AcceptLegacyKeyID must come before the first Verify).
type Verifier struct {
	keys   map[string]*ecdsa.PublicKey
	legacy map[string]*ecdsa.PublicKey

	mu    sync.RWMutex
	certs map[string]*checkedCert
}

// checkedCert is the outcome of checking one certificate with one cert_sig (or none).
type checkedCert struct {
	cert      Certificate
	pub       recordKey
	id        string
	certified bool
	err       error
}

// NewVerifier returns a Verifier accepting keys, by their fingerprints. A key that is not ECDSA P-256 is not
// accepted (Keys lists the ones that are).
func NewVerifier(keys ...*ecdsa.PublicKey) *Verifier {
	v := &Verifier{keys: map[string]*ecdsa.PublicKey{}, legacy: map[string]*ecdsa.PublicKey{}, certs: map[string]*checkedCert{}}
	for _, k := range keys {
		if k == nil || k.Curve == nil || k.Curve.Params().Name != "P-256" {
			continue
		}
		if fp, err := Fingerprint(k); err == nil {
			v.keys[fp] = k
		}
	}
	return v
}

// AcceptLegacyKeyID accepts pub and binds to it the format-1 records that name keyID (a KMS key ARN: format 1
// named KMS keys by ARN, not by fingerprint). Without a binding, a format-1 record naming a KMS key verifies
// only when the Verifier holds exactly one key. Call it before the first Verify.
func (v *Verifier) AcceptLegacyKeyID(keyID string, pub *ecdsa.PublicKey) error {
	fp, err := Fingerprint(pub)
	if err != nil {
		return err
	}
	v.keys[fp] = pub
	v.legacy[keyID] = pub
	return nil
}

// Keys returns the fingerprints of the accepted keys, sorted.
func (v *Verifier) Keys() []string {
	fps := make([]string, 0, len(v.keys))
	for fp := range v.keys {
		fps = append(fps, fp)
	}
	slices.Sort(fps)
	return fps
}

// Verify checks one stored line (with its '\n', as Firehose wrote it) and returns what the record says of
// itself. A format-2 record verifies when its seal is in the one form a Sealer writes; its certificate is
// well-formed, certifies the record's chain and the key the record names, and its window (to CertGrace after
// not_after) holds the record's seal time; a cert_sig, if present, verifies under the accepted key its
// issuer_key names (else ErrUnknownKey); and the record's signature verifies under the certified key. A record
// without cert_sig verifies with Certified false. Format-1 records are verified as before format 2, under the
// key their AttrKey selects.
//
// Format 2 costs one SHA-256 over the line and one Ed25519 verification: the seal is read from the line's first
// bytes (see wire.go) without unmarshalling the record, and each certificate is checked once and cached.
func (v *Verifier) Verify(line []byte) (Record, error) { return v.verify(line, true) }

// Inspect checks everything Verify checks except the verification of the record's own signature (its one
// accepted encoding is still checked), at about a fifth of the cost. It is for a caller that checks chains: a
// record whose successor's signature verifies and whose Hash that successor's Prev equals is vouched for by that
// signature, since the signed hash covers every byte of the record but its signature. Such a caller Verifies the
// last record of each run of linked records and, to name the culprit, both records of a link that does not
// match. Format-1 records are Verified in full.
func (v *Verifier) Inspect(line []byte) (Record, error) { return v.verify(line, false) }

func (v *Verifier) verify(line []byte, checkSig bool) (Record, error) {
	if !hasPrefix(line, v2Prefix) {
		return v.verifyOther(line)
	}
	r := Record{Version: Version, TraceID: firstTraceID(line)}
	s, err := parseSeal(line)
	r.Chain, r.Seq = s.chain, s.seq
	if err != nil {
		return r, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	r.Prev, r.Undelivered = s.prev, s.undelivered
	switch {
	case len(s.chain) != 32:
		return r, fmt.Errorf("%w: chain id %q is not 32 hex digits", ErrMalformed, s.chain)
	case s.seq < 1:
		return r, fmt.Errorf("%w: seq %d", ErrMalformed, s.seq)
	case s.seq == 1 && s.prev != "" || s.seq > 1 && len(s.prev) != 64:
		return r, fmt.Errorf("%w: prev %q at seq %d", ErrMalformed, s.prev, s.seq)
	case !ascending(s.undelivered, s.seq):
		return r, fmt.Errorf("%w: undelivered %v: want ascending seqs before %d", ErrMalformed, s.undelivered, s.seq)
	}
	if n := bytes.Count(line, []byte(sealKey)); n != s.attrs {
		return r, fmt.Errorf("%w: the record holds %d agent_audit.seal.* attributes, its seal %d", ErrMalformed, n, s.attrs)
	}
	c := v.checkCert(s.certKey, s.certText, s.certSigText)
	if c.err != nil {
		return r, fmt.Errorf("record %d of chain %s: %w", r.Seq, r.Chain, c.err)
	}
	r.Cert, r.CertID, r.Certified = c.cert, c.id, c.certified
	r.KeyFingerprint, r.Issuer, r.IssuerKey = c.cert.Key, c.cert.Issuer, c.cert.IssuerKey
	r.SealTime = time.Unix(0, s.time).UTC()
	switch {
	case c.cert.Chain != s.chain:
		return r, fmt.Errorf("record %d of chain %s: %w: it certifies chain %s", r.Seq, r.Chain, ErrCertificate, c.cert.Chain)
	case c.cert.Key != s.key:
		return r, fmt.Errorf("record %d of chain %s names key %s: %w: it certifies key %s", r.Seq, r.Chain, s.key, ErrCertificate, c.cert.Key)
	case r.SealTime.Before(c.cert.NotBefore) || r.SealTime.After(c.cert.NotAfter.Add(CertGrace)):
		return r, fmt.Errorf("record %d of chain %s sealed at %s: %w: valid %s to %s", r.Seq, r.Chain,
			r.SealTime.Format(time.RFC3339), ErrCertificate, c.cert.NotBefore.Format(time.RFC3339), c.cert.NotAfter.Format(time.RFC3339))
	}
	if s.alg != c.pub.alg {
		return r, fmt.Errorf("record %d of chain %s: %w: the seal names algorithm %s, the certified key is %s", r.Seq, r.Chain, ErrCertificate, s.alg, c.pub.alg)
	}
	digest := domainHashParts(DomainRecord, line[:s.sigStart], line[s.sigEnd:])
	if checkSig {
		err = c.pub.verify(digest, s.sig)
	} else {
		err = c.pub.checkEncoding(s.sig)
	}
	if err != nil {
		return r, fmt.Errorf("record %d of chain %s, key %s: %w", r.Seq, r.Chain, s.key, err)
	}
	r.Hash = hex.EncodeToString(digest[:])
	return r, nil
}

// checkCert checks a certificate and its cert_sig, once per distinct pair (key is their text in the line).
func (v *Verifier) checkCert(key, attr, sig []byte) *checkedCert {
	v.mu.RLock()
	c, ok := v.certs[string(key)]
	v.mu.RUnlock()
	if ok {
		return c
	}
	c = v.checkCertUncached(string(attr), string(sig))
	v.mu.Lock()
	if len(v.certs) >= maxCachedCerts {
		clear(v.certs)
	}
	v.certs[string(key)] = c
	v.mu.Unlock()
	return c
}

func (v *Verifier) checkCertUncached(attr, sig string) *checkedCert {
	cert, raw, pub, err := parseCert(attr)
	if err != nil {
		return &checkedCert{err: fmt.Errorf("%w: %v", ErrCertificate, err)}
	}
	digest := DomainHash(DomainCert, raw)
	c := &checkedCert{cert: cert, pub: pub, id: hex.EncodeToString(digest[:])}
	if sig == "" {
		return c
	}
	issuer, ok := v.keys[cert.IssuerKey]
	switch {
	case cert.IssuerKey == "":
		c.err = fmt.Errorf("%w: a signed certificate names no issuer key", ErrCertificate)
	case !ok:
		c.err = fmt.Errorf("certificate signed by key %s (issuer %s), which was not passed: %w", cert.IssuerKey, cert.Issuer, ErrUnknownKey)
	default:
		if err := VerifyDigest(issuer, digest, sig); err != nil {
			c.err = fmt.Errorf("certificate signature by %s (key %s): %w", cert.Issuer, cert.IssuerKey, err)
		} else {
			c.certified = true
		}
	}
	return c
}

// ascending tells whether seqs rise strictly, from 1, below seq.
func ascending(seqs []int64, seq int64) bool {
	for i, s := range seqs {
		if s < 1 || s >= seq || i > 0 && s <= seqs[i-1] {
			return false
		}
	}
	return true
}

// firstTraceID reads the trace ID of a line's first span. OTLP/JSON strings are escaped, so the unescaped text
// `"traceId":"` occurs only as a span's (or a later link's) field, and the first is the first span's.
func firstTraceID(line []byte) string {
	const field = `"traceId":"`
	i := bytes.Index(line, []byte(field))
	if i < 0 || len(line) < i+len(field)+32 {
		return ""
	}
	id := line[i+len(field) : i+len(field)+32]
	for _, c := range id {
		if !isHex(c) {
			return ""
		}
	}
	return string(id)
}
