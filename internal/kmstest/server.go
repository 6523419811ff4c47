// Package kmstest is a local AWS KMS for tests: an httptest server speaking KMS's awsJson1_1 protocol
// (X-Amz-Target TrentService.Sign, GetPublicKey and Verify) with the service's error shapes, holding one
// asymmetric signing key (key spec ECC_NIST_P256, usage SIGN_VERIFY) in memory. Tests use the real
// aws-sdk-go-v2 KMS client (Client), or point a process at it with AWS_ENDPOINT_URL_KMS, and verify what it
// signed with PublicKey.
package kmstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// Region and Account are where the key lives; its ARN is built from them as KMS builds it.
const (
	Region  = "eu-west-1"
	Account = "123456789012"
)

// Alias is the alias the key answers to besides its id and ARN.
const Alias = "alias/agent-audit-seal"

// Server holds one ECDSA P-256 key. Safe for concurrent use.
type Server struct {
	*httptest.Server

	// KeyID is the key's id (a UUID), KeyARN its ARN; requests may name it by either, by Alias or by the alias ARN.
	KeyID, KeyARN string

	key *ecdsa.PrivateKey

	mu       sync.Mutex
	disabled bool
	failNext []string
	calls    map[string]int
}

// New starts a server with a freshly generated key and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("kmstest: generate key: %v", err)
	}
	id := newUUID()
	s := &Server{
		KeyID:  id,
		KeyARN: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", Region, Account, id),
		key:    key,
		calls:  map[string]int{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Client is a real KMS client pointed at the server, SDK retries off.
func (s *Server) Client() *kms.Client {
	return kms.New(kms.Options{
		Region: Region, BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1, HTTPClient: s.Server.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-a-secret", ""),
	})
}

// PublicKey is the key's public half, for verifiers.
func (s *Server) PublicKey() *ecdsa.PublicKey { return &s.key.PublicKey }

// PublicKeyDER is the public key as SubjectPublicKeyInfo DER, what GetPublicKey returns.
func (s *Server) PublicKeyDER() []byte {
	der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		panic(err) // a P-256 key always marshals
	}
	return der
}

// PublicKeyPEM is PublicKeyDER in a PEM "PUBLIC KEY" block, as the stack exports signingPublicKeyPem.
func (s *Server) PublicKeyPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: s.PublicKeyDER()}))
}

// Disable makes the key refuse every operation with DisabledException, as a disabled KMS key does.
func (s *Server) Disable() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled = true
}

// FailNext makes the next calls fail with these error codes (ThrottlingException, KMSInternalException,
// DependencyTimeoutException, KeyUnavailableException, ...).
func (s *Server) FailNext(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, codes...)
}

// Calls counts the calls of operation op ("Sign", "GetPublicKey", "Verify") that reached the server, failed or
// not.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// matches reports whether id names the key: its id, ARN, alias or alias ARN.
func (s *Server) matches(id string) bool {
	return id == s.KeyID || id == s.KeyARN || id == Alias ||
		id == fmt.Sprintf("arn:aws:kms:%s:%s:%s", Region, Account, Alias)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
