package awsjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
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
)

// seen is one request as it reached the server.
type seen struct {
	header http.Header
	host   string
	path   string
	body   []byte
}

// recorder is a proxy in front of a test peer that keeps every request.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newRecorder(t *testing.T, target string) *recorder {
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, seen{header: req.Header.Clone(), host: req.Host, path: req.URL.Path, body: body})
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) taken() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

var testCreds = aws.Credentials{AccessKeyID: "ASIAEXAMPLEEXAMPLE", SecretAccessKey: "c2VjcmV0LWZvci10aGUtdGVzdA", SessionToken: "dG9rZW4tZm9yLXRoZS10ZXN0"}

// config points both clients at url with three attempts and no backoff wait.
func config(url string) aws.Config {
	return aws.Config{
		Region: "eu-west-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.StaticCredentialsProvider{Value: testCreds},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

var authorization = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

// verifySignature does what AWS does with a request: recompute its Signature V4 from the signed headers, the body
// and the secret, and compare.
func verifySignature(t *testing.T, r seen, service string) {
	t.Helper()
	m := authorization.FindStringSubmatch(r.header.Get("Authorization"))
	if m == nil {
		t.Fatalf("Authorization %q is not Signature V4", r.header.Get("Authorization"))
	}
	if m[1] != testCreds.AccessKeyID || m[3] != "eu-west-1" || m[4] != service {
		t.Fatalf("credential scope %s/%s/%s/%s", m[1], m[2], m[3], m[4])
	}
	when, err := time.Parse("20060102T150405Z", r.header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date %q: %v", r.header.Get("X-Amz-Date"), err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.host+r.path, bytes.NewReader(r.body))
	req.Host = r.host
	for _, h := range strings.Split(m[5], ";") {
		switch h {
		case "host", "x-amz-date", "x-amz-security-token", "content-length":
		default:
			req.Header.Set(h, r.header.Get(h))
		}
	}
	sum := sha256.Sum256(r.body)
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, req, hex.EncodeToString(sum[:]), service, "eu-west-1", when); err != nil {
		t.Fatal(err)
	}
	if again := authorization.FindStringSubmatch(req.Header.Get("Authorization")); again == nil || again[6] != m[6] {
		t.Fatalf("signature does not verify:\n sent     %s\n expected %s", r.header.Get("Authorization"), req.Header.Get("Authorization"))
	}
}

// sameRequests requires the first request of each client to be the same call: headers that name it, path and
// JSON body.
func sameRequests(t *testing.T, sdk, ours []seen) {
	t.Helper()
	s, o := sdk[0], ours[0]
	for _, h := range []string{"Content-Type", "X-Amz-Target", "X-Amz-Security-Token"} {
		if s.header.Get(h) != o.header.Get(h) {
			t.Errorf("%s: ours %q, the SDK's %q", h, o.header.Get(h), s.header.Get(h))
		}
	}
	var sb, ob any
	_ = json.Unmarshal(s.body, &sb)
	_ = json.Unmarshal(o.body, &ob)
	if !reflect.DeepEqual(sb, ob) || s.path != o.path {
		t.Errorf("request %s %s, the SDK's %s %s", o.path, o.body, s.path, s.body)
	}
}

// doer is an HTTP client made of a function.
type doer func(*http.Request) (*http.Response, error)

func (d doer) Do(r *http.Request) (*http.Response, error) { return d(r) }
