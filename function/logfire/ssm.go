package logfire

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/agent-audit/agent-audit/function/awsjson"
)

// ssmService is Systems Manager as its SDK client names it.
var ssmService = awsjson.Service{SDKID: "SSM", SigningName: "ssm", TargetPrefix: "AmazonSSM"}

// SSMClient reads one SecureString parameter through the SSM API's GetParameter call, signed with Signature V4
// and retried by the SDK's standard retryer, as the SDK's ssm client would.
//
// Why not the SDK's ssm client: its package (and its schemas) initialise on every cold start, about as much as
// every other client of the function together, for one call at most per container (see docs/performance.md).
// This client is that one call of the awsJson1_1 protocol (package awsjson); ssm_test.go holds it to the SDK
// client's requests and answers.
type SSMClient struct{ c *awsjson.Client }

var _ ParameterAPI = (*SSMClient)(nil)

// NewSSMClient returns a client for cfg's region and credentials, its endpoint and retries as awsjson.New finds
// them for SSM (AWS_ENDPOINT_URL_SSM, cfg.BaseEndpoint, or https://ssm.<region>.amazonaws.com). A nil
// httpClient is cfg.HTTPClient, else a plain http.Client.
func NewSSMClient(cfg aws.Config, httpClient *http.Client) *SSMClient {
	var hc aws.HTTPClient
	if httpClient != nil {
		hc = httpClient
	}
	return &SSMClient{c: awsjson.New(cfg, ssmService, hc)}
}

// GetParameter returns the decrypted value of parameter name. An AWS error answer is a smithy.APIError carrying
// its code (ParameterNotFound, ThrottlingException, ...) and HTTP status; the value never appears in an error.
func (c *SSMClient) GetParameter(ctx context.Context, name string) (string, error) {
	in := struct {
		Name           string
		WithDecryption bool
	}{name, true}
	var out struct{ Parameter struct{ Value string } }
	if err := c.c.Call(ctx, "GetParameter", in, &out); err != nil {
		return "", err
	}
	return out.Parameter.Value, nil
}
