package awsjson

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/agent-audit/agent-audit/function/awsenv"
	"github.com/agent-audit/agent-audit/internal/awsjsontest"
)

// endpointClients are the clients whose endpoints TestTheClientsFindTheirEndpointsAsTheSDKDoes checks, each
// with the SDK client it replaces.
var endpointClients = []struct {
	sdkID, variable, host string
	// sdk makes one call with the SDK's client through hc; ours is our client's endpoint.
	sdk  func(aws.Config, aws.HTTPClient)
	ours func(aws.Config) string
}{
	{"KMS", "AWS_ENDPOINT_URL_KMS", "kms",
		func(cfg aws.Config, hc aws.HTTPClient) {
			c := kms.NewFromConfig(cfg, func(o *kms.Options) { o.HTTPClient = hc; o.RetryMaxAttempts = 1 })
			_, _ = c.GetPublicKey(context.Background(), &kms.GetPublicKeyInput{KeyId: aws.String("k")})
		},
		func(cfg aws.Config) string { return NewKMS(cfg, nil).Endpoint() }},
	{"Bedrock Runtime", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "bedrock-runtime",
		func(cfg aws.Config, hc aws.HTTPClient) {
			c := bedrockruntime.NewFromConfig(cfg, func(o *bedrockruntime.Options) { o.HTTPClient = hc; o.RetryMaxAttempts = 1 })
			_, _ = c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String("m"),
				Messages: []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "hi"}}}}})
		},
		func(cfg aws.Config) string { return NewBedrockRuntime(cfg, nil).Endpoint() }},
}

// TestTheClientsFindTheirEndpointsAsTheSDKDoes resolves each client's endpoint from Lambda-like environments
// through awsenv and through the SDK client's own resolution, and requires the same URL: the regional host (whose
// prefix is not always the signing name: bedrock-runtime signs as bedrock), the service's own
// AWS_ENDPOINT_URL_<SDK ID> (spaces as underscores), then AWS_ENDPOINT_URL.
func TestTheClientsFindTheirEndpointsAsTheSDKDoes(t *testing.T) {
	env := awsjsontest.Env
	for _, client := range endpointClients {
		cases := []struct {
			name   string
			lookup func(string) (string, bool)
			want   string
		}{
			{"the regional endpoint by default", env(), "https://" + client.host + ".eu-west-1.amazonaws.com"},
			{"China's partition", env("AWS_REGION", "cn-north-1"), "https://" + client.host + ".cn-north-1.amazonaws.com.cn"},
			{client.variable + " first", env(client.variable, "http://127.0.0.1:9", "AWS_ENDPOINT_URL", "http://127.0.0.1:8"), "http://127.0.0.1:9"},
			{"then AWS_ENDPOINT_URL", env("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9", "AWS_ENDPOINT_URL", "http://127.0.0.1:8"), "http://127.0.0.1:8"},
			{"neither when they are ignored", env(client.variable, "http://127.0.0.1:9", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), "https://" + client.host + ".eu-west-1.amazonaws.com"},
		}
		for _, tc := range cases {
			t.Run(client.sdkID+": "+tc.name, func(t *testing.T) {
				cfg, err := awsenv.Config(tc.lookup)
				if err != nil {
					t.Fatal(err)
				}
				// The SDK client's request URL, caught before it leaves.
				var sdkURL string
				client.sdk(cfg, doer(func(r *http.Request) (*http.Response, error) {
					sdkURL = r.URL.Scheme + "://" + r.URL.Host
					return nil, errors.New("caught")
				}))
				if got := client.ours(cfg); got != tc.want || got != sdkURL {
					t.Fatalf("endpoint %s, want %s; the SDK client sent to %s", got, tc.want, sdkURL)
				}
			})
		}
	}
}
