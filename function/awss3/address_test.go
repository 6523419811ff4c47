package awss3

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/agent-audit/agent-audit/function/awsenv"
)

// TestObjectsAreAddressedAsTheSDKClientAddressesThem resolves the endpoint from Lambda-like environments through
// awsenv and sends one PutObject through the SDK's s3 client and through Client, with and without path style, for
// buckets and keys that take each branch of the SDK's S3 endpoint rules and of its key escaping, and requires
// the same URL: scheme, host (the bucket in it or not), escaped path and query.
func TestObjectsAreAddressedAsTheSDKClientAddressesThem(t *testing.T) {
	env := func(kv ...string) map[string]string {
		m := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	envs := []struct {
		name string
		env  map[string]string
	}{
		{"the regional endpoint", env()},
		{"us-east-1", env("AWS_REGION", "us-east-1")},
		{"China's partition", env("AWS_REGION", "cn-north-1")},
		{"AWS_ENDPOINT_URL_S3 at an IP address", env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000", "AWS_ENDPOINT_URL", "http://127.0.0.1:8")},
		{"AWS_ENDPOINT_URL at a host name over http", env("AWS_ENDPOINT_URL", "http://minio.internal:9000")},
		{"AWS_ENDPOINT_URL_S3 over https with a path", env("AWS_ENDPOINT_URL_S3", "https://store.example.com/s3")},
		{"AWS_ENDPOINT_URL_S3 with a trailing slash", env("AWS_ENDPOINT_URL_S3", "https://store.example.com/")},
		{"an IPv6 endpoint", env("AWS_ENDPOINT_URL_S3", "http://[::1]:9000")},
		{"endpoint variables ignored", env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")},
	}
	buckets := []string{"agent-audit-trail", "dotted.bucket.name", "Upper-Case", "ab", "192.168.1.1", "-leading-hyphen", "a_b_c"}
	keys := []string{
		"oversize/2026/12/01/4bf92f3577b34da6a3ce929d0e0e4736.json.gz",
		"a key with spaces/ü+ß=%?#&!*'()~._-.gz",
		"/leading/slash//double",
		"dot/./segments/../x",
	}
	for _, e := range envs {
		cfg, err := awsenv.Config(func(k string) (string, bool) { v, ok := e.env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		for _, bucket := range buckets {
			for _, key := range keys {
				for _, pathStyle := range []bool{false, true} {
					sdk := sentURL(t, func(hc aws.HTTPClient) error {
						c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.HTTPClient = hc; o.RetryMaxAttempts = 1; o.UsePathStyle = pathStyle })
						_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
							Body: strings.NewReader("x"), ContentType: aws.String("application/gzip"), ChecksumAlgorithm: "SHA256"})
						return err
					})
					cfg1 := cfg
					cfg1.RetryMaxAttempts = 1
					ours := sentURL(t, func(hc aws.HTTPClient) error {
						return New(cfg1, hc, WithPathStyle(pathStyle)).PutObject(context.Background(), bucket, key, "application/gzip", []byte("x"))
					})
					if ours != sdk {
						t.Errorf("%s, bucket %q, key %q, path style %v:\n ours    %s\n the SDK %s", e.name, bucket, key, pathStyle, ours, sdk)
					}
				}
			}
		}
	}
}

// TestBucketsThisCallDoesNotAddressAreRefused requires an error naming the problem, and no request, for what the
// SDK's rules would send elsewhere (an access point or Outposts ARN, a directory bucket) and for a missing bucket
// or key.
func TestBucketsThisCallDoesNotAddressAreRefused(t *testing.T) {
	cfg := aws.Config{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}
	cases := []struct{ name, bucket, key, want string }{
		{"an access point ARN", "arn:aws:s3:eu-west-1:123456789012:accesspoint/audit", "k", "is an ARN"},
		{"an Outposts ARN", "arn:aws:s3-outposts:eu-west-1:123456789012:outpost/op-01ac5d28a6a232904/accesspoint/a", "k", "is an ARN"},
		{"a directory bucket", "audit--euw1-az1--x-s3", "k", "directory bucket"},
		{"no bucket", "", "k", "no bucket"},
		{"no key", "audit", "", "no key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sent := sentURL(t, func(hc aws.HTTPClient) error {
				err := New(cfg, hc).PutObject(context.Background(), tc.bucket, tc.key, "application/gzip", []byte("x"))
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want one saying %q", err, tc.want)
				}
				return err
			})
			if sent != "not sent" {
				t.Errorf("sent %s", sent)
			}
		})
	}
}
