package pulumitest

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type component struct{ pulumi.ResourceState }

// fixture registers a component holding a bucket, a key, a role with a trust policy and a parameter with a
// secret value, and returns the outputs the tests resolve.
func fixture(t *testing.T) (*Mocks, map[string]pulumi.StringOutput) {
	t.Helper()
	m := &Mocks{}
	outs := map[string]pulumi.StringOutput{}
	err := Run(m, func(ctx *pulumi.Context) error {
		c := &component{}
		if err := ctx.RegisterComponentResource("test:index:Thing", "thing", c); err != nil {
			return err
		}
		b, err := s3.NewBucketV2(ctx, "thing-bucket", &s3.BucketV2Args{Bucket: pulumi.String("physical-bucket")}, pulumi.Parent(c))
		if err != nil {
			return err
		}
		k, err := kms.NewKey(ctx, "thing-key", &kms.KeyArgs{}, pulumi.Parent(c))
		if err != nil {
			return err
		}
		r, err := iam.NewRole(ctx, "thing-role", &iam.RoleArgs{
			Name:             pulumi.String("physical-role"),
			AssumeRolePolicy: pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole"],"Principal":{"Service":["lambda.amazonaws.com"]}}]}`),
		})
		if err != nil {
			return err
		}
		p, err := ssm.NewParameter(ctx, "thing-token", &ssm.ParameterArgs{
			Name: pulumi.String("/thing/token"), Type: pulumi.String("SecureString"), Value: pulumi.ToSecret(pulumi.String("hunter2")).(pulumi.StringOutput),
			Description: pulumi.String("holds no hunter3"),
		})
		if err != nil {
			return err
		}
		outs["bucket"], outs["bucketArn"], outs["keyArn"], outs["roleArn"], outs["paramArn"], outs["value"] = b.Bucket, b.Arn, k.Arn, r.Arn, p.Arn, p.Value
		return nil
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return m, outs
}

func TestMocksReturnProviderShapedState(t *testing.T) {
	_, outs := fixture(t)
	want := map[string]string{
		"bucket":    "physical-bucket",
		"bucketArn": "arn:aws:s3:::physical-bucket",
		"keyArn":    "arn:aws:kms:eu-west-1:123456789012:key/key-thing-key",
		"roleArn":   "arn:aws:iam::123456789012:role/physical-role",
		"paramArn":  "arn:aws:ssm:eu-west-1:123456789012:parameter/thing/token",
	}
	for name, w := range want {
		if got := AwaitString(t, outs[name]); got != w {
			t.Errorf("%s resolved to %q, want %q", name, got, w)
		}
	}
	if v, secret := AwaitSecret(t, outs["value"]); v != "hunter2" || !secret {
		t.Errorf("secret parameter value resolved to %q (secret %v), want it back still marked secret", v, secret)
	}
}

func TestMocksRecordParentsAndTypes(t *testing.T) {
	m, _ := fixture(t)
	tests := []struct {
		name, token, resource, parent string
	}{
		{"a child records its component's URN as parent", "aws:s3/bucketV2:BucketV2", "thing-bucket", ComponentURN("test:index:Thing", "thing")},
		{"a second child has the same parent", "aws:kms/key:Key", "thing-key", ComponentURN("test:index:Thing", "thing")},
		{"a top-level resource has the stack as parent", "aws:iam/role:Role", "thing-role", "urn:pulumi:dev::agent-audit::pulumi:pulumi:Stack::agent-audit-dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.One(t, tt.token, tt.resource).Parent; got != tt.parent {
				t.Errorf("parent %q, want %q", got, tt.parent)
			}
		})
	}
	if n := len(m.ByType("test:index:Thing")); n != 1 {
		t.Errorf("%d components recorded, want 1", n)
	}
	if got := len(m.Resources()); got != 5 {
		t.Errorf("%d resources recorded, want 5 (component, bucket, key, role, parameter)", got)
	}
}

func TestGetReadsNestedInputs(t *testing.T) {
	inputs := resource.NewPropertyMapFromMap(map[string]any{
		"rules": []any{map[string]any{"expiration": map[string]any{"days": 7}}},
		"env":   map[string]any{"A": "b"},
	})
	inputs["hidden"] = resource.MakeSecret(resource.NewProperty(resource.NewPropertyMapFromMap(map[string]any{"k": "v"})))
	tests := []struct {
		name, path string
		want       any
	}{
		{"a list index and object keys lead to a number", "rules.0.expiration.days", 7.0},
		{"an object key leads to a string", "env.A", "b"},
		{"a secret is looked through", "hidden.k", "v"},
		{"an index past the end is absent", "rules.1.expiration.days", nil},
		{"a missing key is absent", "env.B", nil},
		{"a key into a scalar is absent", "env.A.x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Get(inputs, tt.path).Mappable(); got != tt.want {
				t.Errorf("Get(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	if !IsSecret(inputs, "hidden") || !IsSecret(inputs, "hidden.k") || IsSecret(inputs, "env.A") {
		t.Error("IsSecret does not follow the secret markers")
	}
}

func TestSecretsAndPoliciesAreFound(t *testing.T) {
	m, _ := fixture(t)
	if !IsSecret(m.One(t, "aws:ssm/parameter:Parameter", "thing-token").Inputs, "value") {
		t.Error("the parameter value is not recorded as secret")
	}
	if where := m.ContainsClear("hunter2"); len(where) != 0 {
		t.Errorf("a secret value is reported as clear in %v", where)
	}
	if where := m.ContainsClear("hunter3"); len(where) != 1 || !strings.Contains(where[0], "thing-token") {
		t.Errorf("a clear value is found in %v, want the parameter", where)
	}
	policies := m.PolicyInputs()
	if len(policies) != 1 {
		t.Fatalf("found policies %v, want the role's trust policy only", policies)
	}
	for where, v := range policies {
		p := ParsePolicy(t, v)
		if !strings.Contains(where, "thing-role assumeRolePolicy") || p.Statement[0].Principal["Service"][0] != "lambda.amazonaws.com" {
			t.Errorf("%s: %+v", where, p)
		}
	}
}

func TestUnmockedProviderFunctionFailsTheRun(t *testing.T) {
	err := Run(&Mocks{}, func(ctx *pulumi.Context) error {
		_, err := kms.LookupKey(ctx, &kms.LookupKeyArgs{KeyId: "alias/x"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "aws:kms/getKey:getKey") {
		t.Errorf("run error %v, want one naming the unmocked function", err)
	}
}

func TestMocksRecordIgnoreChangesAndAttachedKeyPolicies(t *testing.T) {
	m := &Mocks{}
	var policyID pulumi.IDOutput
	err := Run(m, func(ctx *pulumi.Context) error {
		k, err := kms.NewKey(ctx, "ignoring-key", &kms.KeyArgs{Policy: pulumi.String(`{"Statement":[]}`)}, pulumi.IgnoreChanges([]string{"policy"}))
		if err != nil {
			return err
		}
		p, err := kms.NewKeyPolicy(ctx, "attached", &kms.KeyPolicyArgs{KeyId: k.KeyId, Policy: pulumi.String(`{"Version":"2012-10-17","Statement":[]}`)})
		if err != nil {
			return err
		}
		policyID = p.ID()
		return nil
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := m.One(t, "aws:kms/key:Key", "ignoring-key").IgnoreChanges; len(got) != 1 || got[0] != "policy" {
		t.Errorf("IgnoreChanges recorded as %v, want [policy]", got)
	}
	if got := m.One(t, "aws:kms/keyPolicy:KeyPolicy", "attached").IgnoreChanges; len(got) != 0 {
		t.Errorf("IgnoreChanges recorded as %v on a resource without the option", got)
	}
	if got := AwaitString(t, policyID.ToStringOutput()); got != "key-ignoring-key" {
		t.Errorf("the key policy's id is %q, want the key's id key-ignoring-key", got)
	}
	if _, ok := m.PolicyInputs()["aws:kms/keyPolicy:KeyPolicy attached policy"]; !ok {
		t.Errorf("the attached key policy is not among the policy documents: %v", m.PolicyInputs())
	}
}
