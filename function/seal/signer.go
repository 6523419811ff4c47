package seal

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"sync"
)

// Signer signs 32-byte digests (DomainHash values) with an ECDSA P-256 key and names that key. Implementations
// are safe for concurrent use.
type Signer interface {
	// KeyID names the key: a KMS key ARN, or local:sha256:<hex> for a key file.
	KeyID() string
	// Sign returns the ASN.1 DER ECDSA signature of digest.
	Sign(ctx context.Context, digest []byte) ([]byte, error)
}

// Issuer is a Signer that also tells its public key: what certifies a Sealer's keys (and signs digests).
// Implementations are safe for concurrent use.
type Issuer interface {
	Signer
	// PublicKey returns the signing key's public half.
	PublicKey(ctx context.Context) (*ecdsa.PublicKey, error)
}

// KMSAPI is the part of KMS that KMSSigner uses (awsjson.KMS implements it). It names no SDK type, so that this
// package does not link the SDK's kms client, whose initialisation runs on every cold start.
type KMSAPI interface {
	// SignDigest is kms:Sign of a SHA-256 digest (MessageType DIGEST, ECDSA_SHA_256): the ASN.1 DER signature.
	SignDigest(ctx context.Context, keyID string, digest []byte) ([]byte, error)
	// GetPublicKey is kms:GetPublicKey: the key's DER SubjectPublicKeyInfo.
	GetPublicKey(ctx context.Context, keyID string) ([]byte, error)
}

// KMSSigner signs with an asymmetric KMS key (key spec ECC_NIST_P256, usage SIGN_VERIFY). Only the digest
// leaves the process; the private key never leaves KMS.
type KMSSigner struct {
	client KMSAPI
	keyID  string

	mu  sync.Mutex
	pub *ecdsa.PublicKey
}

var _ Issuer = (*KMSSigner)(nil)

// NewKMSSigner returns a signer using keyID (preferably the key's ARN: it is what certificates name).
func NewKMSSigner(client KMSAPI, keyID string) *KMSSigner {
	return &KMSSigner{client: client, keyID: keyID}
}

// KeyID implements Signer.
func (s *KMSSigner) KeyID() string { return s.keyID }

// Sign implements Signer with kms:Sign, MessageType DIGEST, ECDSA_SHA_256.
func (s *KMSSigner) Sign(ctx context.Context, digest []byte) ([]byte, error) {
	sig, err := s.client.SignDigest(ctx, s.keyID, digest)
	if err != nil {
		return nil, fmt.Errorf("kms Sign with %s: %w", s.keyID, err)
	}
	if len(sig) == 0 {
		return nil, fmt.Errorf("kms Sign with %s: empty signature", s.keyID)
	}
	return sig, nil
}

// PublicKey implements Issuer with kms:GetPublicKey, called until it first succeeds; the key is cached for the
// signer's lifetime (an asymmetric KMS key never changes its key material). It refuses a key that is not
// ECC_NIST_P256.
func (s *KMSSigner) PublicKey(ctx context.Context) (*ecdsa.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pub != nil {
		return s.pub, nil
	}
	der, err := s.client.GetPublicKey(ctx, s.keyID)
	if err != nil {
		return nil, fmt.Errorf("kms GetPublicKey %s: %w", s.keyID, err)
	}
	pub, err := ParsePublicKeyDER(der)
	if err != nil {
		return nil, fmt.Errorf("kms GetPublicKey %s: %w", s.keyID, err)
	}
	s.pub = pub
	return pub, nil
}
