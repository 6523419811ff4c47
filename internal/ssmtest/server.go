// Package ssmtest is a local AWS Systems Manager Parameter Store for tests: an httptest server speaking SSM's
// awsJson1_1 GetParameter (with its error shapes), and a stand-in for the AWS Parameters and Secrets Lambda
// Extension's local HTTP API. Tests use the real aws-sdk-go-v2 SSM client (Client) and a plain HTTP client.
package ssmtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Server holds SecureString parameters and answers GetParameter. Safe for concurrent use.
type Server struct {
	*httptest.Server

	mu        sync.Mutex
	params    map[string]string
	failNext  []string // error codes for the next calls, in order
	calls     int
	decrypted []bool
}

// New starts a server holding params (name → value) and stops it when the test ends.
func New(t testing.TB, params map[string]string) *Server {
	s := &Server{params: params}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Client is a real SSM client pointed at the server, SDK retries off.
func (s *Server) Client() *ssm.Client {
	return ssm.NewFromConfig(s.AWSConfig())
}

// AWSConfig is an AWS configuration pointed at the server (region eu-west-1, static credentials), SDK retries off.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region: "eu-west-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1, HTTPClient: s.Server.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-a-secret", ""),
	}
}

// FailNext makes the next calls fail with these error codes (ThrottlingException, InternalServerError, ...).
func (s *Server) FailNext(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, codes...)
}

// Calls counts GetParameter calls; Decrypted reports WithDecryption of each.
func (s *Server) Calls() (int, []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, append([]bool(nil), s.decrypted...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeError(w, 400, "UnknownOperationException", "unsupported request")
		return
	}
	var in struct {
		Name           string
		WithDecryption *bool
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, 400, "SerializationException", "malformed body")
		return
	}
	s.mu.Lock()
	s.calls++
	s.decrypted = append(s.decrypted, in.WithDecryption != nil && *in.WithDecryption)
	var code string
	if len(s.failNext) > 0 {
		code, s.failNext = s.failNext[0], s.failNext[1:]
	}
	value, ok := s.params[in.Name]
	s.mu.Unlock()
	switch {
	case code != "":
		status := 400
		if code == "InternalServerError" {
			status = 500
		}
		writeError(w, status, code, "injected fault")
	case !ok:
		writeError(w, 400, "ParameterNotFound", "")
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		shown := value
		if in.WithDecryption == nil || !*in.WithDecryption {
			shown = "AQICAHh-ciphertext-not-decrypted"
		}
		_ = json.NewEncoder(w).Encode(parameter(in.Name, shown))
	}
}

func parameter(name, value string) map[string]any {
	return map[string]any{"Parameter": map[string]any{
		"Name": name, "Type": "SecureString", "Value": value, "Version": 1, "DataType": "text",
		"ARN": "arn:aws:ssm:eu-west-1:123456789012:parameter/" + strings.TrimPrefix(name, "/"),
	}}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// Extension stands in for the Parameters and Secrets Lambda Extension: GET
// /systemsmanager/parameters/get?name=<percent-encoded>&withDecryption=true with header
// X-Aws-Parameters-Secrets-Token. Like the extension it refuses raw slashes in the name (400) and a missing or
// wrong token (403). Port is where a client must connect.
type Extension struct {
	*httptest.Server
	Port int

	mu       sync.Mutex
	rawQuery []string
	stall    chan struct{}
}

// NewExtension starts an extension holding params, accepting sessionToken.
func NewExtension(t testing.TB, params map[string]string, sessionToken string) *Extension {
	e := &Extension{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.rawQuery = append(e.rawQuery, r.URL.RawQuery)
		stall := e.stall
		e.mu.Unlock()
		if stall != nil {
			select {
			case <-stall:
			case <-r.Context().Done():
				return
			}
		}
		if r.URL.Path != "/systemsmanager/parameters/get" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if r.Header.Get("X-Aws-Parameters-Secrets-Token") != sessionToken || sessionToken == "" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		rawName := strings.TrimPrefix(strings.Split(r.URL.RawQuery, "&")[0], "name=")
		if strings.Contains(rawName, "/") {
			http.Error(w, "name must be URL-encoded", http.StatusBadRequest)
			return
		}
		name, err := url.QueryUnescape(rawName)
		value, ok := params[name]
		if err != nil || !ok {
			http.Error(w, "parameter not found", http.StatusNotFound)
			return
		}
		if r.URL.Query().Get("withDecryption") != "true" {
			http.Error(w, "withDecryption=true required for SecureString in this test peer", http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(parameter(name, value))
	}))
	t.Cleanup(func() { e.Release(); e.Close() })
	u, err := url.Parse(e.URL)
	if err == nil {
		e.Port, err = strconv.Atoi(u.Port())
	}
	if err != nil {
		t.Fatalf("extension peer address %s: %v", e.URL, err)
	}
	return e
}

// Stall holds every request until Release (or until the client gives up), like an extension that hangs.
func (e *Extension) Stall() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stall = make(chan struct{})
}

// Release lets stalled requests through.
func (e *Extension) Release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stall != nil {
		close(e.stall)
		e.stall = nil
	}
}

// RawQueries returns the raw query strings received.
func (e *Extension) RawQueries() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.rawQuery...)
}
