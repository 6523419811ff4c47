package seal

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// certType is the certificate's "type", so that its bytes cannot be read as any other JSON document of this
// project.
const certType = "agent-audit.seal.cert"

// Subject names what a certified key seals for: the Lambda function and the container's log stream, or a
// local process.
type Subject struct {
	// Function is the function's ARN (its name, until the first invocation tells the ARN), or "local".
	Function string
	// Version is the function version ($LATEST or a number), or "local".
	Version string
	// LogStream is the container's CloudWatch log stream (AWS_LAMBDA_LOG_STREAM_NAME), or host/pid locally.
	LogStream string
}

// LocalSubject is the subject of a process outside Lambda: function and version "local", log stream
// <hostname>/<pid>.
func LocalSubject() Subject {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return Subject{Function: "local", Version: "local", LogStream: host + "/" + strconv.Itoa(os.Getpid())}
}

// Certificate is what an issuer vouches for by signing it: that key Key seals chain Chain for Function,
// Version and LogStream between NotBefore and NotAfter.
type Certificate struct {
	Chain string
	// Key is the fingerprint of the certified key, the one that signs the chain's records.
	Key string
	// Issuer names the issuing key: a KMS key ARN, or local:sha256:<hex> for a local key file.
	Issuer string
	// IssuerKey is the fingerprint of the issuer's public key; empty in a certificate written before the
	// issuer's public key was known, which is never signed.
	IssuerKey                    string
	Function, Version, LogStream string
	NotBefore, NotAfter          time.Time
}

// certJSON is the certificate on the wire: compact JSON, fields in this order.
type certJSON struct {
	V         int    `json:"v"`
	Type      string `json:"type"`
	Chain     string `json:"chain"`
	Key       string `json:"key"`
	Issuer    string `json:"issuer"`
	IssuerKey string `json:"issuer_key"`
	Function  string `json:"function"`
	Version   string `json:"version"`
	LogStream string `json:"log_stream"`
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
}

// marshalCert writes the certificate of pub: the exact bytes an issuer signs.
func marshalCert(c Certificate, pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("seal: encode the certified key: %w", err)
	}
	return json.Marshal(certJSON{
		V: Version, Type: certType, Chain: c.Chain, Key: base64.RawURLEncoding.EncodeToString(der),
		Issuer: c.Issuer, IssuerKey: c.IssuerKey,
		Function: subjectField(c.Function), Version: subjectField(c.Version), LogStream: subjectField(c.LogStream),
		NotBefore: c.NotBefore.UTC().Format(time.RFC3339), NotAfter: c.NotAfter.UTC().Format(time.RFC3339),
	})
}

// subjectField makes a subject value fit a certificate: at most MaxSubjectBytes of printable ASCII that JSON
// writes unescaped (anything else becomes '?'), "unknown" when empty. Lambda's names and ARNs pass unchanged.
func subjectField(s string) string {
	if s == "" {
		return "unknown"
	}
	if len(s) > MaxSubjectBytes {
		s = s[:MaxSubjectBytes]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || strings.ContainsRune(`"\<>&`, r) {
			return '?'
		}
		return r
	}, s)
}

// errCertForm is wrapped by parseCert's errors.
var errCertForm = errors.New("certificate malformed")

// parseCert reads a certificate attribute strictly: canonical unpadded base64url of JSON exactly as
// marshalCert writes it (re-marshalling gives the same bytes, so one certificate has one encoding), holding a
// chain key (Ed25519, or P-256 for chains sealed before chain keys were Ed25519).
func parseCert(attr string) (Certificate, []byte, recordKey, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(attr)
	if err != nil || base64.RawURLEncoding.EncodeToString(raw) != attr {
		return Certificate{}, nil, recordKey{}, fmt.Errorf("not canonical base64url: %w", errCertForm)
	}
	var w certJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Certificate{}, nil, recordKey{}, fmt.Errorf("%v: %w", err, errCertForm)
	}
	if again, err := json.Marshal(w); err != nil || !bytes.Equal(again, raw) {
		return Certificate{}, nil, recordKey{}, fmt.Errorf("not in its canonical form: %w", errCertForm)
	}
	if w.V != Version || w.Type != certType {
		return Certificate{}, nil, recordKey{}, fmt.Errorf("version %d type %q, want %d %q: %w", w.V, w.Type, Version, certType, errCertForm)
	}
	der, err := base64.RawURLEncoding.Strict().DecodeString(w.Key)
	if err != nil {
		return Certificate{}, nil, recordKey{}, fmt.Errorf("key is not base64url: %w", errCertForm)
	}
	pub, err := parseRecordKey(der)
	if err != nil {
		return Certificate{}, nil, recordKey{}, fmt.Errorf("key: %v: %w", err, errCertForm)
	}
	fp := fingerprintDER(der)
	nb, err1 := time.Parse(time.RFC3339, w.NotBefore)
	na, err2 := time.Parse(time.RFC3339, w.NotAfter)
	if err1 != nil || err2 != nil || !na.After(nb) {
		return Certificate{}, nil, recordKey{}, fmt.Errorf("validity %q..%q: %w", w.NotBefore, w.NotAfter, errCertForm)
	}
	return Certificate{
		Chain: w.Chain, Key: fp, Issuer: w.Issuer, IssuerKey: w.IssuerKey,
		Function: w.Function, Version: w.Version, LogStream: w.LogStream, NotBefore: nb, NotAfter: na,
	}, raw, pub, nil
}
