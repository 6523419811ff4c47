// Package awsjsontest holds what the differential tests of the function's signed AWS calls (function/awsjson,
// logfire's SSMClient and awss3's PutObject on top of it) share: a recording proxy in front of a test peer, a client
// configuration both the SDK's client and ours take, and a check of each request's Signature V4 as AWS makes it.
// It is for tests only; no shipped code imports it.
package awsjsontest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
)

// Region is the region Config names and VerifySignature expects in the credential scope.
const Region = "eu-west-1"

// Request is one request as it reached the server.
type Request struct {
	Method string
	Header http.Header
	Host   string
	// Path is the escaped path, as it was sent and signed.
	Path string
	// Query is the raw query, as it was sent and signed.
	Query string
	Body  []byte
}

// Recorder is a proxy in front of a test peer that keeps every request. Safe for concurrent use.
type Recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
}

// NewRecorder starts a Recorder in front of target (a peer's base URL), closed when the test ends. A request the
// peer answers with a reset connection (or no answer at all) gets a reset connection from the Recorder too.
func NewRecorder(t testing.TB, target string) *Recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("awsjsontest: target %q: %v", target, err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { Reset(w) }
	r := &Recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, Request{Method: req.Method, Header: req.Header.Clone(), Host: req.Host, Path: req.URL.EscapedPath(),
			Query: req.URL.RawQuery, Body: body})
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// Reset ends the exchange on w (of an HTTP/1 server) with a TCP reset instead of an answer, as a failing load
// balancer does.
func Reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server drops the connection without answering
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
}

// Taken returns the requests recorded since the last call, and forgets them.
func (r *Recorder) Taken() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// Answer is what a caller can tell of an error: an AWS error answer's code and HTTP status, or an error that is no
// answer at all (the connection failed); the zero Answer is success. Differential tests compare the Answers of
// the SDK's client and ours.
type Answer struct {
	Code     string
	Status   int
	NoAnswer bool
}

// AnswerOf tells err's Answer.
func AnswerOf(err error) Answer {
	var a Answer
	var apiErr smithy.APIError
	var status interface{ HTTPStatusCode() int }
	switch {
	case errors.As(err, &apiErr):
		a.Code = apiErr.ErrorCode()
		if errors.As(err, &status) {
			a.Status = status.HTTPStatusCode()
		}
	case err != nil:
		a.NoAnswer = true
	}
	return a
}

// Creds are the session credentials Config signs with.
var Creds = aws.Credentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE", SecretAccessKey: "c2VjcmV0LWZvci10aGUtdGVzdA", SessionToken: "dG9rZW4tZm9yLXRoZS10ZXN0"}

// Config points a client at url, in Region with Creds, with the SDK's standard retryer (three attempts) and no
// backoff wait.
func Config(url string) aws.Config {
	return aws.Config{
		Region: Region, BaseEndpoint: aws.String(url),
		Credentials: credentials.StaticCredentialsProvider{Value: Creds},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

// Env is a Lambda-like environment for awsenv.Config: region eu-west-1, static credentials, and the variables
// kv names (name, value, name, value, ...), which may override those.
func Env(kv ...string) func(string) (string, bool) {
	m := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

var authorization = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

// VerifySignature does what AWS does with a request for service: recompute its Signature V4 from the signed
// headers, the body and Creds' secret, and compare. For service s3 it signs the path as sent (S3 does not
// escape it again) and requires x-amz-content-sha256 to be the body's SHA-256.
func VerifySignature(t testing.TB, r Request, service string) {
	t.Helper()
	m := authorization.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		t.Fatalf("Authorization %q is not Signature V4", r.Header.Get("Authorization"))
	}
	if m[1] != Creds.AccessKeyID || m[3] != Region || m[4] != service {
		t.Fatalf("credential scope %s/%s/%s/%s", m[1], m[2], m[3], m[4])
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date %q: %v", r.Header.Get("X-Amz-Date"), err)
	}
	target := "http://" + r.Host + r.Path
	if r.Query != "" {
		target += "?" + r.Query
	}
	req, err := http.NewRequest(r.Method, target, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("request %s %s: %v", r.Method, target, err)
	}
	req.Host = r.Host
	for _, h := range strings.Split(m[5], ";") {
		switch h {
		case "host", "x-amz-date", "x-amz-security-token", "content-length":
		default:
			req.Header.Set(h, r.Header.Get(h))
		}
	}
	sum := sha256.Sum256(r.Body)
	if sent := r.Header.Get("X-Amz-Content-Sha256"); service == "s3" && sent != hex.EncodeToString(sum[:]) {
		t.Fatalf("x-amz-content-sha256 %q is not the body's SHA-256", sent)
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	if err := signer.SignHTTP(context.Background(), Creds, req, hex.EncodeToString(sum[:]), service, Region, when); err != nil {
		t.Fatal(err)
	}
	if again := authorization.FindStringSubmatch(req.Header.Get("Authorization")); again == nil || again[6] != m[6] {
		t.Fatalf("signature does not verify:\n sent     %s\n expected %s", r.Header.Get("Authorization"), req.Header.Get("Authorization"))
	}
}

// SameRequest requires ours to be the same call as the SDK client's sdk: the method, the headers that name it,
// the escaped path and the JSON body (decoded: member order and spacing may differ).
func SameRequest(t testing.TB, sdk, ours Request) {
	t.Helper()
	for _, h := range []string{"Content-Type", "X-Amz-Target", "X-Amz-Security-Token"} {
		if sdk.Header.Get(h) != ours.Header.Get(h) {
			t.Errorf("%s: ours %q, the SDK's %q", h, ours.Header.Get(h), sdk.Header.Get(h))
		}
	}
	var sb, ob any
	_ = json.Unmarshal(sdk.Body, &sb)
	_ = json.Unmarshal(ours.Body, &ob)
	if !reflect.DeepEqual(sb, ob) || sdk.Path != ours.Path || sdk.Method != ours.Method {
		t.Errorf("request %s %s %s, the SDK's %s %s %s", ours.Method, ours.Path, ours.Body, sdk.Method, sdk.Path, sdk.Body)
	}
}
