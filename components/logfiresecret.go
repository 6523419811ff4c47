package components

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LogfireSecretArgs configures a LogfireSecret.
type LogfireSecretArgs struct {
	// Token is the Logfire write token. Required: create the component only when a token is configured. It is
	// stored as a Pulumi secret whatever the input's own marking.
	Token pulumi.StringInput
	// ParameterName is the SSM parameter name (default "/<component name>/logfire-token").
	ParameterName string
}

// LogfireSecret holds the Logfire write token in an SSM SecureString parameter, encrypted with the account's
// AWS-managed SSM key. The token stays a Pulumi secret end to end: it appears in no output and no environment
// variable; the function reads it at its first invocation.
type LogfireSecret struct {
	pulumi.ResourceState

	ParameterName pulumi.StringOutput
	ParameterARN  pulumi.StringOutput
	// KeyARN is the KMS key that encrypts the parameter (the AWS-managed alias/aws/ssm key).
	KeyARN pulumi.StringOutput

	env awsEnv
}

// NewLogfireSecret creates the parameter.
func NewLogfireSecret(ctx *pulumi.Context, name string, args *LogfireSecretArgs, opts ...pulumi.ResourceOption) (*LogfireSecret, error) {
	if args == nil || args.Token == nil {
		return nil, fmt.Errorf("logfire secret %s: %w", name, errors.New("Token: required (create the component only when a token is set)"))
	}
	paramName := args.ParameterName
	if paramName == "" {
		paramName = "/" + name + "/logfire-token"
	}
	c := &LogfireSecret{}
	if err := ctx.RegisterComponentResource(typeToken("LogfireSecret"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	env, err := lookupAWSEnv(ctx, parent)
	if err != nil {
		return nil, err
	}
	key, err := kms.LookupAlias(ctx, &kms.LookupAliasArgs{Name: "alias/aws/ssm"}, parent)
	if err != nil {
		return nil, fmt.Errorf("look up the AWS-managed SSM key: %w", err)
	}
	// The aws SDK marks the value secret too; marking it here keeps the guarantee whatever the SDK version.
	param, err := ssm.NewParameter(ctx, name, &ssm.ParameterArgs{
		Name:        pulumi.String(paramName),
		Type:        pulumi.String("SecureString"),
		Value:       pulumi.ToSecret(args.Token).(pulumi.StringOutput),
		Description: pulumi.String("Logfire write token (write-only, project-scoped) for the agent-audit live view."),
	}, parent)
	if err != nil {
		return nil, err
	}
	c.ParameterName, c.ParameterARN = param.Name, param.Arn
	c.KeyARN = pulumi.String(key.TargetKeyArn).ToStringOutput()
	c.env = env
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"parameterName": c.ParameterName, "parameterArn": c.ParameterARN})
}

// ReadStatements grant reading the token: GetParameter on the parameter, and Decrypt on the SSM key only when
// the call comes through SSM (named with the partition's DNS suffix, so the condition holds outside the aws
// partition too).
func (s *LogfireSecret) ReadStatements(parameterARN, keyARN string) []PolicyStatement {
	return []PolicyStatement{
		{Sid: "ReadLogfireToken", Effect: "Allow", Action: []string{"ssm:GetParameter"}, Resource: []string{parameterARN}},
		{
			Sid: "DecryptLogfireToken", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{keyARN},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "ssm." + s.env.region + "." + s.env.dnsSuffix}},
		},
	}
}
