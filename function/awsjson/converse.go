package awsjson

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

// bedrockRuntimeService is Amazon Bedrock Runtime as its SDK client names it. Converse answers carry the whole
// completion (up to the model's output limit, reasoning included), so they may be read up to 16 MiB.
var bedrockRuntimeService = Service{
	SDKID: "Bedrock Runtime", SigningName: "bedrock", EndpointPrefix: "bedrock-runtime", KeepMessages: true,
	MaxAnswerBytes: 16 << 20,
}

// BedrockRuntime makes Bedrock Runtime's Converse call (restJson1: POST /model/{modelId}/converse). It leaves the
// request and answer shapes to its caller (agent.BedrockModel), which uses a few of Converse's many members. It
// implements agent.ConverseAPI and is safe for concurrent use.
type BedrockRuntime struct{ c *Client }

// NewBedrockRuntime returns a Bedrock Runtime client for cfg (endpoint, retries and HTTP client as New says; the
// regional endpoint is https://bedrock-runtime.<region>.amazonaws.com, AWS_ENDPOINT_URL_BEDROCK_RUNTIME overrides
// it).
func NewBedrockRuntime(cfg aws.Config, httpClient aws.HTTPClient) *BedrockRuntime {
	return &BedrockRuntime{c: New(cfg, bedrockRuntimeService, httpClient)}
}

// Endpoint is the URL the client sends its calls to.
func (b *BedrockRuntime) Endpoint() string { return b.c.Endpoint() }

// Converse sends the JSON of in as the Converse request body for modelID (a model ID, or an inference profile's
// ID or ARN: escaped into one path segment as the SDK escapes it) and decodes the answer body into out. It
// returns the answer's request ID, also when the call failed with an answer. Errors are as Client.Call's: an AWS
// error answer is a smithy.APIError with its code, HTTP status and request ID.
func (b *BedrockRuntime) Converse(ctx context.Context, modelID string, in, out any) (requestID string, err error) {
	if modelID == "" {
		return "", errors.New("converse: model ID: required")
	}
	return b.c.PostJSON(ctx, "Converse", "/model/"+httpbinding.EscapePath(modelID, true)+"/converse", in, out)
}
