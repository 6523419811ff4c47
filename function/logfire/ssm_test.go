package logfire

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/agent-audit/agent-audit/function/awsenv"
	"github.com/agent-audit/agent-audit/internal/awsjsontest"
	"github.com/agent-audit/agent-audit/internal/ssmtest"
)

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
		Value    string
		Answer   awsjsontest.Answer
		Attempts int
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := ssmtest.New(t, map[string]string{name: "pylf_v1_eu_value"})
			rec := awsjsontest.NewRecorder(t, server.URL)
			run := func(get func(context.Context) (string, error)) (outcome, []awsjsontest.Request) {
				server.FailNext(tc.failures...)
				v, err := get(context.Background())
				o := outcome{Value: v}
				o.Answer = awsjsontest.AnswerOf(err)
				if o.Answer.NoAnswer {
					t.Fatalf("not an API error: %v", err)
				}
				reqs := rec.Taken()
				o.Attempts = len(reqs)
				return o, reqs
			}
			sdk := ssm.NewFromConfig(awsjsontest.Config(rec.URL))
			want, sdkReqs := run(func(ctx context.Context) (string, error) {
				out, err := sdk.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(tc.param), WithDecryption: aws.Bool(true)})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.Parameter.Value), nil
			})
			ours := NewSSMClient(awsjsontest.Config(rec.URL), nil)
			got, ourReqs := run(func(ctx context.Context) (string, error) { return ours.GetParameter(ctx, tc.param) })
			if got != want {
				t.Fatalf("SSMClient: %+v, the SDK client: %+v", got, want)
			}
			for _, r := range append(sdkReqs, ourReqs...) {
				awsjsontest.VerifySignature(t, r, "ssm")
			}
			awsjsontest.SameRequest(t, sdkReqs[0], ourReqs[0])
		})
	}
}

func TestTheSSMClientFindsItsEndpointAsTheSDKDoes(t *testing.T) {
	env := awsjsontest.Env
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
