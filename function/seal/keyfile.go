package seal

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileSigner signs with an ECDSA P-256 private key held in a local PEM file: the offline stand-in for KMS, as
// issuer of a local Sealer's certificates, verified exactly like KMS's.
type FileSigner struct {
	key   *ecdsa.PrivateKey
	keyID string
}

var _ Issuer = (*FileSigner)(nil)

// NewFileSigner returns a signer with key.
func NewFileSigner(key *ecdsa.PrivateKey) (*FileSigner, error) {
	id, err := LocalKeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &FileSigner{key: key, keyID: id}, nil
}

// KeyID implements Signer: local:sha256:<hex SHA-256 of the public key's SPKI DER>.
func (s *FileSigner) KeyID() string { return s.keyID }

// Sign implements Signer.
func (s *FileSigner) Sign(_ context.Context, digest []byte) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, s.key, digest)
}

// PublicKey implements Issuer.
func (s *FileSigner) PublicKey(context.Context) (*ecdsa.PublicKey, error) {
	return &s.key.PublicKey, nil
}

// LocalKeyID names a public key the way FileSigner does.
func LocalKeyID(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("seal: encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return "local:sha256:" + hex.EncodeToString(sum[:]), nil
}

// LoadOrCreateKeyFile reads the PEM PKCS#8 ECDSA P-256 private key at path, or, when no file is there, creates
// one (mode 0600, parent directories 0700) and reports created. It refuses any other key type or curve.
func LoadOrCreateKeyFile(path string) (key *ecdsa.PrivateKey, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := ParsePrivateKeyPEM(data)
		if err != nil {
			return nil, false, fmt.Errorf("signing key %s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("signing key: %w", err)
	}
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("signing key: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, false, fmt.Errorf("signing key: encode: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("signing key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("signing key: %w", err)
	}
	if err := errors.Join(pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}), f.Sync(), f.Close()); err != nil {
		return nil, false, fmt.Errorf("signing key: write %s: %w", path, err)
	}
	return key, true, nil
}

// ParsePrivateKeyPEM parses a PEM "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" (SEC 1) block holding a P-256 key.
func ParsePrivateKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key")
	}
	return ec, nil
}

// ParsePublicKeyPEM parses the public key of a PEM block: a "PUBLIC KEY" (SPKI, as KMS GetPublicKey and the
// stack output give it) or, for convenience offline, a private key file.
func ParsePublicKeyPEM(data []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type != "PUBLIC KEY" {
		priv, err := ParsePrivateKeyPEM(data)
		if err != nil {
			return nil, err
		}
		return &priv.PublicKey, nil
	}
	return ParsePublicKeyDER(block.Bytes)
}

// ParsePublicKeyDER parses a SubjectPublicKeyInfo DER, as KMS GetPublicKey returns it.
func ParsePublicKeyDER(der []byte) (*ecdsa.PublicKey, error) {
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 public key")
	}
	return ec, nil
}
