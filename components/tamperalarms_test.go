package components

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

func TestTamperAlarmsWatchTheBucketAndTheKeys(t *testing.T) {
	const topic = "arn:aws:sns:eu-west-1:123456789012:alerts"
	keys := []string{"arn:aws:kms:eu-west-1:123456789012:key/audit", "arn:aws:kms:eu-west-1:123456789012:key/signing"}
	var c *TamperAlarms
	m := run(t, func(ctx *pulumi.Context) (err error) {
		c, err = NewTamperAlarms(ctx, "guard", &TamperAlarmsArgs{
			TopicARN: pulumi.String(topic), BucketName: pulumi.String("audit-bucket"),
			KeyARNs: []pulumi.StringInput{pulumi.String(keys[0]), pulumi.String(keys[1])},
		})
		return err
	})
	assertChildren(t, m, "agent-audit:index:TamperAlarms", "guard")
	want := map[string]map[string]any{
		"guard-bucket": {"source": []any{"aws.s3"}, "detail-type": []any{"AWS API Call via CloudTrail"}, "detail": map[string]any{
			"eventSource": []any{"s3.amazonaws.com"}, "eventName": []any{"PutBucketPolicy", "DeleteBucketPolicy", "PutBucketObjectLockConfiguration"},
			"requestParameters": map[string]any{"bucketName": []any{"audit-bucket"}}}},
		"guard-keys": {"source": []any{"aws.kms"}, "detail-type": []any{"AWS API Call via CloudTrail"}, "detail": map[string]any{
			"eventSource": []any{"kms.amazonaws.com"}, "eventName": []any{"PutKeyPolicy", "ScheduleKeyDeletion", "DisableKey"},
			"resources": map[string]any{"ARN": []any{keys[0], keys[1]}}}},
	}
	for i, name := range TamperAlarmRuleNames("guard") {
		rule := m.One(t, "aws:cloudwatch/eventRule:EventRule", name).Inputs
		var got map[string]any
		if err := json.Unmarshal([]byte(str(rule, "eventPattern")), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[name]) {
			t.Errorf("rule %d %s pattern\n got %v\nwant %v", i, name, got, want[name])
		}
		if str(rule, "name") != name {
			t.Errorf("rule %s is named %q: the topic policy names it by its ARN", name, str(rule, "name"))
		}
		target := m.One(t, "aws:cloudwatch/eventTarget:EventTarget", name+"-topic").Inputs
		if str(target, "arn") != topic || str(target, "rule") != name {
			t.Errorf("target %v", target)
		}
	}
	arns := pulumitest.AwaitStrings(t, c.RuleARNs)
	if fmt.Sprint(arns) != "[arn:aws:mock:eu-west-1:123456789012:aws:cloudwatch/eventRule:EventRule/guard-bucket arn:aws:mock:eu-west-1:123456789012:aws:cloudwatch/eventRule:EventRule/guard-keys]" {
		t.Errorf("RuleARNs %v", arns)
	}

	err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		_, err := NewTamperAlarms(ctx, "guard", nil)
		return err
	})
	for _, field := range []string{"TopicARN", "BucketName", "KeyARNs"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
}

func TestTheAlarmTopicLetsOnlyTheNamedRulesPublish(t *testing.T) {
	m := run(t, func(ctx *pulumi.Context) error {
		_, err := NewUsageAlarm(ctx, "tokens", &UsageAlarmArgs{Email: "ops@example.com", ModelID: pulumi.String("m"), PublishingRuleNames: TamperAlarmRuleNames("guard")})
		return err
	})
	pol := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:sns/topicPolicy:TopicPolicy", "tokens-topic-policy").Inputs, "policy"))
	if len(pol.Statement) != 2 {
		t.Fatalf("statements %+v", pol.Statement)
	}
	st := pol.Statement[1]
	want := "map[ArnEquals:map[aws:SourceArn:[arn:aws:events:eu-west-1:123456789012:rule/guard-bucket arn:aws:events:eu-west-1:123456789012:rule/guard-keys]] StringEquals:map[aws:SourceAccount:123456789012]]"
	if strings.Join(st.Principal["Service"], ",") != "events.amazonaws.com" || strings.Join(st.Action, ",") != "sns:Publish" || fmt.Sprint(st.Condition) != want {
		t.Errorf("rule statement %+v", st)
	}
}
