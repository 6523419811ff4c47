package components

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

func TestAgentModelUsageAlarmAndOperatorRole(t *testing.T) {
	m := run(t, func(ctx *pulumi.Context) error {
		model, err := NewAgentModel(ctx, "model", nil)
		if err != nil {
			return err
		}
		if _, err := NewUsageAlarm(ctx, "tokens", &UsageAlarmArgs{Email: "ops@example.com", ModelID: model.ProfileARN}); err != nil {
			return err
		}
		_, err = NewOperatorRole(ctx, "operator", &OperatorRoleArgs{Model: model, RequireMFA: true})
		return err
	})
	profile := m.One(t, "aws:bedrock/inferenceProfile:InferenceProfile", "model").Inputs
	if got := str(profile, "modelSource.copyFrom"); got != "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0" {
		t.Errorf("copyFrom %q", got)
	}

	alarm := m.One(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "tokens").Inputs
	if num(alarm, "threshold") != 1_000_000 || str(alarm, "comparisonOperator") != "GreaterThanThreshold" || str(alarm, "treatMissingData") != "notBreaching" ||
		str(alarm, "alarmActions.0") != "arn:aws:sns:eu-west-1:123456789012:tokens-topic" {
		t.Errorf("alarm %v", alarm)
	}
	for i, metric := range []string{"InputTokenCount", "OutputTokenCount"} {
		p := "metricQueries." + string(rune('0'+i)) + ".metric."
		if str(alarm, p+"metricName") != metric || str(alarm, p+"namespace") != "AWS/Bedrock" || num(alarm, p+"period") != 86400 ||
			str(alarm, p+"stat") != "Sum" || !strings.HasPrefix(str(alarm, p+"dimensions.ModelId"), "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/") {
			t.Errorf("metric %d: %v", i, pulumitest.Get(alarm, "metricQueries"))
		}
	}
	if str(alarm, "metricQueries.2.expression") != "input + output" || !pulumitest.Get(alarm, "metricQueries.2.returnData").BoolValue() {
		t.Errorf("expression %v", pulumitest.Get(alarm, "metricQueries.2"))
	}
	sub := m.One(t, "aws:sns/topicSubscription:TopicSubscription", "tokens-email").Inputs
	if str(sub, "protocol") != "email" || str(sub, "endpoint") != "ops@example.com" {
		t.Errorf("subscription %v", sub)
	}
	if str(m.One(t, "aws:sns/topic:Topic", "tokens-topic").Inputs, "kmsMasterKeyId") != "alias/aws/sns" {
		t.Error("topic is not encrypted")
	}

	trust := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/role:Role", "operator").Inputs, "assumeRolePolicy"))
	if trust.Statement[0].Principal["AWS"][0] != "arn:aws:iam::123456789012:root" || trust.Statement[0].Condition["Bool"]["aws:MultiFactorAuthPresent"] != "true" {
		t.Errorf("operator trust %+v", trust)
	}
	grants := statementsByAction(pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "operator-invoke").Inputs, "policy")))
	wantRes := "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0," +
		"arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/model-id," +
		"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0"
	for _, a := range []string{"bedrock:Converse", "bedrock:ConverseStream", "bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"} {
		if grants[a] != wantRes {
			t.Errorf("%s on %q", a, grants[a])
		}
	}
	for _, a := range []string{"aws-marketplace:Subscribe", "aws-marketplace:Unsubscribe", "aws-marketplace:ViewSubscriptions"} {
		if grants[a] != "*" {
			t.Errorf("%s on %q", a, grants[a])
		}
	}
	if len(grants) != 7 {
		t.Errorf("operator may do %d actions, want 7: %v", len(grants), grants)
	}
}

func TestUsageAlarmAndOperatorRoleValidate(t *testing.T) {
	err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		_, err := NewUsageAlarm(ctx, "tokens", &UsageAlarmArgs{Email: "not an address", DailyTokenThreshold: -5})
		return err
	})
	for _, field := range []string{"Email", "ModelID", "DailyTokenThreshold"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
	err = pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		_, err := NewOperatorRole(ctx, "op", &OperatorRoleArgs{})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "Model: required") {
		t.Errorf("error %v", err)
	}
}
