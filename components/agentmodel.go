package components

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/bedrock"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AgentModel defaults: Claude Haiku 4.5 through the cross-region system inference profile of the stack region's
// geography (eu., us. or apac.; see ProfileGeography).
const (
	DefaultFoundationModelID = "anthropic.claude-haiku-4-5-20251001-v1:0"
	// DefaultMarketplaceProductID is Claude Haiku 4.5's AWS Marketplace product id, from the Bedrock user guide's
	// table of product ids ("Use product ID condition keys to control access").
	DefaultMarketplaceProductID = "prod-xdkflymybwmvi"
)

// AgentModelArgs configures an AgentModel.
type AgentModelArgs struct {
	// SourceProfileID is the system (cross-region) inference profile to copy. Default: the foundation model's
	// profile for the region's geography, "<geo>.<FoundationModelID>" (ProfileGeography). A geographic profile
	// of another geography is refused, since it does not exist in this region; "global." profiles are accepted
	// anywhere.
	SourceProfileID string
	// FoundationModelID is the model the profile routes to (default DefaultFoundationModelID).
	FoundationModelID string
	// MarketplaceProductID is the model's AWS Marketplace product id. Bedrock subscribes the account to a
	// Marketplace model at its first invocation, with the caller's permissions, so the function that calls it
	// first may subscribe to this product and no other (FirstUseStatements). It defaults to
	// DefaultMarketplaceProductID for the default model and to none for any other: set it for a model sold
	// through AWS Marketplace (Anthropic's, for one; Amazon, Meta, Mistral AI and others have none).
	MarketplaceProductID string
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
	// MarketplaceProductID is the model's AWS Marketplace product id, "" for a model not sold there.
	MarketplaceProductID string
}

// NewAgentModel creates the application inference profile.
func NewAgentModel(ctx *pulumi.Context, name string, args *AgentModelArgs, opts ...pulumi.ResourceOption) (*AgentModel, error) {
	cfg := AgentModelArgs{}
	if args != nil {
		cfg = *args
	}
	if cfg.FoundationModelID == "" {
		cfg.FoundationModelID = DefaultFoundationModelID
	}
	if cfg.MarketplaceProductID == "" && cfg.FoundationModelID == DefaultFoundationModelID {
		cfg.MarketplaceProductID = DefaultMarketplaceProductID
	}
	c := &AgentModel{FoundationModelID: cfg.FoundationModelID, MarketplaceProductID: cfg.MarketplaceProductID}
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
	if cfg.SourceProfileID, err = sourceProfile(cfg.SourceProfileID, cfg.FoundationModelID, region.Name); err != nil {
		return nil, fmt.Errorf("agent model %s: %w", name, err)
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

// InvokePolicy builds the policy that lets a role call the model through Converse: bedrock:InvokeModel (the IAM
// action that authorises Converse; Converse is not an IAM action) on the application profile, the system profile
// and the foundation model in every region (the profile routes across regions, so the region segment is a
// wildcard). It grants no Marketplace action: only the principal that calls the model first needs one
// (FirstUseStatements).
func (m *AgentModel) InvokePolicy() pulumi.StringOutput {
	return PolicyJSON(func(v []string) PolicyDocument {
		return PolicyDocument{Statement: m.InvokeStatements(v[0], v[1])}
	}, m.ProfileARN, m.SystemProfileARN)
}

// InvokeStatements are InvokePolicy's statements for resolved profile ARNs, to combine with other statements.
func (m *AgentModel) InvokeStatements(profileARN, systemProfileARN string) []PolicyStatement {
	return []PolicyStatement{{
		Sid:      "InvokeAgentModel",
		Effect:   "Allow",
		Action:   []string{"bedrock:InvokeModel"},
		Resource: []string{profileARN, systemProfileARN, m.FoundationModelARNPattern},
	}}
}

// FirstUseStatements let the principal that invokes a Marketplace model first in the account complete the
// subscription Bedrock starts then: aws-marketplace:Subscribe to this model's product only (the
// aws-marketplace:ProductId condition) and aws-marketplace:ViewSubscriptions. Both actions are defined on no
// resource type, so "*" is their only resource. Unsubscribe is never granted. None for a model without a
// product id. Once the account is subscribed, invoking needs no Marketplace permission at all.
func (m *AgentModel) FirstUseStatements() []PolicyStatement {
	if m.MarketplaceProductID == "" {
		return nil
	}
	return []PolicyStatement{
		{
			Sid: "SubscribeToAgentModel", Effect: "Allow", Action: []string{"aws-marketplace:Subscribe"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"aws-marketplace:ProductId": []string{m.MarketplaceProductID}}},
		},
		{Sid: "ViewModelSubscriptions", Effect: "Allow", Action: []string{"aws-marketplace:ViewSubscriptions"}, Resource: []string{"*"}},
	}
}

// profileGeographies maps a region name's prefix to the prefix of Bedrock's geographic cross-region inference
// profiles served there (eu.anthropic…, us.anthropic…, apac.anthropic…).
var profileGeographies = []struct{ regionPrefix, geography string }{
	{"eu-", "eu"}, {"us-", "us"}, {"ap-", "apac"},
}

// ProfileGeography returns the geographic inference-profile prefix for region (eu-west-1 → "eu", us-east-1 →
// "us", ap-northeast-1 → "apac"), or false for a region outside those geographies.
func ProfileGeography(region string) (string, bool) {
	for _, g := range profileGeographies {
		if strings.HasPrefix(region, g.regionPrefix) && !strings.HasPrefix(region, "us-gov-") {
			return g.geography, true
		}
	}
	return "", false
}

// sourceProfile resolves the system profile to copy: the given one after checking that its geography is the
// region's, or the foundation model's profile for the region's geography.
func sourceProfile(given, model, region string) (string, error) {
	geo, known := ProfileGeography(region)
	if given == "" {
		if !known {
			return "", fmt.Errorf("SourceProfileID: region %s is in no geography with a cross-region inference profile (eu, us, apac): set the system profile to copy (for example global.%s)", region, model)
		}
		return geo + "." + model, nil
	}
	prefix, _, _ := strings.Cut(given, ".")
	if prefix == "global" {
		return given, nil
	}
	for _, g := range profileGeographies {
		if prefix == g.geography && prefix != geo {
			want := "a global. profile"
			if known {
				want = geo + "." + strings.TrimPrefix(given, prefix+".")
			}
			return "", fmt.Errorf("SourceProfileID: %s is a %s. profile, which does not exist in %s; use %s", given, prefix, region, want)
		}
	}
	return given, nil
}
