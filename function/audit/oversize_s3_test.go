package audit

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/function/awss3"
	"github.com/agent-audit/agent-audit/internal/awsjsontest"
	"github.com/agent-audit/agent-audit/internal/s3test"
)

// sdkPut is S3PutAPI on the SDK's s3 client, making the PutObject the store made before awss3 replaced it: the
// reference the tests hold awss3 to.
type sdkPut struct{ c *s3.Client }

func (p sdkPut) PutObject(ctx context.Context, bucket, key, contentType string, body []byte) error {
	_, err := p.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(body),
		ContentLength:     aws.Int64(int64(len(body))),
		ContentType:       aws.String(contentType),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	return err
}

// dialing is an HTTP client that connects to addr whatever the host, so that a virtual-hosted request
// (<bucket>.s3.test) reaches a local peer with its Host header as sent.
func dialing(addr string) *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}}
}

// TestTheS3OversizeStorePutsAsOnTheSDKClient puts the same content through an S3OversizeStore on the SDK's s3
// client and on awss3.Client, to the same fake S3 behind the same recording proxy, and requires the same outcome
// (what is stored where, or the error's code and HTTP status, or an error that is no answer, and an error naming
// the object's s3:// URI), the same number of attempts, and the same request: method, host, escaped path and
// query, the headers S3 reads (checksum, content type and length, payload hash, session token), the body, and a
// Signature V4 for service s3 that verifies.
func TestTheS3OversizeStorePutsAsOnTheSDKClient(t *testing.T) {
	const bucket = "agent-audit-trail"
	object := []byte("\x1f\x8b\x08\x00 a gzip stream, as far as S3 knows \x00\xff")
	key := "oversize/year=2026/month=12/day=01/hour=00/4bf92f3577b34da6a3ce929d0e0e4736.json.gz"
	cases := []struct {
		name      string
		endpoint  string // a host name reached through the recorder; "" for the recorder's own IP address
		pathStyle bool
		key       string
		faults    []s3test.Fault
		attempts  int
	}{
		{"a content lands virtual-hosted by default", "http://s3.test", false, key, nil, 1},
		{"path-style when the configuration asks", "http://s3.test", true, key, nil, 1},
		{"path-style at an IP address endpoint", "", false, key, nil, 1},
		{"a key needing escaping, virtual-hosted", "http://s3.test", false, "oversize/a b+ü=%?#&!*'()~/..//x.json.gz", nil, 1},
		{"a key needing escaping, path-style", "http://s3.test", true, "/oversize/a b+ü=%?#&!*'()~/./x.json.gz", nil, 1},
		{"SlowDown is retried and then lands", "http://s3.test", false, key, []s3test.Fault{{Status: 503, Code: "SlowDown"}}, 2},
		{"an internal error is retried until the attempts run out", "http://s3.test", false, key,
			[]s3test.Fault{{Status: 500, Code: "InternalError"}, {Status: 500, Code: "InternalError"}, {Status: 500, Code: "InternalError"}}, 3},
		{"AccessDenied is not retried", "http://s3.test", false, key, []s3test.Fault{{Status: 403, Code: "AccessDenied"}}, 1},
		{"an answer without a document is named by its status", "http://s3.test", false, key, []s3test.Fault{{Status: 403}}, 1},
		{"a reset connection is retried and then lands", "", false, key, []s3test.Fault{{Reset: true}}, 2},
		{"a connection reset on every attempt is no answer", "", false, key, []s3test.Fault{{Reset: true}, {Reset: true}, {Reset: true}}, 3},
	}
	type outcome struct {
		Stored []s3test.Object
		awsjsontest.Answer
		NamesURI bool
		Attempts int
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := s3test.New(t)
			rec := awsjsontest.NewRecorder(t, server.URL)
			endpoint := rec.URL
			if tc.endpoint != "" {
				endpoint = tc.endpoint + ":" + strings.TrimPrefix(rec.URL, "http://127.0.0.1:")
			}
			addr := strings.TrimPrefix(rec.URL, "http://")
			cfg := awsjsontest.Config(endpoint)
			run := func(client S3PutAPI) (outcome, []awsjsontest.Request) {
				server.Inject(tc.faults...)
				store := NewS3OversizeStore(client, bucket)
				calls, stored := server.Calls(), len(server.Objects())
				err := store.Put(context.Background(), tc.key, object)
				return outcome{
					Stored:   server.Objects()[stored:],
					Answer:   awsjsontest.AnswerOf(err),
					NamesURI: err == nil || strings.Contains(err.Error(), store.URI(tc.key)),
					Attempts: server.Calls() - calls,
				}, rec.Taken()
			}
			sdk := s3.NewFromConfig(cfg, func(o *s3.Options) { o.HTTPClient = dialing(addr); o.UsePathStyle = tc.pathStyle })
			want, sdkReqs := run(sdkPut{sdk})
			got, ourReqs := run(awss3.New(cfg, dialing(addr), awss3.WithPathStyle(tc.pathStyle)))
			if !reflect.DeepEqual(got, want) || got.Attempts != tc.attempts {
				t.Fatalf("awss3: %+v\nthe SDK client: %+v\nwant %d attempts", got, want, tc.attempts)
			}
			if len(tc.faults) == 0 && (len(got.Stored) != 1 || !bytes.Equal(got.Stored[0].Body, object)) {
				t.Fatalf("stored %+v, want the object once", got.Stored)
			}
			for _, r := range append(sdkReqs, ourReqs...) {
				awsjsontest.VerifySignature(t, r, "s3")
			}
			sameS3Request(t, sdkReqs[0], ourReqs[0])
		})
	}
}

// sameS3Request requires ours to be the SDK client's PutObject sdk: method, host, escaped path and query, the
// headers S3 reads, and the body.
func sameS3Request(t *testing.T, sdk, ours awsjsontest.Request) {
	t.Helper()
	if ours.Method != sdk.Method || ours.Host != sdk.Host || ours.Path+"?"+ours.Query != sdk.Path+"?"+sdk.Query {
		t.Errorf("request %s %s%s, the SDK's %s %s%s", ours.Method, ours.Host, ours.Path+"?"+ours.Query, sdk.Method, sdk.Host, sdk.Path+"?"+sdk.Query)
	}
	for _, h := range []string{"Content-Type", "Content-Length", "X-Amz-Checksum-Sha256", "X-Amz-Sdk-Checksum-Algorithm",
		"X-Amz-Content-Sha256", "X-Amz-Security-Token", "Content-Encoding", "X-Amz-Trailer", "X-Amz-Decoded-Content-Length", "Content-Md5"} {
		if sdk.Header.Get(h) != ours.Header.Get(h) {
			t.Errorf("%s: ours %q, the SDK's %q", h, ours.Header.Get(h), sdk.Header.Get(h))
		}
	}
	if !bytes.Equal(ours.Body, sdk.Body) {
		t.Errorf("body %q, the SDK's %q", ours.Body, sdk.Body)
	}
}
