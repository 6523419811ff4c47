package seal

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
)

// ed25519SigChars is the length of an Ed25519 signature (64 bytes) in unpadded base64url.
const ed25519SigChars = 86

// recordKey is a certified chain key, the key whose signatures records carry: Ed25519 (Algorithm), or ECDSA
// P-256 (AlgorithmP256) for chains sealed before chain keys were Ed25519.
type recordKey struct {
	alg string
	ed  ed25519.PublicKey
	ec  *ecdsa.PublicKey
}

// parseRecordKey reads a certificate's key: a SubjectPublicKeyInfo DER holding an Ed25519 or a P-256 key.
func parseRecordKey(der []byte) (recordKey, error) {
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return recordKey{}, err
	}
	switch k := key.(type) {
	case ed25519.PublicKey:
		return recordKey{alg: Algorithm, ed: k}, nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return recordKey{alg: AlgorithmP256, ec: k}, nil
		}
	}
	return recordKey{}, errors.New("not an Ed25519 or ECDSA P-256 public key")
}

// checkEncoding checks that sig is in the one encoding a Sealer writes for the key's algorithm, without
// verifying it: for Ed25519, canonical unpadded base64url of 64 bytes (S's range is checked by the
// verification); for P-256, what DecodeSignature accepts.
func (k recordKey) checkEncoding(sig string) error {
	if k.alg == AlgorithmP256 {
		_, err := DecodeSignature(sig)
		return err
	}
	_, err := decodeEd25519Signature(sig)
	return err
}

// verify checks sig over digest under the key; nil or an error wrapping ErrBadSignature.
func (k recordKey) verify(digest [32]byte, sig string) error {
	if k.alg == AlgorithmP256 {
		return VerifyDigest(k.ec, digest, sig)
	}
	raw, err := decodeEd25519Signature(sig)
	if err != nil {
		return err
	}
	// crypto/ed25519 rejects a non-canonical S (≥ the group order) and compares R's encoding byte for byte, so
	// no second signature of the same digest verifies: a rewritten signature fails.
	if !ed25519.Verify(k.ed, digest[:], raw) {
		return ErrBadSignature
	}
	return nil
}

// decodeEd25519Signature reads an Ed25519 signature strictly: unpadded base64url that re-encodes to the same
// text, of exactly 64 bytes.
func decodeEd25519Signature(sig string) ([]byte, error) {
	if len(sig) != ed25519SigChars {
		return nil, fmt.Errorf("signature is %d characters, not an Ed25519 signature's %d: %w", len(sig), ed25519SigChars, ErrBadSignature)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize || base64.RawURLEncoding.EncodeToString(raw) != sig {
		return nil, fmt.Errorf("signature is not canonical unpadded base64url: %w", ErrBadSignature)
	}
	return raw, nil
}
