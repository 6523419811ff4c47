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
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/agent-audit/agent-audit/function/awsenv"
)

// maxAnswerBytes bounds what is read of an answer (1 MiB): the answers of the calls made here are a few KB.
const maxAnswerBytes = 1 << 20

// Service names one awsJson1_1 service as its SDK client does.
type Service struct {
	// SDKID is the SDK ID, which names AWS_ENDPOINT_URL_<SDKID> ("SSM", "KMS").
	SDKID string
	// SigningName is the Signature V4 service name and the endpoint's host prefix ("ssm", "kms").
	SigningName string
	// TargetPrefix is what X-Amz-Target puts before ".<operation>" ("AmazonSSM", "TrentService").
	TargetPrefix string
	// KeepMessages keeps an error answer's message in the error (for an operator); false drops it, for a service
	// whose answers are kept out of logs altogether (the Logfire token's parameter).
	KeepMessages bool
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
// or the regional https://<signing name>.<region>.amazonaws.com (.com.cn in China; other partitions need an
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
		c.endpoint = "https://" + svc.SigningName + "." + cfg.Region + ".amazonaws.com.cn"
	default:
		c.endpoint = "https://" + svc.SigningName + "." + cfg.Region + ".amazonaws.com"
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

// Call sends operation with the JSON of in and decodes the answer into out, retrying as the retryer decides. An
// AWS error answer is a smithy.APIError carrying its code, HTTP status and request ID (and its message when the
// service keeps messages); nothing else of an answer appears in an error.
func (c *Client) Call(ctx context.Context, operation string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", operation, err)
	}
	return c.Retry(ctx, func() error { return c.call(ctx, operation, body, out) })
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
func (c *Client) call(ctx context.Context, operation string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build %s request: %w", operation, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", c.svc.TargetPrefix+"."+operation)
	sum := sha256.Sum256(body)
	resp, err := c.Send(ctx, operation, req, hex.EncodeToString(sum[:]))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("read %s answer: %w", operation, err)
	}
	if resp.StatusCode != http.StatusOK {
		return apiError(c.svc, operation, resp, answer)
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("%s answer is not JSON", operation)
	}
	return nil
}

// Send signs req for the client's service, region and credentials and sends it once; payloadHash is the hex
// SHA-256 of req's body, which the signature covers. The answer, whatever its status, is the caller's to read
// and close; an error names operation and is no answer (credentials, signing or the connection failed; the
// last is a retryable connection error).
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
		if ctx.Err() == nil {
			// As the SDK's clients do: a request not sent or not answered is a connection error, which its
			// retryers retry (unless the caller gave up).
			err = &smithyhttp.RequestSendError{Err: err}
		}
		return nil, fmt.Errorf("send %s: %w", operation, err)
	}
	return resp, nil
}
