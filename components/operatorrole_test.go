package components

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

func TestOperatorRoleTrustAndInvokePolicy(t *testing.T) {
	tests := []struct {
		name           string
		principals     []string
		requireMFA     bool
		wantPrincipals string
	}{
		{"by default the account is trusted without an MFA condition", nil, false, "arn:aws:iam::123456789012:root"},
		{"RequireMFA adds the MFA condition", nil, true, "arn:aws:iam::123456789012:root"},
		{"given principals replace the account",
			[]string{"arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:role/sso-dev"}, false,
			"arn:aws:iam::123456789012:user/alice arn:aws:iam::123456789012:role/sso-dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var role *OperatorRole
			m := run(t, func(ctx *pulumi.Context) error {
				model, err := NewAgentModel(ctx, "model", nil)
				if err != nil {
					return err
				}
				role, err = NewOperatorRole(ctx, "operator", &OperatorRoleArgs{Model: model, TrustedPrincipalARNs: tt.principals, RequireMFA: tt.requireMFA})
				return err
			})
			for _, r := range m.Resources() {
				if r.Type != "agent-audit:index:OperatorRole" && strings.HasPrefix(r.Name, "operator") &&
					r.Parent != pulumitest.ComponentURN("agent-audit:index:OperatorRole", "operator") {
					t.Errorf("%s %s is not a child of the component", r.Type, r.Name)
				}
			}
			if n := len(m.ByType("aws:iam/role:Role")) + len(m.ByType("aws:iam/rolePolicy:RolePolicy")); n != 2 {
				t.Errorf("%d roles and role policies, want one of each", n)
			}

			trust := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/role:Role", "operator").Inputs, "assumeRolePolicy"))
			if len(trust.Statement) != 1 {
				t.Fatalf("trust %+v, want one statement", trust)
			}
			st := trust.Statement[0]
			if strings.Join(st.Principal["AWS"], " ") != tt.wantPrincipals || strings.Join(st.Action, " ") != "sts:AssumeRole" || st.Effect != "Allow" {
				t.Errorf("trust statement %+v", st)
			}
			mfa, hasMFA := st.Condition["Bool"]["aws:MultiFactorAuthPresent"]
			if hasMFA != tt.requireMFA || (hasMFA && mfa != "true") || (!tt.requireMFA && st.Condition != nil) {
				t.Errorf("trust condition %v, want MFA required %v", st.Condition, tt.requireMFA)
			}

			grants := statementsByAction(pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "operator-invoke").Inputs, "policy")))
			models := "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0," +
				"arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/model-id," +
				"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0"
			// Converse is authorised by bedrock:InvokeModel alone; the operator never calls the model first (the
			// function does), so it needs no Marketplace action.
			want := map[string]string{"bedrock:InvokeModel": models}
			if len(grants) != len(want) {
				t.Errorf("operator may do %d actions, want exactly %d: %v", len(grants), len(want), grants)
			}
			for a, r := range want {
				if grants[a] != r {
					t.Errorf("%s on %q, want %q", a, grants[a], r)
				}
			}
			if got := pulumitest.AwaitString(t, role.RoleARN); got != "arn:aws:iam::123456789012:role/operator" {
				t.Errorf("RoleARN %q", got)
			}
		})
	}
}

func TestOperatorRoleNamesEveryBadArgument(t *testing.T) {
	err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		_, err := NewOperatorRole(ctx, "op", &OperatorRoleArgs{TrustedPrincipalARNs: []string{"alice", "arn:aws:iam::123456789012:root", "arn:aws:iam::*:root"}})
		return err
	})
	for _, want := range []string{"Model: required", "TrustedPrincipalARNs[0]", "TrustedPrincipalARNs[2]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "TrustedPrincipalARNs[1]") {
		t.Errorf("error %v blames a valid principal", err)
	}
}
