package components

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// OperatorRoleArgs configures an OperatorRole.
type OperatorRoleArgs struct {
	// Model is the model the role may call. Required.
	Model *AgentModel
	// TrustedPrincipalARNs may assume the role; empty trusts the account (its IAM policies then decide who).
	TrustedPrincipalARNs []string
	// RequireMFA admits only sessions authenticated with MFA (default false: SSO sessions carry no MFA flag).
	RequireMFA bool
}

// OperatorRole is the role a person assumes to call the agent's model from a laptop (the local run with
// --model bedrock): it may invoke the model and nothing else.
type OperatorRole struct {
	pulumi.ResourceState

	RoleARN pulumi.StringOutput
}

// NewOperatorRole creates the role and its invoke policy. It returns one error naming every bad argument.
func NewOperatorRole(ctx *pulumi.Context, name string, args *OperatorRoleArgs, opts ...pulumi.ResourceOption) (*OperatorRole, error) {
	if args == nil {
		args = &OperatorRoleArgs{}
	}
	var errs []error
	if args.Model == nil {
		errs = append(errs, errors.New("Model: required"))
	}
	for i, p := range args.TrustedPrincipalARNs {
		if !strings.HasPrefix(p, "arn:") || strings.Contains(p, "*") {
			errs = append(errs, fmt.Errorf("TrustedPrincipalARNs[%d]: %q is not a principal ARN without wildcards", i, p))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("operator role %s: %w", name, err)
	}
	c := &OperatorRole{}
	if err := ctx.RegisterComponentResource(typeToken("OperatorRole"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	account, partition, err := accountAndPartition(ctx, parent)
	if err != nil {
		return nil, err
	}
	principals := args.TrustedPrincipalARNs
	if len(principals) == 0 {
		principals = []string{fmt.Sprintf("arn:%s:iam::%s:root", partition, account)}
	}
	trust := PolicyStatement{Effect: "Allow", Principal: map[string][]string{"AWS": principals}, Action: []string{"sts:AssumeRole"}}
	if args.RequireMFA {
		trust.Condition = map[string]map[string]any{"Bool": {"aws:MultiFactorAuthPresent": "true"}}
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy:   pulumi.String(mustJSON(PolicyDocument{Statement: []PolicyStatement{trust}})),
		MaxSessionDuration: pulumi.Int(3600),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-invoke", &iam.RolePolicyArgs{Role: role.ID(), Policy: args.Model.InvokePolicy()}, parent); err != nil {
		return nil, err
	}
	c.RoleARN = role.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"roleArn": c.RoleARN})
}
