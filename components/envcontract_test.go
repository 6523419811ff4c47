package components

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

// The environment AgentFunction writes is read back by the runtime's own parser, agentaudit.ConfigFromEnv, for
// every optional feature on and off: a name the component spells differently from the runtime, a value the
// runtime cannot parse, or a feature the component wires without the runtime seeing it fails here.
func TestTheComponentsEnvironmentIsAValidRuntimeConfiguration(t *testing.T) {
	const layer = "arn:aws:lambda:eu-west-1:187925254637:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:17"
	withLogfire := func(ctx *pulumi.Context, a *AgentFunctionArgs) error {
		secret, err := NewLogfireSecret(ctx, "logfire", &LogfireSecretArgs{Token: pulumi.String("pylf_v1_eu_TESTTOKENVALUE0123456789")})
		a.Logfire = secret
		return err
	}
	withKey := func(ctx *pulumi.Context, a *AgentFunctionArgs) error {
		key, err := NewSigningKey(ctx, "signing", nil)
		if err == nil {
			a.SigningKeyARN = key.KeyARN
		}
		return err
	}
	withBucket := func(ctx *pulumi.Context, a *AgentFunctionArgs) error {
		bucket, err := NewAuditBucket(ctx, "audit", nil)
		a.OversizeBucket = bucket
		return err
	}
	tests := []struct {
		name   string
		mutate []func(*pulumi.Context, *AgentFunctionArgs) error
		check  func(t *testing.T, c agentaudit.Config)
	}{
		{"every optional feature off", nil, func(t *testing.T, c agentaudit.Config) {
			if !c.CaptureContent || c.AgentName != "" || c.SystemPrompt != "" || c.SigningKeyID != "" || c.OversizeBucket != "" || c.Logfire != nil {
				t.Errorf("optional settings on: %+v", c)
			}
		}},
		{"content capture off, with a name and a prompt", []func(*pulumi.Context, *AgentFunctionArgs) error{func(_ *pulumi.Context, a *AgentFunctionArgs) error {
			off := false
			a.CaptureContent, a.AgentName, a.SystemPrompt = &off, "ticket-agent", "Look tickets up."
			return nil
		}}, func(t *testing.T, c agentaudit.Config) {
			if c.CaptureContent || c.AgentName != "ticket-agent" || c.SystemPrompt != "Look tickets up." {
				t.Errorf("config %+v", c)
			}
		}},
		{"sealed with a signing key", []func(*pulumi.Context, *AgentFunctionArgs) error{withKey}, func(t *testing.T, c agentaudit.Config) {
			if !strings.HasPrefix(c.SigningKeyID, "arn:aws:kms:eu-west-1:"+pulumitest.Account+":key/") {
				t.Errorf("signing key %q", c.SigningKeyID)
			}
		}},
		{"oversize content in the audit bucket", []func(*pulumi.Context, *AgentFunctionArgs) error{withBucket}, func(t *testing.T, c agentaudit.Config) {
			if c.OversizeBucket == "" {
				t.Error("no oversize bucket")
			}
		}},
		{"Logfire with its token read from SSM", []func(*pulumi.Context, *AgentFunctionArgs) error{withLogfire}, func(t *testing.T, c agentaudit.Config) {
			if c.Logfire == nil || c.Logfire.TokenParameter != "/logfire/logfire-token" || c.Logfire.ExtensionPort != 0 || c.Logfire.SampleRatio != 1 || c.Logfire.Scrub {
				t.Errorf("logfire %+v", c.Logfire)
			}
		}},
		{"Logfire through the extension, sampled and scrubbed", []func(*pulumi.Context, *AgentFunctionArgs) error{withLogfire, func(_ *pulumi.Context, a *AgentFunctionArgs) error {
			ratio := 0.25
			a.LogfireSampleRatio, a.LogfireScrub, a.SecretsExtensionLayerARN = &ratio, true, layer
			return nil
		}}, func(t *testing.T, c agentaudit.Config) {
			if c.Logfire == nil || c.Logfire.ExtensionPort != agentenv.DefaultExtensionHTTPPort || c.Logfire.SampleRatio != 0.25 || !c.Logfire.Scrub {
				t.Errorf("logfire %+v", c.Logfire)
			}
		}},
		{"every optional feature on", []func(*pulumi.Context, *AgentFunctionArgs) error{withKey, withBucket, withLogfire, func(_ *pulumi.Context, a *AgentFunctionArgs) error {
			a.SecretsExtensionLayerARN, a.AgentName = layer, "ticket-agent"
			return nil
		}}, func(t *testing.T, c agentaudit.Config) {
			if c.SigningKeyID == "" || c.OversizeBucket == "" || c.Logfire == nil || c.Logfire.ExtensionPort == 0 || c.AgentName != "ticket-agent" {
				t.Errorf("config %+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := functionStack(t, func(ctx *pulumi.Context, a *AgentFunctionArgs) error {
				for _, f := range tt.mutate {
					if err := f(ctx, a); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			vars := pulumitest.Get(m.One(t, "aws:lambda/function:Function", "agent").Inputs, "environment.variables").ObjectValue()
			env := map[string]string{}
			for k, v := range vars {
				if !v.IsString() {
					t.Fatalf("%s is %v, not a string the function can read", k, v)
				}
				env[string(k)] = v.StringValue()
				if !slices.Contains(agentenv.All(), string(k)) && string(k) != agentenv.ExtensionCacheSize {
					t.Errorf("the component sets %s, which the runtime does not read", k)
				}
			}
			cfg, err := agentaudit.ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatalf("the runtime refuses the component's environment %v: %v", env, err)
			}
			if cfg.Model != agentaudit.ModelBedrock || cfg.FirehoseStream != "stream" || cfg.ModelName != DefaultModelName ||
				cfg.InferenceProfileARN != "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/model-id" {
				t.Errorf("model and stream: %+v", cfg)
			}
			tt.check(t, cfg)
		})
	}
}
