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

func TestSigningKey(t *testing.T) {
	tests := []struct {
		name        string
		readers     int
		window      int
		wantWindow  float64
		wantReaders []string
	}{
		{"with no readers only the account's IAM is named, and deletion waits the longest KMS allows", 0, 0, 30, nil},
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
				c, err = NewSigningKey(ctx, "signing", args)
				return err
			})
			key := m.One(t, "aws:kms/key:Key", "signing").Inputs
			if str(key, "customerMasterKeySpec") != "ECC_NIST_P256" || str(key, "keyUsage") != "SIGN_VERIFY" {
				t.Errorf("key spec %q usage %q, want an ECC_NIST_P256 SIGN_VERIFY key", str(key, "customerMasterKeySpec"), str(key, "keyUsage"))
			}
			if num(key, "deletionWindowInDays") != tt.wantWindow {
				t.Errorf("deletion window %v, want %v", num(key, "deletionWindowInDays"), tt.wantWindow)
			}
			// KMS refuses automatic rotation on asymmetric keys; a multi-Region or lockout-bypassing key is not this design.
			for _, flag := range []string{"enableKeyRotation", "multiRegion", "bypassPolicyLockoutSafetyCheck"} {
				if v := pulumitest.Get(key, flag); !v.IsNull() && v.BoolValue() {
					t.Errorf("%s is set", flag)
				}
			}
			alias := m.One(t, "aws:kms/alias:Alias", "signing-alias").Inputs
			if str(alias, "name") != "alias/signing" || str(alias, "targetKeyId") != "key-signing" {
				t.Errorf("alias %q targets %q, want alias/signing on the key", str(alias, "name"), str(alias, "targetKeyId"))
			}
			assertChildren(t, pulumiFilter(m, "agent-audit:index:SigningKey", "signing"), "agent-audit:index:SigningKey", "signing")

			policy := pulumitest.ParsePolicy(t, pulumitest.Get(key, "policy"))
			if v := signingKeyPolicyViolations(policy, accountRoot, tt.wantReaders); len(v) != 0 {
				t.Errorf("key policy:\n%s", strings.Join(v, "\n"))
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

// signingKeyPolicyViolations lists what is wrong with a signing key policy: kms:Sign allowed to anyone but the
// account's IAM, or together with any other action; the account's IAM allowed kms:Verify, kms:CreateGrant or
// any wildcard; readers allowed more than reading; any principal other than the account and the readers.
func signingKeyPolicyViolations(p pulumitest.Policy, accountRoot string, readers []string) []string {
	var out []string
	signs, readersSeen := 0, false
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		if !slices.Equal(s.Resource, []string{"*"}) {
			out = append(out, s.Sid+": a key policy statement names resources other than the key itself")
		}
		principals := s.Principal["AWS"]
		switch {
		case slices.Equal(principals, []string{accountRoot}):
			for _, a := range s.Action {
				if strings.Contains(a, "*") || a == "kms:Verify" || a == "kms:CreateGrant" {
					out = append(out, s.Sid+": the account's IAM may "+a)
				}
				if a == "kms:Sign" {
					signs++
					if len(s.Action) != 1 {
						out = append(out, s.Sid+": kms:Sign shares a statement with other actions")
					}
				}
			}
		case len(readers) > 0 && slices.Equal(principals, readers):
			readersSeen = true
			if want := []string{"kms:DescribeKey", "kms:GetPublicKey", "kms:Verify"}; !slices.Equal(s.Action, want) {
				out = append(out, s.Sid+": readers may "+strings.Join(s.Action, ",")+", want only "+strings.Join(want, ","))
			}
		default:
			out = append(out, s.Sid+": unexpected principals "+strings.Join(principals, ",")+" may "+strings.Join(s.Action, ","))
		}
		if len(s.Principal) != 1 || len(principals) == 0 {
			out = append(out, s.Sid+": principals other than AWS ARNs")
		}
	}
	if signs != 1 {
		out = append(out, fmt.Sprintf("kms:Sign is delegated to the account's IAM in %d statements, want exactly one", signs))
	}
	if len(readers) > 0 && !readersSeen {
		out = append(out, "the readers are not named")
	}
	return out
}

// The checker above must be able to fail: each widened policy is one an attacker or a careless edit could write.
func TestSigningKeyPolicyCheckerCatchesWidenedPolicies(t *testing.T) {
	readers := []string{"arn:aws:iam::123456789012:role/analyst"}
	tests := []struct {
		name  string
		widen func(d *PolicyDocument)
	}{
		{"kms:Sign granted to a named role", func(d *PolicyDocument) {
			d.Statement = append(d.Statement, PolicyStatement{Effect: "Allow", Principal: map[string][]string{"AWS": {"arn:aws:iam::123456789012:role/other"}}, Action: []string{"kms:Sign"}, Resource: []string{"*"}})
		}},
		{"kms:Sign given to the readers", func(d *PolicyDocument) { d.Statement[2].Action = append(d.Statement[2].Action, "kms:Sign") }},
		{"the account's IAM gets kms:*", func(d *PolicyDocument) { d.Statement[0].Action = []string{"kms:*"} }},
		{"the account's IAM may create grants", func(d *PolicyDocument) {
			d.Statement[0].Action = append(d.Statement[0].Action, "kms:CreateGrant")
		}},
		{"kms:Sign shares its statement", func(d *PolicyDocument) { d.Statement[1].Action = append(d.Statement[1].Action, "kms:Decrypt") }},
		{"no statement lets anyone sign", func(d *PolicyDocument) { d.Statement = slices.Delete(d.Statement, 1, 2) }},
		{"a wildcard principal", func(d *PolicyDocument) { d.Statement[2].Principal = map[string][]string{"AWS": {"*"}} }},
	}
	base := SigningKeyPolicy("aws", "123456789012", readers)
	if v := signingKeyPolicyViolations(parse(t, base), accountRoot, readers); len(v) != 0 {
		t.Fatalf("the component's own policy fails the checker: %v", v)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := SigningKeyPolicy("aws", "123456789012", readers)
			tt.widen(&d)
			if v := signingKeyPolicyViolations(parse(t, d), accountRoot, readers); len(v) == 0 {
				t.Error("the widened policy passes the checker")
			}
		})
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
