package logfire

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/agent-audit/agent-audit/function/awsenv"
	"github.com/agent-audit/agent-audit/internal/ssmtest"
)

// seen is one request as it reached the server.
type seen struct {
	header http.Header
	host   string
	path   string
	body   []byte
}

// recorder is a proxy in front of an ssmtest.Server that keeps every request.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newRecorder(t *testing.T, target *ssmtest.Server) *recorder {
	u, _ := url.Parse(target.URL)
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

// TestTheSSMClientAnswersAsTheSDKClient runs the SDK's ssm client and SSMClient through the same calls against
// the same server and requires the same outcome (value or error code, and how many attempts), and requests the
// server can read and authenticate alike: a valid Signature V4 for service ssm, the same target and body.
func TestTheSSMClientAnswersAsTheSDKClient(t *testing.T) {
	const name = "/agent-audit/logfire-token"
	cases := []struct {
		name     string
		param    string
		failures []string
	}{
		{"a parameter is read and decrypted", name, nil},
		{"a missing parameter is ParameterNotFound", "/not/there", nil},
		{"throttling is retried", name, []string{"ThrottlingException"}},
		{"a server error is retried until the attempts run out", name, []string{"InternalServerError", "InternalServerError", "InternalServerError"}},
		{"an access error is not retried", name, []string{"AccessDeniedException"}},
	}
	type outcome struct {
		Value, Code string
		Attempts    int
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := ssmtest.New(t, map[string]string{name: "pylf_v1_eu_value"})
			rec := newRecorder(t, server)
			run := func(get func(context.Context) (string, error)) (outcome, []seen) {
				server.FailNext(tc.failures...)
				v, err := get(context.Background())
				o := outcome{Value: v}
				var apiErr smithy.APIError
				if errors.As(err, &apiErr) {
					o.Code = apiErr.ErrorCode()
				} else if err != nil {
					t.Fatalf("not an API error: %v", err)
				}
				reqs := rec.taken()
				o.Attempts = len(reqs)
				return o, reqs
			}
			sdk := ssm.NewFromConfig(config(rec.URL))
			want, sdkReqs := run(func(ctx context.Context) (string, error) {
				out, err := sdk.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(tc.param), WithDecryption: aws.Bool(true)})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.Parameter.Value), nil
			})
			ours := NewSSMClient(config(rec.URL), nil)
			got, ourReqs := run(func(ctx context.Context) (string, error) { return ours.GetParameter(ctx, tc.param) })
			if got != want {
				t.Fatalf("SSMClient: %+v, the SDK client: %+v", got, want)
			}
			for _, r := range append(sdkReqs, ourReqs...) {
				verifySignature(t, r)
			}
			s, o := sdkReqs[0], ourReqs[0]
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
		})
	}
}

var authorization = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

// verifySignature does what AWS does with a request: recompute its Signature V4 from the signed headers, the body
// and the secret, and compare.
func verifySignature(t *testing.T, r seen) {
	t.Helper()
	m := authorization.FindStringSubmatch(r.header.Get("Authorization"))
	if m == nil {
		t.Fatalf("Authorization %q is not Signature V4", r.header.Get("Authorization"))
	}
	if m[1] != testCreds.AccessKeyID || m[3] != "eu-west-1" || m[4] != "ssm" {
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
	if err := v4.NewSigner().SignHTTP(context.Background(), testCreds, req, hex.EncodeToString(sum[:]), "ssm", "eu-west-1", when); err != nil {
		t.Fatal(err)
	}
	if again := authorization.FindStringSubmatch(req.Header.Get("Authorization")); again == nil || again[6] != m[6] {
		t.Fatalf("signature does not verify:\n sent     %s\n expected %s", r.header.Get("Authorization"), req.Header.Get("Authorization"))
	}
}

func TestTheSSMClientFindsItsEndpointAsTheSDKDoes(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cases := []struct {
		name   string
		lookup func(string) (string, bool)
		want   string
	}{
		{"the regional endpoint by default", env(), "https://ssm.eu-west-1.amazonaws.com"},
		{"China's partition", env("AWS_REGION", "cn-north-1"), "https://ssm.cn-north-1.amazonaws.com.cn"},
		{"AWS_ENDPOINT_URL_SSM first", env("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9", "AWS_ENDPOINT_URL", "http://127.0.0.1:8"), "http://127.0.0.1:9"},
		{"then AWS_ENDPOINT_URL", env("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:9", "AWS_ENDPOINT_URL", "http://127.0.0.1:8"), "http://127.0.0.1:8"},
		{"neither when they are ignored", env("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), "https://ssm.eu-west-1.amazonaws.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := awsenv.Config(tc.lookup)
			if err != nil {
				t.Fatal(err)
			}
			if got := NewSSMClient(cfg, nil).c.Endpoint(); got != tc.want {
				t.Fatalf("endpoint %s, want %s", got, tc.want)
			}
		})
	}
}
