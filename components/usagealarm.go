package components

import (
	"errors"
	"fmt"
	"net/mail"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DefaultDailyTokenThreshold is the daily input + output token count that raises the alarm.
const DefaultDailyTokenThreshold = 1_000_000

// UsageAlarmArgs configures a UsageAlarm.
type UsageAlarmArgs struct {
	// Email receives the alarm (an SNS email subscription the recipient must confirm). Required.
	Email string
	// ModelID is the ModelId dimension of Bedrock's AWS/Bedrock metrics for the agent's model. Bedrock reports
	// calls through an application inference profile under the profile's ARN, so pass AgentModel.ProfileARN.
	ModelID pulumi.StringInput
	// DailyTokenThreshold is the combined input + output tokens per day that raise the alarm (default 1,000,000).
	DailyTokenThreshold int
	// PublishingRuleNames are EventBridge rules of this account and region that may also publish to the topic
	// (TamperAlarmRuleNames). Optional.
	PublishingRuleNames []string
}

// UsageAlarm emails when the model's daily token use crosses a threshold: an SNS topic, the email subscription,
// and a CloudWatch alarm on InputTokenCount + OutputTokenCount summed over a day.
//
// The topic is not encrypted at rest. CloudWatch must use a topic's key to publish to it, and the AWS managed
// key alias/aws/sns cannot grant it that (its policy is AWS's), so such an alarm never emails. A customer managed
// key would work for CloudWatch, but the notifications hold only alarm states (a metric name, a threshold, a
// count) and CloudTrail records of policy and key changes, nothing of the audit trail's content; a key would cost a
// monthly fee and one more policy to keep right, and KMS cannot limit EventBridge's use of it by source. The topic
// policy lets only this alarm and the PublishingRuleNames rules, in this account, publish.
type UsageAlarm struct {
	pulumi.ResourceState

	TopicARN pulumi.StringOutput
	AlarmARN pulumi.StringOutput
}

// NewUsageAlarm creates the topic, subscription and alarm. It returns one error naming every bad argument.
func NewUsageAlarm(ctx *pulumi.Context, name string, args *UsageAlarmArgs, opts ...pulumi.ResourceOption) (*UsageAlarm, error) {
	cfg := UsageAlarmArgs{}
	if args != nil {
		cfg = *args
	}
	if cfg.DailyTokenThreshold == 0 {
		cfg.DailyTokenThreshold = DefaultDailyTokenThreshold
	}
	var errs []error
	if addr, err := mail.ParseAddress(cfg.Email); err != nil || addr.Address != cfg.Email {
		errs = append(errs, fmt.Errorf("Email: %q is not an email address", cfg.Email))
	}
	if cfg.ModelID == nil {
		errs = append(errs, errors.New("ModelID: required"))
	}
	if cfg.DailyTokenThreshold < 1 {
		errs = append(errs, fmt.Errorf("DailyTokenThreshold: %d, want at least 1", cfg.DailyTokenThreshold))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("usage alarm %s: %w", name, err)
	}
	c := &UsageAlarm{}
	if err := ctx.RegisterComponentResource(typeToken("UsageAlarm"), name, c, opts...); err != nil {
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
	// The alarm's name is fixed here, so the topic policy can name its ARN before the alarm exists.
	alarmARN := fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", partition, region.Name, account, name)
	var ruleARNs []string
	for _, r := range cfg.PublishingRuleNames {
		ruleARNs = append(ruleARNs, fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", partition, region.Name, account, r))
	}
	topic, err := sns.NewTopic(ctx, name+"-topic", &sns.TopicArgs{}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := sns.NewTopicPolicy(ctx, name+"-topic-policy", &sns.TopicPolicyArgs{
		Arn: topic.Arn,
		Policy: PolicyJSON(func(v []string) PolicyDocument {
			st := []PolicyStatement{{
				Sid: "AlarmPublishes", Effect: "Allow",
				Principal: map[string][]string{"Service": {"cloudwatch.amazonaws.com"}},
				Action:    []string{"sns:Publish"}, Resource: []string{v[0]},
				Condition: map[string]map[string]any{
					"StringEquals": {"aws:SourceAccount": account},
					"ArnEquals":    {"aws:SourceArn": alarmARN},
				},
			}}
			if len(ruleARNs) > 0 {
				st = append(st, PolicyStatement{
					Sid: "RulesPublish", Effect: "Allow",
					Principal: map[string][]string{"Service": {"events.amazonaws.com"}},
					Action:    []string{"sns:Publish"}, Resource: []string{v[0]},
					Condition: map[string]map[string]any{
						"StringEquals": {"aws:SourceAccount": account},
						"ArnEquals":    {"aws:SourceArn": ruleARNs},
					},
				})
			}
			return PolicyDocument{Statement: st}
		}, topic.Arn),
	}, parent); err != nil {
		return nil, err
	}
	if _, err := sns.NewTopicSubscription(ctx, name+"-email", &sns.TopicSubscriptionArgs{
		Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(cfg.Email),
	}, parent); err != nil {
		return nil, err
	}
	metric := func(id, metricName string) *cloudwatch.MetricAlarmMetricQueryArgs {
		return &cloudwatch.MetricAlarmMetricQueryArgs{
			Id: pulumi.String(id),
			Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
				Namespace:  pulumi.String("AWS/Bedrock"),
				MetricName: pulumi.String(metricName),
				Dimensions: pulumi.StringMap{"ModelId": cfg.ModelID},
				Period:     pulumi.Int(86400),
				Stat:       pulumi.String("Sum"),
			},
			ReturnData: pulumi.Bool(false),
		}
	}
	alarm, err := cloudwatch.NewMetricAlarm(ctx, name, &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(name),
		AlarmDescription:   pulumi.Sprintf("Daily input + output tokens of %s crossed %d.", name, cfg.DailyTokenThreshold),
		ComparisonOperator: pulumi.String("GreaterThanThreshold"),
		EvaluationPeriods:  pulumi.Int(1),
		Threshold:          pulumi.Float64(float64(cfg.DailyTokenThreshold)),
		TreatMissingData:   pulumi.String("notBreaching"),
		MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
			metric("input", "InputTokenCount"),
			metric("output", "OutputTokenCount"),
			&cloudwatch.MetricAlarmMetricQueryArgs{
				Id: pulumi.String("total"), Expression: pulumi.String("input + output"),
				Label: pulumi.String("Daily tokens"), ReturnData: pulumi.Bool(true),
			},
		},
		AlarmActions: pulumi.Array{topic.Arn},
	}, parent)
	if err != nil {
		return nil, err
	}
	c.TopicARN, c.AlarmARN = topic.Arn, alarm.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"topicArn": c.TopicARN, "alarmArn": c.AlarmARN})
}
