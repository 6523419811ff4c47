package seal_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/function/seal"
)

func TestKeyFileIsCreatedPrivateAndReloaded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.pem")
	k1, created, err := seal.LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("create: %v created=%v", err, created)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, created, err := seal.LoadOrCreateKeyFile(path)
	if err != nil || created {
		t.Fatalf("reload: %v created=%v", err, created)
	}
	if !k1.Equal(k2) {
		t.Error("reloaded key differs")
	}
	data, _ := os.ReadFile(path)
	pub, err := seal.ParsePublicKeyPEM(data)
	if err != nil || !pub.Equal(&k1.PublicKey) {
		t.Errorf("public key from the private key file: %v", err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k1.PublicKey)
	pub, err = seal.ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil || !pub.Equal(&k1.PublicKey) {
		t.Errorf("SPKI public key: %v", err)
	}
}

func TestKeyFilesOfTheWrongKindAreRefused(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	p384Pub, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	tests := []struct {
		name, data, want string
	}{
		{"not PEM", "hello", "no PEM block"},
		{"an RSA key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER})), "not an ECDSA P-256 key"},
		{"a P-384 key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER})), "not an ECDSA P-256 key"},
		{"a P-384 public key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: p384Pub})), "not an ECDSA P-256 public key"},
		{"a certificate", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})), "is not a private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.pem")
			if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, errLoad := seal.LoadOrCreateKeyFile(path)
			_, errPub := seal.ParsePublicKeyPEM([]byte(tt.data))
			err := errPub
			if !strings.HasPrefix(tt.name, "a P-384 public") {
				err = errLoad
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to say %q", err, tt.want)
			}
		})
	}
}
