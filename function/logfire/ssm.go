package logfire

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

	"github.com/agent-audit/agent-audit/function/awsenv"
)

// ssmSDKID is Systems Manager's SDK ID: it names AWS_ENDPOINT_URL_SSM and the signing service.
const ssmSDKID = "SSM"

// SSMClient reads one SecureString parameter through the SSM API's GetParameter call, signed with Signature V4
// and retried by the SDK's standard retryer, as the SDK's ssm client would.
//
// Why not the SDK's ssm client: its package (and its schemas) initialise on every cold start, about as much as
// every other client of the function together, for one call at most per container (see docs/performance.md).
// This client is that one call of the awsJson1_1 protocol; ssm_test.go holds it to the SDK client's requests and
// answers.
type SSMClient struct {
	creds    aws.CredentialsProvider
	region   string
	endpoint string
	http     *http.Client
	retryer  aws.Retryer
	signer   *v4.Signer
	now      func() time.Time
}

var _ ParameterAPI = (*SSMClient)(nil)

// NewSSMClient returns a client for cfg's region and credentials. Its endpoint is, in order: the
// AWS_ENDPOINT_URL_SSM that cfg's configuration sources give (awsenv's or the SDK loader's), cfg.BaseEndpoint, or
// the regional https://ssm.<region>.amazonaws.com (.com.cn in China; other partitions need an endpoint variable).
// Retries follow cfg.Retryer, else the standard retryer with cfg.RetryMaxAttempts.
func NewSSMClient(cfg aws.Config, httpClient *http.Client) *SSMClient {
	c := &SSMClient{creds: cfg.Credentials, region: cfg.Region, http: httpClient, signer: v4.NewSigner(), now: time.Now}
	switch ep, ok := awsenv.ServiceEndpoint(cfg, ssmSDKID); {
	case ok:
		c.endpoint = ep
	case cfg.BaseEndpoint != nil:
		c.endpoint = *cfg.BaseEndpoint
	case strings.HasPrefix(cfg.Region, "cn-"):
		c.endpoint = "https://ssm." + cfg.Region + ".amazonaws.com.cn"
	default:
		c.endpoint = "https://ssm." + cfg.Region + ".amazonaws.com"
	}
	if cfg.Retryer != nil {
		c.retryer = cfg.Retryer()
	} else {
		c.retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			if cfg.RetryMaxAttempts > 0 {
				o.MaxAttempts = cfg.RetryMaxAttempts
			}
		})
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	return c
}

// GetParameter returns the decrypted value of parameter name. An AWS error answer is a smithy.APIError carrying
// its code (ParameterNotFound, ThrottlingException, ...) and HTTP status; the value never appears in an error.
func (c *SSMClient) GetParameter(ctx context.Context, name string) (string, error) {
	body, err := json.Marshal(struct {
		Name           string
		WithDecryption bool
	}{name, true})
	if err != nil {
		return "", fmt.Errorf("encode GetParameter: %w", err)
	}
	for attempt := 1; ; attempt++ {
		value, err := c.call(ctx, body)
		if err == nil || attempt >= c.retryer.MaxAttempts() || !c.retryer.IsErrorRetryable(err) {
			return value, err
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// call is one signed GetParameter request.
func (c *SSMClient) call(ctx context.Context, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("build GetParameter request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameter")
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("retrieve credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.region, c.now().UTC()); err != nil {
		return "", fmt.Errorf("sign GetParameter: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("send GetParameter: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read GetParameter answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", apiError(resp, answer)
	}
	var out struct{ Parameter struct{ Value string } }
	if err := json.Unmarshal(answer, &out); err != nil {
		return "", errors.New("GetParameter answer is not JSON")
	}
	return out.Parameter.Value, nil
}

// apiError reads an awsJson1_1 error answer: its code from X-Amzn-Errortype or __type, without the namespace
// before '#' or the URI after ':'. The message is dropped: nothing of an answer is repeated.
func apiError(resp *http.Response, answer []byte) error {
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(answer, &e)
		code = e.Type
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if code == "" {
		code = fmt.Sprintf("HTTP%d", resp.StatusCode)
	}
	fault := smithy.FaultClient
	if resp.StatusCode >= 500 {
		fault = smithy.FaultServer
	}
	return &statusError{APIError: &smithy.GenericAPIError{Code: code, Fault: fault}, status: resp.StatusCode}
}

// statusError is an API error with the answer's HTTP status, which the standard retryer reads (5xx, 429).
type statusError struct {
	smithy.APIError
	status int
}

// HTTPStatusCode is the answer's HTTP status.
func (e *statusError) HTTPStatusCode() int { return e.status }

// Unwrap gives the API error, for errors.As.
func (e *statusError) Unwrap() error { return e.APIError }
