package awsjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/agent-audit/agent-audit/function/awsenv"
)

// defaultMaxAnswerBytes bounds what is read of an answer (1 MiB) unless the service says otherwise: the answers
// of the awsJson1_1 calls made here are a few KB.
const defaultMaxAnswerBytes = 1 << 20

// Service names one service as its SDK client does.
type Service struct {
	// SDKID is the SDK ID, which names AWS_ENDPOINT_URL_<SDKID> ("SSM", "KMS"; "Bedrock Runtime" names
	// AWS_ENDPOINT_URL_BEDROCK_RUNTIME).
	SDKID string
	// SigningName is the Signature V4 service name ("ssm", "kms", "bedrock").
	SigningName string
	// EndpointPrefix is the regional endpoint's host prefix; empty means SigningName ("bedrock-runtime" for
	// Bedrock Runtime, whose signing name is "bedrock").
	EndpointPrefix string
	// TargetPrefix is what an awsJson1_1 call's X-Amz-Target puts before ".<operation>" ("AmazonSSM",
	// "TrentService"); restJson1 calls (PostJSON) do not use it.
	TargetPrefix string
	// KeepMessages keeps an error answer's message in the error (for an operator); false drops it, for a service
	// whose answers are kept out of logs altogether (the Logfire token's parameter).
	KeepMessages bool
	// MaxAnswerBytes bounds what is read of an answer; 0 means 1 MiB. A longer answer is an error.
	MaxAnswerBytes int
	// SignEscapedPath signs the request path as sent, escaped once, as S3 does; false escapes it again for the
	// signature, as Signature V4 does for every other service.
	SignEscapedPath bool
}

// Client calls the operations of one service. It is safe for concurrent use.
type Client struct {
	svc      Service
	creds    aws.CredentialsProvider
	region   string
	endpoint string
	http     aws.HTTPClient
	retryer  aws.Retryer
	signer   *v4.Signer
	now      func() time.Time
}

// New returns a client of svc for cfg's region and credentials. Its endpoint is, in order: the
// AWS_ENDPOINT_URL_<SDKID> that cfg's configuration sources give (awsenv's or the SDK loader's), cfg.BaseEndpoint,
// or the regional https://<endpoint prefix>.<region>.amazonaws.com (.com.cn in China; other partitions need an
// endpoint variable). Retries follow cfg.Retryer, else the standard (or, with cfg.RetryMode adaptive, the
// adaptive) retryer with cfg.RetryMaxAttempts. Requests go through httpClient, else cfg.HTTPClient, else a plain
// http.Client.
func New(cfg aws.Config, svc Service, httpClient aws.HTTPClient) *Client {
	c := &Client{svc: svc, creds: cfg.Credentials, region: cfg.Region, http: httpClient, now: time.Now,
		signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = svc.SignEscapedPath })}
	switch ep, ok := awsenv.ServiceEndpoint(cfg, svc.SDKID); {
	case ok:
		c.endpoint = ep
	case cfg.BaseEndpoint != nil:
		c.endpoint = *cfg.BaseEndpoint
	case strings.HasPrefix(cfg.Region, "cn-"):
		c.endpoint = "https://" + svc.endpointPrefix() + "." + cfg.Region + ".amazonaws.com.cn"
	default:
		c.endpoint = "https://" + svc.endpointPrefix() + "." + cfg.Region + ".amazonaws.com"
	}
	standard := func(o *retry.StandardOptions) {
		if cfg.RetryMaxAttempts > 0 {
			o.MaxAttempts = cfg.RetryMaxAttempts
		}
	}
	switch {
	case cfg.Retryer != nil:
		c.retryer = cfg.Retryer()
	case cfg.RetryMode == aws.RetryModeAdaptive:
		c.retryer = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, standard)
		})
	default:
		c.retryer = retry.NewStandard(standard)
	}
	if c.http == nil {
		c.http = cfg.HTTPClient
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	return c
}

// Endpoint is the URL the client sends its calls to.
func (c *Client) Endpoint() string { return c.endpoint }

// endpointPrefix is the regional endpoint's host prefix.
func (s Service) endpointPrefix() string {
	if s.EndpointPrefix != "" {
		return s.EndpointPrefix
	}
	return s.SigningName
}

// operation is how one call goes on the wire: its name (for errors), path, and the headers that name it.
type operation struct {
	name, path, contentType, target string
}

// Call sends the awsJson1_1 operation with the JSON of in and decodes the answer into out, retrying as the
// retryer decides. An AWS error answer is a smithy.APIError carrying its code, HTTP status and request ID (and its
// message when the service keeps messages); nothing else of an answer appears in an error. A request that got no
// answer is a smithyhttp.RequestSendError, as the SDK's clients return it (the retryer retries it).
func (c *Client) Call(ctx context.Context, op string, in, out any) error {
	_, err := c.do(ctx, operation{name: op, path: "/", contentType: "application/x-amz-json-1.1", target: c.svc.TargetPrefix + "." + op}, in, out)
	return err
}

// PostJSON sends the restJson1 operation op, a POST of the JSON of in to path (already escaped, as
// httpbinding.EscapePath escapes a label), and decodes the answer into out, retrying and failing as Call does. It
// returns the answer's request ID (X-Amzn-Requestid).
func (c *Client) PostJSON(ctx context.Context, op, path string, in, out any) (requestID string, err error) {
	return c.do(ctx, operation{name: op, path: path, contentType: "application/json"}, in, out)
}

// do sends op until an attempt succeeds or the retryer stops, and returns the last attempt's request ID.
func (c *Client) do(ctx context.Context, op operation, in, out any) (string, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", op.name, err)
	}
	var requestID string
	err = c.Retry(ctx, func() error {
		var err error
		requestID, err = c.call(ctx, op, body, out)
		return err
	})
	return requestID, err
}

// Retry runs try until it succeeds or the retryer gives up on its error (the attempts run out, or the error is
// not retryable), waiting the retryer's delay between attempts, and returns try's last error; try builds its
// request anew each time. A cancelled ctx ends the wait with both errors joined.
func (c *Client) Retry(ctx context.Context, try func() error) error {
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil || attempt >= c.retryer.MaxAttempts() || !c.retryer.IsErrorRetryable(err) {
			return err
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// call is one signed request.
func (c *Client) call(ctx context.Context, op operation, body []byte, out any) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.endpoint, "/")+op.path, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("build %s request: %w", op.name, err)
	}
	req.Header.Set("Content-Type", op.contentType)
	if op.target != "" {
		req.Header.Set("X-Amz-Target", op.target)
	}
	sum := sha256.Sum256(body)
	resp, err := c.Send(ctx, op.name, req, hex.EncodeToString(sum[:]))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	limit := c.svc.MaxAnswerBytes
	if limit <= 0 {
		limit = defaultMaxAnswerBytes
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return "", fmt.Errorf("read %s answer: %w", op.name, err)
	}
	requestID := resp.Header.Get("X-Amzn-Requestid")
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return requestID, apiError(c.svc, op.name, resp, answer)
	}
	if len(answer) > limit {
		return requestID, fmt.Errorf("%s answer exceeds %d bytes", op.name, limit)
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return requestID, fmt.Errorf("%s answer is not JSON", op.name)
	}
	return requestID, nil
}

// Send signs req for the client's service, region and credentials and sends it once; payloadHash is the hex
// SHA-256 of req's body, which the signature covers. The answer, whatever its status, is the caller's to read
// and close. An error names operation and is no answer: credentials or signing failed, the request got no answer
// (a smithyhttp.RequestSendError, which the retryers retry, as the SDK's clients return it), or ctx ended (a
// smithy.CanceledError).
func (c *Client) Send(ctx context.Context, operation string, req *http.Request, payloadHash string) (*http.Response, error) {
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("retrieve credentials: %w", err)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, payloadHash, c.svc.SigningName, c.region, c.now().UTC()); err != nil {
		return nil, fmt.Errorf("sign %s: %w", operation, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			// As the SDK's transport does: an ended context is no send failure, and no retryer retries it.
			return nil, fmt.Errorf("send %s: %w", operation, &smithy.CanceledError{Err: ctx.Err()})
		}
		return nil, fmt.Errorf("send %s: %w", operation, &smithyhttp.RequestSendError{Err: err})
	}
	return resp, nil
}
