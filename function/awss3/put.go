package awss3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/agent-audit/agent-audit/function/awsjson"
)

// service is Amazon S3 as its SDK client names it (AWS_ENDPOINT_URL_S3) and signs for it: the path as sent.
var service = awsjson.Service{SDKID: "S3", SigningName: "s3", KeepMessages: true, SignEscapedPath: true}

// Client puts objects into S3 buckets. It is safe for concurrent use.
type Client struct {
	c         *awsjson.Client
	pathStyle bool
}

// Option configures a Client.
type Option func(*Client)

// WithPathStyle addresses every bucket path-style (<endpoint>/<bucket>/<key>) when on, as the SDK client's
// UsePathStyle does, for S3-compatible stores such as MinIO; by default a bucket is in the host name where its
// name and the endpoint allow it.
func WithPathStyle(on bool) Option { return func(c *Client) { c.pathStyle = on } }

// New returns a client for cfg's region and credentials. Its endpoint is, in order, AWS_ENDPOINT_URL_S3 from cfg's
// configuration sources, cfg.BaseEndpoint, or https://s3.<region>.amazonaws.com; retries and the HTTP client are
// as awsjson.New says.
func New(cfg aws.Config, httpClient aws.HTTPClient, opts ...Option) *Client {
	c := &Client{c: awsjson.New(cfg, service, httpClient)}
	for _, o := range opts {
		o(c)
	}
	return c
}

// PutObject stores body as key in bucket with contentType and its Content-Length: one signed PUT carrying the
// body's SHA-256 as x-amz-checksum-sha256, which S3 checks on arrival (and which an Object Lock bucket requires of
// a PUT in one form or another), and as the signed payload hash. It retries as the SDK's s3 client does (the standard or adaptive
// retryer of the configuration: 5xx, throttling such as SlowDown, and connection errors), which suits a PUT whose
// key names its content. An error answer is a smithy.APIError carrying S3's code, the HTTP status and
// x-amz-request-id; a bucket given as an ARN or a directory bucket is refused before any request.
func (c *Client) PutObject(ctx context.Context, bucket, key, contentType string, body []byte) error {
	target, err := objectURL(c.c.Endpoint(), bucket, key, c.pathStyle)
	if err != nil {
		return fmt.Errorf("address PutObject: %w", err)
	}
	sum := sha256.Sum256(body)
	return c.c.Retry(ctx, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("build PutObject request: %w", err)
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Amz-Sdk-Checksum-Algorithm", "SHA256")
		req.Header.Set("X-Amz-Checksum-Sha256", base64.StdEncoding.EncodeToString(sum[:]))
		req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		resp, err := c.c.Send(ctx, "PutObject", req, hex.EncodeToString(sum[:]))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
		if err != nil {
			return fmt.Errorf("read PutObject answer: %w", err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return apiError(resp, answer)
		}
		return nil
	})
}
