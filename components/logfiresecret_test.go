package components

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

const logfireTestToken = "pylf_v1_eu_LOGFIRESECRETTEST0123456789"

func TestLogfireSecret(t *testing.T) {
	tests := []struct {
		name          string
		args          func() *LogfireSecretArgs
		wantParameter string
	}{
		{"a token given in clear is stored as a secret under the default name",
			func() *LogfireSecretArgs { return &LogfireSecretArgs{Token: pulumi.String(logfireTestToken)} },
			"/logfire/logfire-token"},
		{"a token already secret keeps its secrecy under a chosen name",
			func() *LogfireSecretArgs {
				return &LogfireSecretArgs{Token: pulumi.ToSecret(pulumi.String(logfireTestToken)).(pulumi.StringOutput), ParameterName: "/team/logfire"}
			},
			"/team/logfire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *LogfireSecret
			m := run(t, func(ctx *pulumi.Context) error {
				var err error
				c, err = NewLogfireSecret(ctx, "logfire", tt.args())
				return err
			})
			param := m.One(t, "aws:ssm/parameter:Parameter", "logfire").Inputs
			if str(param, "type") != "SecureString" || str(param, "name") != tt.wantParameter {
				t.Errorf("parameter type %q name %q, want SecureString %q", str(param, "type"), str(param, "name"), tt.wantParameter)
			}
			if !pulumitest.IsSecret(param, "value") || str(param, "value") != logfireTestToken {
				t.Errorf("the parameter value is not the token marked secret (secret: %v)", pulumitest.IsSecret(param, "value"))
			}
			// No KeyId: SSM encrypts with the AWS-managed alias/aws/ssm key, the one ReadStatements lets the reader use.
			if !pulumitest.Get(param, "keyId").IsNull() {
				t.Errorf("keyId %v: the read grant would name the wrong key", pulumitest.Get(param, "keyId"))
			}
			if where := m.ContainsClear(logfireTestToken); len(where) != 0 {
				t.Errorf("the token appears in clear in %v", where)
			}
			assertChildren(t, m, "agent-audit:index:LogfireSecret", "logfire")

			outputs := map[string]struct {
				o    pulumi.StringOutput
				want string
			}{
				"ParameterName": {c.ParameterName, tt.wantParameter},
				"ParameterARN":  {c.ParameterARN, "arn:aws:ssm:eu-west-1:123456789012:parameter" + tt.wantParameter},
				"KeyARN":        {c.KeyARN, "arn:aws:kms:eu-west-1:123456789012:key/aws-ssm-managed-key"},
			}
			for name, out := range outputs {
				if v, secret := pulumitest.AwaitSecret(t, out.o); v != out.want || secret || strings.Contains(v, logfireTestToken) {
					t.Errorf("%s = %q (secret %v), want %q in clear", name, v, secret, out.want)
				}
			}
		})
	}
}

func TestLogfireSecretReadStatementsGrantOnlyReadingThroughSSM(t *testing.T) {
	var c *LogfireSecret
	run(t, func(ctx *pulumi.Context) error {
		var err error
		c, err = NewLogfireSecret(ctx, "logfire", &LogfireSecretArgs{Token: pulumi.String(logfireTestToken)})
		return err
	})
	const param, key = "arn:aws:ssm:eu-west-1:123456789012:parameter/p", "arn:aws:kms:eu-west-1:123456789012:key/k"
	st := c.ReadStatements(param, key)
	if len(st) != 2 {
		t.Fatalf("%d statements, want GetParameter and Decrypt: %+v", len(st), st)
	}
	get, decrypt := st[0], st[1]
	if get.Effect != "Allow" || strings.Join(get.Action, ",") != "ssm:GetParameter" || strings.Join(get.Resource, ",") != param || get.Condition != nil {
		t.Errorf("read statement %+v", get)
	}
	if decrypt.Effect != "Allow" || strings.Join(decrypt.Action, ",") != "kms:Decrypt" || strings.Join(decrypt.Resource, ",") != key {
		t.Errorf("decrypt statement %+v", decrypt)
	}
	if via := decrypt.Condition["StringEquals"]["kms:ViaService"]; via != "ssm.eu-west-1.amazonaws.com" || len(decrypt.Condition) != 1 {
		t.Errorf("decrypt condition %v, want kms:ViaService ssm.eu-west-1.amazonaws.com only", decrypt.Condition)
	}
}

func TestLogfireSecretViaServiceUsesThePartitionsDNSSuffix(t *testing.T) {
	var c *LogfireSecret
	m := &pulumitest.Mocks{AWSRegion: "cn-north-1", AWSPartition: "aws-cn", DNSSuffix: "amazonaws.com.cn"}
	if err := pulumitest.Run(m, func(ctx *pulumi.Context) (err error) {
		c, err = NewLogfireSecret(ctx, "logfire", &LogfireSecretArgs{Token: pulumi.String(logfireTestToken)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st := c.ReadStatements("arn:aws-cn:ssm:cn-north-1:123456789012:parameter/p", "arn:aws-cn:kms:cn-north-1:123456789012:key/k")
	if via := st[1].Condition["StringEquals"]["kms:ViaService"]; via != "ssm.cn-north-1.amazonaws.com.cn" {
		t.Errorf("kms:ViaService %v in aws-cn, want ssm.cn-north-1.amazonaws.com.cn", via)
	}
}

func TestLogfireSecretWithoutATokenIsAnError(t *testing.T) {
	for name, args := range map[string]*LogfireSecretArgs{"no args": nil, "no token": {ParameterName: "/x"}} {
		t.Run(name, func(t *testing.T) {
			m := &pulumitest.Mocks{}
			err := pulumitest.Run(m, func(ctx *pulumi.Context) error {
				_, err := NewLogfireSecret(ctx, "logfire", args)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "Token: required") {
				t.Fatalf("error %v, want one naming Token", err)
			}
			if len(m.Resources()) != 0 {
				t.Errorf("created %d resources without a token", len(m.Resources()))
			}
		})
	}
}
