package components

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

func TestUsageAlarmAlertsOnDailyTokens(t *testing.T) {
	const profileARN = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/p1"
	tests := []struct {
		name      string
		threshold int
		want      float64
	}{
		{"no threshold alarms above a million tokens a day", 0, 1_000_000},
		{"a given threshold is used as given", 250_000, 250_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ua *UsageAlarm
			m := run(t, func(ctx *pulumi.Context) (err error) {
				ua, err = NewUsageAlarm(ctx, "tokens", &UsageAlarmArgs{Email: "ops@example.com", ModelID: pulumi.String(profileARN), DailyTokenThreshold: tt.threshold})
				return err
			})
			assertChildren(t, m, "agent-audit:index:UsageAlarm", "tokens")
			topicARN := "arn:aws:sns:eu-west-1:123456789012:tokens-topic"

			alarm := m.One(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "tokens").Inputs
			if num(alarm, "threshold") != tt.want || str(alarm, "comparisonOperator") != "GreaterThanThreshold" || num(alarm, "evaluationPeriods") != 1 ||
				str(alarm, "treatMissingData") != "notBreaching" || str(alarm, "alarmActions.0") != topicARN || !pulumitest.Get(alarm, "alarmActions.1").IsNull() {
				t.Errorf("alarm %v", alarm)
			}
			for i, metric := range []string{"InputTokenCount", "OutputTokenCount"} {
				q := pulumitest.Get(alarm, "metricQueries").ArrayValue()[i].ObjectValue()
				if str(q, "metric.metricName") != metric || str(q, "metric.namespace") != "AWS/Bedrock" || num(q, "metric.period") != 86400 ||
					str(q, "metric.stat") != "Sum" || str(q, "metric.dimensions.ModelId") != profileARN || pulumitest.Get(q, "returnData").BoolValue() {
					t.Errorf("metric query %d: %v", i, q)
				}
			}
			queries := pulumitest.Get(alarm, "metricQueries").ArrayValue()
			total := queries[len(queries)-1].ObjectValue()
			if len(queries) != 3 || str(total, "expression") != str(alarm, "metricQueries.0.id")+" + "+str(alarm, "metricQueries.1.id") ||
				!pulumitest.Get(total, "returnData").BoolValue() {
				t.Errorf("the alarm does not sum input and output: %v", queries)
			}

			sub := m.One(t, "aws:sns/topicSubscription:TopicSubscription", "tokens-email").Inputs
			if str(sub, "protocol") != "email" || str(sub, "endpoint") != "ops@example.com" || str(sub, "topic") != topicARN {
				t.Errorf("subscription %v", sub)
			}
			// alias/aws/sns would silently stop every email: CloudWatch cannot use an AWS managed key.
			if got := pulumitest.Get(m.One(t, "aws:sns/topic:Topic", "tokens-topic").Inputs, "kmsMasterKeyId"); !got.IsNull() {
				t.Errorf("topic encrypted with %v, which CloudWatch cannot publish through", got)
			}
			if str(alarm, "name") != "tokens" {
				t.Errorf("alarm name %q: the topic policy names the alarm by it", str(alarm, "name"))
			}
			tp := m.One(t, "aws:sns/topicPolicy:TopicPolicy", "tokens-topic-policy").Inputs
			pol := pulumitest.ParsePolicy(t, pulumitest.Get(tp, "policy"))
			if str(tp, "arn") != topicARN || len(pol.Statement) != 1 {
				t.Fatalf("topic policy %v", tp)
			}
			st := pol.Statement[0]
			if st.Effect != "Allow" || strings.Join(st.Principal["Service"], ",") != "cloudwatch.amazonaws.com" || strings.Join(st.Action, ",") != "sns:Publish" ||
				strings.Join(st.Resource, ",") != topicARN || fmt.Sprint(st.Condition) != "map[ArnEquals:map[aws:SourceArn:arn:aws:cloudwatch:eu-west-1:123456789012:alarm:tokens] StringEquals:map[aws:SourceAccount:123456789012]]" {
				t.Errorf("topic policy statement %+v: only this alarm in this account may publish", st)
			}
			if got := pulumitest.AwaitString(t, ua.TopicARN); got != topicARN {
				t.Errorf("TopicARN %q", got)
			}
			if got := pulumitest.AwaitString(t, ua.AlarmARN); got != "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:tokens" {
				t.Errorf("AlarmARN %q is not the alarm's", got)
			}
		})
	}
}

func TestUsageAlarmNamesEveryBadArgument(t *testing.T) {
	tests := []struct {
		name       string
		args       *UsageAlarmArgs
		wantFields []string
	}{
		{"no args name the email and the model", nil, []string{"Email", "ModelID"}},
		{"a bad address, no model and a negative threshold are all named",
			&UsageAlarmArgs{Email: "not an address", DailyTokenThreshold: -5}, []string{"Email", "ModelID", "DailyTokenThreshold"}},
		{"an address with a display name is refused", &UsageAlarmArgs{Email: "Ops <ops@example.com>", ModelID: pulumi.String("m")}, []string{"Email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &pulumitest.Mocks{}
			err := pulumitest.Run(m, func(ctx *pulumi.Context) error {
				_, err := NewUsageAlarm(ctx, "tokens", tt.args)
				return err
			})
			for _, field := range tt.wantFields {
				if err == nil || !strings.Contains(err.Error(), field+":") {
					t.Errorf("error %v does not name %s", err, field)
				}
			}
			if n := len(m.Resources()); n != 0 {
				t.Errorf("%d resources registered despite bad arguments", n)
			}
		})
	}
}
