package seal

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
)

// Signing domains: every signature of this project is over DomainHash(domain, message), so a signature made for
// one kind of message (a record, a certificate, a digest) can never be taken for another.
const (
	// DomainRecord signs a record line with its signature value blanked.
	DomainRecord = "agent-audit.seal.v2.record"
	// DomainCert signs a certificate's bytes.
	DomainCert = "agent-audit.seal.v2.cert"
	// DomainDigest signs a digest file with its signature value blanked.
	DomainDigest = "agent-audit.digest.v1"
)

// DomainHash is SHA-256(domain || 0x00 || msg): the 32 bytes a Signer signs (KMS: MessageType DIGEST).
func DomainHash(domain string, msg []byte) [32]byte { return domainHashParts(domain, msg) }

// domainHashParts is DomainHash of the concatenation of parts, without copying them into one message.
func domainHashParts(domain string, parts ...[]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write([]byte{0})
	for _, p := range parts {
		h.Write(p)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// p256Order is the order n of P-256's base point; a signature (r, s) has the twin (r, n−s).
var p256Order = elliptic.P256().Params().N

// halfOrder is n/2: a normalised signature has s ≤ n/2.
var halfOrder = new(big.Int).Rsh(p256Order, 1)

type ecdsaSig struct{ R, S *big.Int }

// EncodeSignature normalises an ASN.1 DER ECDSA P-256 signature to its low-S form (s ≤ n/2; the twin (r, n−s)
// verifies as well, so exactly one of the two is accepted) and returns it as unpadded base64url of canonical DER.
func EncodeSignature(der []byte) (string, error) {
	var sig ecdsaSig
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || !inRange(sig.R) || !inRange(sig.S) {
		return "", fmt.Errorf("seal: signer returned a malformed ECDSA signature: %w", ErrBadSignature)
	}
	if sig.S.Cmp(halfOrder) > 0 {
		sig.S = new(big.Int).Sub(p256Order, sig.S)
	}
	canonical, err := asn1.Marshal(sig)
	if err != nil {
		return "", fmt.Errorf("seal: encode signature: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(canonical), nil
}

// DecodeSignature reads a signature written by EncodeSignature, strictly: unpadded base64url that re-encodes to
// the same text (no non-canonical final character), canonical DER with nothing after it, r and s in [1, n−1],
// and s ≤ n/2. Any other form is an error wrapping ErrBadSignature, so one signature has exactly one accepted
// encoding and nobody without the key can produce a second valid one.
func DecodeSignature(s string) ([]byte, error) {
	der, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || base64.RawURLEncoding.EncodeToString(der) != s {
		return nil, fmt.Errorf("signature is not canonical unpadded base64url: %w", ErrBadSignature)
	}
	var sig ecdsaSig
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || !inRange(sig.R) || !inRange(sig.S) {
		return nil, fmt.Errorf("signature is not an ECDSA P-256 signature in DER: %w", ErrBadSignature)
	}
	if again, err := asn1.Marshal(sig); err != nil || !bytes.Equal(again, der) {
		return nil, fmt.Errorf("signature DER is not canonical: %w", ErrBadSignature)
	}
	if sig.S.Cmp(halfOrder) > 0 {
		return nil, fmt.Errorf("signature is not in low-S form: %w", ErrBadSignature)
	}
	return der, nil
}

func inRange(v *big.Int) bool { return v != nil && v.Sign() > 0 && v.Cmp(p256Order) < 0 }

// VerifyDigest checks sig (as DecodeSignature reads it) over digest under pub. It returns nil or an error
// wrapping ErrBadSignature.
func VerifyDigest(pub *ecdsa.PublicKey, digest [32]byte, sig string) error {
	der, err := DecodeSignature(sig)
	if err != nil {
		return err
	}
	if !ecdsa.VerifyASN1(pub, digest[:], der) {
		return ErrBadSignature
	}
	return nil
}

// Fingerprint names a public key (an issuer's *ecdsa.PublicKey, a chain's ed25519.PublicKey) by its content:
// "sha256:" and the hex SHA-256 of its PKIX (SPKI) DER. Keys are selected by fingerprint, never by trying every
// accepted key.
func Fingerprint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("seal: encode public key: %w", err)
	}
	return fingerprintDER(der), nil
}

// fingerprintDER is Fingerprint of a key given as its SPKI DER.
func fingerprintDER(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}
