package components

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

func TestAgentModelCopiesTheSystemProfile(t *testing.T) {
	tests := []struct {
		name                  string
		args                  *AgentModelArgs
		wantSource, wantModel string
	}{
		{"no args copy the EU Claude Haiku 4.5 profile", nil, DefaultSourceProfileID, DefaultFoundationModelID},
		{"a given profile and model are used as given",
			&AgentModelArgs{SourceProfileID: "us.anthropic.claude-sonnet-4-5-20250929-v1:0", FoundationModelID: "anthropic.claude-sonnet-4-5-20250929-v1:0"},
			"us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var model *AgentModel
			m := run(t, func(ctx *pulumi.Context) (err error) {
				model, err = NewAgentModel(ctx, "model", tt.args)
				return err
			})
			assertChildren(t, m, "agent-audit:index:AgentModel", "model")
			systemARN := "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/" + tt.wantSource
			profile := m.One(t, "aws:bedrock/inferenceProfile:InferenceProfile", "model").Inputs
			if got := str(profile, "modelSource.copyFrom"); got != systemARN {
				t.Errorf("copyFrom %q, want %q", got, systemARN)
			}
			if got := str(profile, "name"); got != "model" {
				t.Errorf("profile name %q, want the component name", got)
			}
			if got := pulumitest.AwaitString(t, model.ProfileARN); got != "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/model-id" {
				t.Errorf("ProfileARN %q is not the created profile's ARN", got)
			}
			if got := pulumitest.AwaitString(t, model.SystemProfileARN); got != systemARN {
				t.Errorf("SystemProfileARN %q, want %q", got, systemARN)
			}
			if model.FoundationModelARNPattern != "arn:aws:bedrock:*::foundation-model/"+tt.wantModel || model.FoundationModelID != tt.wantModel {
				t.Errorf("foundation model %q / %q, want %s in every region", model.FoundationModelARNPattern, model.FoundationModelID, tt.wantModel)
			}
		})
	}
}

func TestAgentModelInvokeStatementsGrantExactlyTheInvokeActions(t *testing.T) {
	model := &AgentModel{FoundationModelARNPattern: "arn:aws:bedrock:*::foundation-model/m"}
	got := model.InvokeStatements("arn:app-profile", "arn:system-profile")
	want := []PolicyStatement{
		{Sid: "InvokeAgentModel", Effect: "Allow",
			Action:   []string{"bedrock:Converse", "bedrock:ConverseStream", "bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"},
			Resource: []string{"arn:app-profile", "arn:system-profile", "arn:aws:bedrock:*::foundation-model/m"}},
		{Sid: "MarketplaceSubscription", Effect: "Allow",
			Action:   []string{"aws-marketplace:Subscribe", "aws-marketplace:Unsubscribe", "aws-marketplace:ViewSubscriptions"},
			Resource: []string{"*"}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d statements, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Sid != want[i].Sid || got[i].Effect != want[i].Effect || got[i].Principal != nil || got[i].Condition != nil ||
			strings.Join(got[i].Action, " ") != strings.Join(want[i].Action, " ") ||
			strings.Join(got[i].Resource, " ") != strings.Join(want[i].Resource, " ") {
			t.Errorf("statement %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
