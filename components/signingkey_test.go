package components

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

const accountRoot = "arn:aws:iam::123456789012:root"

const signerRole = "arn:aws:iam::123456789012:role/signer"

func TestSigningKey(t *testing.T) {
	tests := []struct {
		name        string
		readers     int
		window      int
		wantWindow  float64
		wantReaders []string
	}{
		{"with no readers only the account's IAM and the signer are named, and deletion waits the longest KMS allows", 0, 0, 30, nil},
		{"readers are named for the public key and verification only, with a chosen deletion window", 2, 7, 7,
			[]string{"arn:aws:iam::123456789012:role/reader-0", "arn:aws:iam::123456789012:role/reader-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *SigningKey
			m := run(t, func(ctx *pulumi.Context) error {
				args := &SigningKeyArgs{DeletionWindowDays: tt.window}
				for i := range tt.readers {
					r, err := iam.NewRole(ctx, fmt.Sprintf("reader-%d", i), &iam.RoleArgs{AssumeRolePolicy: pulumi.String("{}")})
					if err != nil {
						return err
					}
					args.ReaderRoleARNs = append(args.ReaderRoleARNs, r.Arn)
				}
				var err error
				if c, err = NewSigningKey(ctx, "signing", args); err != nil {
					return err
				}
				// The signer's role is made after the key, as AgentFunction makes it from the key's ARN.
				signer, err := iam.NewRole(ctx, "signer", &iam.RoleArgs{AssumeRolePolicy: c.KeyARN.ApplyT(func(string) string { return "{}" }).(pulumi.StringOutput)})
				if err != nil {
					return err
				}
				_, err = c.AllowSigners(ctx, []pulumi.StringInput{signer.Arn})
				return err
			})
			key := m.One(t, "aws:kms/key:Key", "signing")
			if str(key.Inputs, "customerMasterKeySpec") != "ECC_NIST_P256" || str(key.Inputs, "keyUsage") != "SIGN_VERIFY" {
				t.Errorf("key spec %q usage %q, want an ECC_NIST_P256 SIGN_VERIFY key", str(key.Inputs, "customerMasterKeySpec"), str(key.Inputs, "keyUsage"))
			}
			if num(key.Inputs, "deletionWindowInDays") != tt.wantWindow {
				t.Errorf("deletion window %v, want %v", num(key.Inputs, "deletionWindowInDays"), tt.wantWindow)
			}
			// KMS refuses automatic rotation on asymmetric keys; a multi-Region or lockout-bypassing key is not this design.
			for _, flag := range []string{"enableKeyRotation", "multiRegion", "bypassPolicyLockoutSafetyCheck"} {
				if v := pulumitest.Get(key.Inputs, flag); !v.IsNull() && v.BoolValue() {
					t.Errorf("%s is set", flag)
				}
			}
			alias := m.One(t, "aws:kms/alias:Alias", "signing-alias").Inputs
			if str(alias, "name") != "alias/signing" || str(alias, "targetKeyId") != "key-signing" {
				t.Errorf("alias %q targets %q, want alias/signing on the key", str(alias, "name"), str(alias, "targetKeyId"))
			}
			assertChildren(t, pulumiFilter(m, "agent-audit:index:SigningKey", "signing"), "agent-audit:index:SigningKey", "signing")

			// The key is created with a policy under which nobody signs, and leaves its policy to the attached
			// one afterwards: otherwise each `pulumi up` would put the creation policy back.
			creation := pulumitest.ParsePolicy(t, pulumitest.Get(key.Inputs, "policy"))
			if v := signingKeyPolicyViolations(creation, accountRoot, nil, nil); len(v) != 0 {
				t.Errorf("creation policy:\n%s", strings.Join(v, "\n"))
			}
			if !slices.Equal(key.IgnoreChanges, []string{"policy"}) {
				t.Errorf("the key ignores changes to %v, want its policy only (the attached key policy owns it)", key.IgnoreChanges)
			}
			if !key.RetainOnDelete {
				t.Error("the signing key is deleted with the stack: KMS could no longer verify any record")
			}

			attached := m.One(t, "aws:kms/keyPolicy:KeyPolicy", "signing-policy")
			if str(attached.Inputs, "keyId") != "key-signing" {
				t.Errorf("the key policy is attached to %q, want the signing key", str(attached.Inputs, "keyId"))
			}
			if v := pulumitest.Get(attached.Inputs, "bypassPolicyLockoutSafetyCheck"); !v.IsNull() && v.BoolValue() {
				t.Error("the key policy bypasses the lockout safety check")
			}
			policy := pulumitest.ParsePolicy(t, pulumitest.Get(attached.Inputs, "policy"))
			if v := signingKeyPolicyViolations(policy, accountRoot, tt.wantReaders, []string{signerRole}); len(v) != 0 {
				t.Errorf("key policy:\n%s", strings.Join(v, "\n"))
			}
			for name, p := range map[string]pulumitest.Policy{"creation": creation, "attached": policy} {
				last := p.Statement[len(p.Statement)-1]
				if last.Effect != "Deny" || strings.Join(last.Action, ",") != "kms:ScheduleKeyDeletion,kms:DisableKey" || strings.Join(last.Principal["AWS"], ",") != "*" {
					t.Errorf("%s policy does not deny deleting or disabling the key to everyone: %+v", name, last)
				}
			}

			arn := pulumitest.AwaitString(t, c.KeyARN)
			outputs := map[string]struct {
				o    pulumi.StringOutput
				want string
			}{
				"KeyARN":       {c.KeyARN, "arn:aws:kms:eu-west-1:123456789012:key/key-signing"},
				"KeyID":        {c.KeyID, "key-signing"},
				"AliasName":    {c.AliasName, "alias/signing"},
				"PublicKeyPEM": {c.PublicKeyPEM, pulumitest.MockPublicKeyPEM(arn)},
			}
			for name, out := range outputs {
				if got := pulumitest.AwaitString(t, out.o); got != out.want {
					t.Errorf("%s = %q, want %q", name, got, out.want)
				}
			}
			block, _ := pem.Decode([]byte(pulumitest.AwaitString(t, c.PublicKeyPEM)))
			if block == nil || block.Type != "PUBLIC KEY" {
				t.Fatal("PublicKeyPEM is not a PEM public key")
			}
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if ec, ok := pub.(*ecdsa.PublicKey); err != nil || !ok || ec.Curve != elliptic.P256() {
				t.Errorf("PublicKeyPEM holds %T (%v), want an ECDSA P-256 key", pub, err)
			}
		})
	}
}

// signingKeyPolicyViolations lists what is wrong with a signing key policy: kms:Sign (or a wildcard reaching
// it) allowed to anyone but exactly the signers, in anything but one statement of its own; the account's IAM
// allowed kms:Sign, kms:Verify, kms:CreateGrant or any wildcard; readers allowed more than reading; any
// principal other than the account, the readers and the signers. With no signers, nobody may sign.
func signingKeyPolicyViolations(p pulumitest.Policy, accountRoot string, readers, signers []string) []string {
	var out []string
	signs, publicKeys, readersSeen := 0, 0, false
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		if !slices.Equal(s.Resource, []string{"*"}) {
			out = append(out, s.Sid+": a key policy statement names resources other than the key itself")
		}
		if len(s.Principal) != 1 || len(s.Principal["AWS"]) == 0 {
			out = append(out, s.Sid+": principals other than AWS ARNs")
		}
		principals := s.Principal["AWS"]
		for _, a := range s.Action {
			if a == "kms:Sign" || strings.Contains(a, "*") {
				if len(signers) == 0 || !slices.Equal(principals, signers) || !slices.Equal(s.Action, []string{"kms:Sign"}) {
					out = append(out, fmt.Sprintf("%s: %v may %s: kms:Sign belongs, alone, to the signers %v", s.Sid, principals, a, signers))
				}
			}
		}
		switch {
		case slices.Equal(principals, []string{accountRoot}):
			for _, a := range s.Action {
				if a == "kms:Verify" || a == "kms:CreateGrant" {
					out = append(out, s.Sid+": the account's IAM may "+a)
				}
			}
		case len(signers) > 0 && slices.Equal(principals, signers):
			switch {
			case slices.Equal(s.Action, []string{"kms:Sign"}):
				signs++
			case slices.Equal(s.Action, []string{"kms:GetPublicKey"}):
				publicKeys++
			default:
				out = append(out, s.Sid+": signers may "+strings.Join(s.Action, ",")+", want kms:Sign alone and kms:GetPublicKey alone")
			}
		case len(readers) > 0 && slices.Equal(principals, readers):
			readersSeen = true
			if want := []string{"kms:DescribeKey", "kms:GetPublicKey", "kms:Verify"}; !slices.Equal(s.Action, want) {
				out = append(out, s.Sid+": readers may "+strings.Join(s.Action, ",")+", want only "+strings.Join(want, ","))
			}
		default:
			out = append(out, s.Sid+": unexpected principals "+strings.Join(principals, ",")+" may "+strings.Join(s.Action, ","))
		}
	}
	if len(signers) > 0 && signs != 1 {
		out = append(out, fmt.Sprintf("kms:Sign is granted to the signers in %d statements, want exactly one", signs))
	}
	if len(signers) > 0 && publicKeys != 1 {
		out = append(out, fmt.Sprintf("kms:GetPublicKey is granted to the signers in %d statements, want exactly one: a signer checks its first signature against the public key", publicKeys))
	}
	if len(readers) > 0 && !readersSeen {
		out = append(out, "the readers are not named")
	}
	return out
}

// The checker above must be able to fail: each widened policy is one an attacker or a careless edit could write.
func TestSigningKeyPolicyCheckerCatchesWidenedPolicies(t *testing.T) {
	readers := []string{"arn:aws:iam::123456789012:role/analyst"}
	signers := []string{signerRole}
	const admin, sign, read, signersRead = 0, 1, 2, 3 // statement indexes of SigningKeyPolicy
	tests := []struct {
		name  string
		widen func(d *PolicyDocument)
	}{
		{"kms:Sign delegated to the account's IAM, as the old policy did", func(d *PolicyDocument) {
			d.Statement = append(d.Statement, PolicyStatement{Effect: "Allow", Principal: map[string][]string{"AWS": {accountRoot}}, Action: []string{"kms:Sign"}, Resource: []string{"*"}})
		}},
		{"the account's IAM may sign among its administration", func(d *PolicyDocument) {
			d.Statement[admin].Action = append(d.Statement[admin].Action, "kms:Sign")
		}},
		{"the account root shares the signers' statement", func(d *PolicyDocument) {
			d.Statement[sign].Principal = map[string][]string{"AWS": {signerRole, accountRoot}}
		}},
		{"kms:Sign granted to another role", func(d *PolicyDocument) {
			d.Statement = append(d.Statement, PolicyStatement{Effect: "Allow", Principal: map[string][]string{"AWS": {"arn:aws:iam::123456789012:role/other"}}, Action: []string{"kms:Sign"}, Resource: []string{"*"}})
		}},
		{"kms:Sign given to the readers", func(d *PolicyDocument) { d.Statement[read].Action = append(d.Statement[read].Action, "kms:Sign") }},
		{"the account's IAM gets kms:*", func(d *PolicyDocument) { d.Statement[admin].Action = []string{"kms:*"} }},
		{"the account's IAM gets kms:Sig*", func(d *PolicyDocument) { d.Statement[admin].Action = append(d.Statement[admin].Action, "kms:Sig*") }},
		{"the account's IAM may create grants", func(d *PolicyDocument) {
			d.Statement[admin].Action = append(d.Statement[admin].Action, "kms:CreateGrant")
		}},
		{"the account's IAM may verify", func(d *PolicyDocument) { d.Statement[admin].Action = append(d.Statement[admin].Action, "kms:Verify") }},
		{"kms:Sign shares its statement", func(d *PolicyDocument) { d.Statement[sign].Action = append(d.Statement[sign].Action, "kms:Decrypt") }},
		{"the signers get kms:*", func(d *PolicyDocument) { d.Statement[sign].Action = []string{"kms:*"} }},
		{"no statement lets the signer sign", func(d *PolicyDocument) { d.Statement = slices.Delete(d.Statement, sign, sign+1) }},
		{"kms:Sign in two statements", func(d *PolicyDocument) { d.Statement = append(d.Statement, d.Statement[sign]) }},
		{"the signers' public key statement grants more", func(d *PolicyDocument) {
			d.Statement[signersRead].Action = append(d.Statement[signersRead].Action, "kms:Decrypt")
		}},
		{"the signers may sign in their public key statement", func(d *PolicyDocument) {
			d.Statement[signersRead].Action = append(d.Statement[signersRead].Action, "kms:Sign")
		}},
		{"the signers cannot read the public key", func(d *PolicyDocument) { d.Statement = d.Statement[:signersRead] }},
		{"a wildcard principal", func(d *PolicyDocument) { d.Statement[read].Principal = map[string][]string{"AWS": {"*"}} }},
		{"a wildcard signer", func(d *PolicyDocument) { d.Statement[sign].Principal = map[string][]string{"AWS": {"*"}} }},
	}
	base := SigningKeyPolicy("aws", "123456789012", readers, signers)
	if v := signingKeyPolicyViolations(parse(t, base), accountRoot, readers, signers); len(v) != 0 {
		t.Fatalf("the component's own policy fails the checker: %v", v)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := SigningKeyPolicy("aws", "123456789012", readers, signers)
			tt.widen(&d)
			if v := signingKeyPolicyViolations(parse(t, d), accountRoot, readers, signers); len(v) == 0 {
				t.Error("the widened policy passes the checker")
			}
		})
	}
	// The creation policy: nobody signs. Adding a signer to it is a violation.
	creation := SigningKeyPolicy("aws", "123456789012", nil, nil)
	if v := signingKeyPolicyViolations(parse(t, creation), accountRoot, nil, nil); len(v) != 0 {
		t.Fatalf("the creation policy fails the checker: %v", v)
	}
	if v := signingKeyPolicyViolations(parse(t, base), accountRoot, readers, nil); len(v) == 0 {
		t.Error("a policy letting a role sign passes as a creation policy")
	}
}

func TestAllowSignersValidates(t *testing.T) {
	tests := []struct {
		name    string
		signers func(ctx *pulumi.Context, c *SigningKey) error
		want    []string
	}{
		{"no signer", func(ctx *pulumi.Context, c *SigningKey) error {
			_, err := c.AllowSigners(ctx, nil)
			return err
		}, []string{"at least one signer"}},
		{"a nil signer", func(ctx *pulumi.Context, c *SigningKey) error {
			_, err := c.AllowSigners(ctx, []pulumi.StringInput{pulumi.String(signerRole), nil})
			return err
		}, []string{"roleARNs[1]: nil"}},
		{"a second policy", func(ctx *pulumi.Context, c *SigningKey) error {
			if _, err := c.AllowSigners(ctx, []pulumi.StringInput{pulumi.String(signerRole)}); err != nil {
				return fmt.Errorf("the first call failed: %w", err)
			}
			_, err := c.AllowSigners(ctx, []pulumi.StringInput{pulumi.String("arn:aws:iam::123456789012:role/other")})
			return err
		}, []string{"already attached"}},
		{"the account root as a signer", func(ctx *pulumi.Context, c *SigningKey) error {
			_, err := c.AllowSigners(ctx, []pulumi.StringInput{pulumi.String(accountRoot)})
			return err
		}, []string{"not an IAM role ARN", accountRoot}},
		{"a wildcard role as a signer", func(ctx *pulumi.Context, c *SigningKey) error {
			_, err := c.AllowSigners(ctx, []pulumi.StringInput{pulumi.String("arn:aws:iam::123456789012:role/*")})
			return err
		}, []string{"not an IAM role ARN"}},
		{"a user as a signer", func(ctx *pulumi.Context, c *SigningKey) error {
			_, err := c.AllowSigners(ctx, []pulumi.StringInput{pulumi.String(signerRole), pulumi.String("arn:aws:iam::123456789012:user/admin")})
			return err
		}, []string{"not an IAM role ARN", "user/admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
				c, err := NewSigningKey(ctx, "signing", nil)
				if err != nil {
					return err
				}
				return tt.signers(ctx, c)
			})
			for _, want := range tt.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v does not say %q", err, want)
				}
			}
		})
	}
}

func TestIsRoleARN(t *testing.T) {
	for arn, want := range map[string]bool{
		"arn:aws:iam::123456789012:role/signer":              true,
		"arn:aws-us-gov:iam::123456789012:role/path/signer":  true,
		"arn:aws:iam::123456789012:root":                     false,
		"arn:aws:iam::123456789012:user/admin":               false,
		"arn:aws:iam::123456789012:role/":                    false,
		"arn:aws:iam::123456789012:role/sign*":               false,
		"arn:aws:iam::*:role/signer":                         false,
		"arn:aws:sts::123456789012:assumed-role/signer/sess": false,
		"123456789012": false,
		"*":            false,
	} {
		if got := isRoleARN(arn); got != want {
			t.Errorf("isRoleARN(%q) = %v, want %v", arn, got, want)
		}
	}
}

func TestSigningKeyValidates(t *testing.T) {
	err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		_, err := NewSigningKey(ctx, "signing", &SigningKeyArgs{DeletionWindowDays: 31, ReaderRoleARNs: []pulumi.StringInput{nil}})
		return err
	})
	for _, field := range []string{"DeletionWindowDays", "ReaderRoleARNs[0]"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
}

// parse renders d and reads it back as the tests read every policy.
func parse(t *testing.T, d PolicyDocument) pulumitest.Policy {
	t.Helper()
	s, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return pulumitest.ParsePolicy(t, resource.NewProperty(s))
}
