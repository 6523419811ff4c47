package components

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

func TestAgentModelCopiesTheSystemProfile(t *testing.T) {
	tests := []struct {
		name                  string
		region                string
		args                  *AgentModelArgs
		wantSource, wantModel string
		wantProduct           string
	}{
		{"no args in an EU region copy the EU Claude Haiku 4.5 profile", "eu-west-1", nil,
			"eu." + DefaultFoundationModelID, DefaultFoundationModelID, DefaultMarketplaceProductID},
		{"no args in us-east-1 copy the US profile", "us-east-1", nil,
			"us." + DefaultFoundationModelID, DefaultFoundationModelID, DefaultMarketplaceProductID},
		{"no args in an Asia Pacific region copy the APAC profile", "ap-northeast-1", nil,
			"apac." + DefaultFoundationModelID, DefaultFoundationModelID, DefaultMarketplaceProductID},
		{"a given profile and model are used as given, with no product id unless given", "us-west-2",
			&AgentModelArgs{SourceProfileID: "us.anthropic.claude-sonnet-4-5-20250929-v1:0", FoundationModelID: "anthropic.claude-sonnet-4-5-20250929-v1:0"},
			"us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0", ""},
		{"a global profile is accepted in any region", "sa-east-1",
			&AgentModelArgs{SourceProfileID: "global." + DefaultFoundationModelID, MarketplaceProductID: "prod-x"},
			"global." + DefaultFoundationModelID, DefaultFoundationModelID, "prod-x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var model *AgentModel
			m := &pulumitest.Mocks{AWSRegion: tt.region}
			if err := pulumitest.Run(m, func(ctx *pulumi.Context) (err error) {
				model, err = NewAgentModel(ctx, "model", tt.args)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			assertChildren(t, m, "agent-audit:index:AgentModel", "model")
			systemARN := "arn:aws:bedrock:" + tt.region + ":123456789012:inference-profile/" + tt.wantSource
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
			if model.MarketplaceProductID != tt.wantProduct {
				t.Errorf("MarketplaceProductID %q, want %q", model.MarketplaceProductID, tt.wantProduct)
			}
		})
	}
}

func TestAgentModelRefusesAProfileOfAnotherGeography(t *testing.T) {
	tests := []struct {
		name, region, profile string
		want                  []string
	}{
		{"the EU profile in us-east-1 is refused, naming the US one", "us-east-1", "eu." + DefaultFoundationModelID,
			[]string{"SourceProfileID", "eu.", "us-east-1", "us." + DefaultFoundationModelID}},
		{"the US profile in eu-central-1 is refused", "eu-central-1", "us." + DefaultFoundationModelID,
			[]string{"SourceProfileID", "eu." + DefaultFoundationModelID}},
		{"no default outside eu, us and apac: the rule is named", "sa-east-1", "",
			[]string{"SourceProfileID", "sa-east-1", "global."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &pulumitest.Mocks{AWSRegion: tt.region}
			err := pulumitest.Run(m, func(ctx *pulumi.Context) error {
				_, err := NewAgentModel(ctx, "model", &AgentModelArgs{SourceProfileID: tt.profile})
				return err
			})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q: %v", w, err)
				}
			}
			if len(m.ByType("aws:bedrock/inferenceProfile:InferenceProfile")) != 0 {
				t.Error("a profile was created anyway")
			}
		})
	}
}

func TestAgentModelInvokeStatementsGrantExactlyTheInvokeActions(t *testing.T) {
	model := &AgentModel{FoundationModelARNPattern: "arn:aws:bedrock:*::foundation-model/m", MarketplaceProductID: "prod-abc"}
	got := model.InvokeStatements("arn:app-profile", "arn:system-profile")
	// Converse is authorised by bedrock:InvokeModel; bedrock:Converse is no IAM action, and the function never
	// streams, so InvokeModelWithResponseStream is not needed.
	want := []PolicyStatement{
		{Sid: "InvokeAgentModel", Effect: "Allow",
			Action:   []string{"bedrock:InvokeModel"},
			Resource: []string{"arn:app-profile", "arn:system-profile", "arn:aws:bedrock:*::foundation-model/m"}},
	}
	assertStatements(t, got, want)
}

func TestAgentModelFirstUseSubscribesToItsOwnProductOnly(t *testing.T) {
	model := &AgentModel{MarketplaceProductID: "prod-abc"}
	got := model.FirstUseStatements()
	want := []PolicyStatement{
		{Sid: "SubscribeToAgentModel", Effect: "Allow", Action: []string{"aws-marketplace:Subscribe"}, Resource: []string{"*"},
			Condition: map[string]map[string]any{"StringEquals": {"aws-marketplace:ProductId": []string{"prod-abc"}}}},
		{Sid: "ViewModelSubscriptions", Effect: "Allow", Action: []string{"aws-marketplace:ViewSubscriptions"}, Resource: []string{"*"}},
	}
	assertStatements(t, got, want)
	for _, st := range got {
		if slices.Contains(st.Action, "aws-marketplace:Unsubscribe") {
			t.Error("Unsubscribe granted")
		}
	}
	if st := (&AgentModel{}).FirstUseStatements(); st != nil {
		t.Errorf("a model without a product id grants %v", st)
	}
}

func assertStatements(t *testing.T, got, want []PolicyStatement) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d statements, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Errorf("statement %d = %s, want %s", i, g, w)
		}
	}
}
