package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/bedrock"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AgentModel defaults: Claude Haiku 4.5 through its EU cross-region system inference profile.
const (
	DefaultSourceProfileID   = "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
	DefaultFoundationModelID = "anthropic.claude-haiku-4-5-20251001-v1:0"
)

// AgentModelArgs configures an AgentModel.
type AgentModelArgs struct {
	// SourceProfileID is the system (cross-region) inference profile to copy (default DefaultSourceProfileID).
	SourceProfileID string
	// FoundationModelID is the model the profile routes to (default DefaultFoundationModelID).
	FoundationModelID string
}

// AgentModel is the agent's Bedrock model: an application inference profile copied from a system profile, so
// the function's usage is tracked and permitted under its own ARN.
type AgentModel struct {
	pulumi.ResourceState

	// ProfileARN is the application inference profile: the model id the function calls Converse with.
	ProfileARN pulumi.StringOutput
	// SystemProfileARN is the system profile it was copied from.
	SystemProfileARN pulumi.StringOutput
	// FoundationModelARNPattern matches the foundation model in every region the profile routes to.
	FoundationModelARNPattern string
	// FoundationModelID is the underlying model.
	FoundationModelID string
}

// NewAgentModel creates the application inference profile.
func NewAgentModel(ctx *pulumi.Context, name string, args *AgentModelArgs, opts ...pulumi.ResourceOption) (*AgentModel, error) {
	cfg := AgentModelArgs{}
	if args != nil {
		cfg = *args
	}
	if cfg.SourceProfileID == "" {
		cfg.SourceProfileID = DefaultSourceProfileID
	}
	if cfg.FoundationModelID == "" {
		cfg.FoundationModelID = DefaultFoundationModelID
	}
	c := &AgentModel{FoundationModelID: cfg.FoundationModelID}
	if err := ctx.RegisterComponentResource(typeToken("AgentModel"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	account, partition, err := accountAndPartition(ctx, parent)
	if err != nil {
		return nil, err
	}
	region, err := aws.GetRegion(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("look up the AWS region: %w", err)
	}
	systemARN := fmt.Sprintf("arn:%s:bedrock:%s:%s:inference-profile/%s", partition, region.Name, account, cfg.SourceProfileID)
	profile, err := bedrock.NewInferenceProfile(ctx, name, &bedrock.InferenceProfileArgs{
		Name:        pulumi.String(name),
		Description: pulumi.Sprintf("Application inference profile of %s, copied from %s.", name, cfg.SourceProfileID),
		ModelSource: &bedrock.InferenceProfileModelSourceArgs{CopyFrom: pulumi.String(systemARN)},
	}, parent)
	if err != nil {
		return nil, err
	}
	c.ProfileARN = profile.Arn
	c.SystemProfileARN = pulumi.String(systemARN).ToStringOutput()
	c.FoundationModelARNPattern = fmt.Sprintf("arn:%s:bedrock:*::foundation-model/%s", partition, cfg.FoundationModelID)
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"profileArn": c.ProfileARN, "systemProfileArn": c.SystemProfileARN,
		"foundationModelArnPattern": pulumi.String(c.FoundationModelARNPattern),
	})
}

// InvokePolicy builds the policy that lets a role call the model: the four invoke actions on the application
// profile, the system profile and the foundation model in every region (the profile routes across regions, so
// the region segment is a wildcard), and the three Marketplace subscription actions, which AWS only defines on
// "*" and which Bedrock needs for a model's first use.
func (m *AgentModel) InvokePolicy() pulumi.StringOutput {
	return PolicyJSON(func(v []string) PolicyDocument {
		return PolicyDocument{Statement: m.InvokeStatements(v[0], v[1])}
	}, m.ProfileARN, m.SystemProfileARN)
}

// InvokeStatements are InvokePolicy's statements for resolved profile ARNs, to combine with other statements.
func (m *AgentModel) InvokeStatements(profileARN, systemProfileARN string) []PolicyStatement {
	return []PolicyStatement{
		{
			Sid:      "InvokeAgentModel",
			Effect:   "Allow",
			Action:   []string{"bedrock:Converse", "bedrock:ConverseStream", "bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"},
			Resource: []string{profileARN, systemProfileARN, m.FoundationModelARNPattern},
		},
		{
			Sid:      "MarketplaceSubscription",
			Effect:   "Allow",
			Action:   []string{"aws-marketplace:Subscribe", "aws-marketplace:Unsubscribe", "aws-marketplace:ViewSubscriptions"},
			Resource: []string{"*"},
		},
	}
}
