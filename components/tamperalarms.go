package components

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Events TamperAlarms reports: the API calls that get around the audit bucket's and keys' policies, or that
// would make the trail unreadable.
var (
	// TamperBucketEvents replace or remove the bucket policy (the way around its deny statements) or change the
	// Object Lock configuration.
	TamperBucketEvents = []string{"PutBucketPolicy", "DeleteBucketPolicy", "PutBucketObjectLockConfiguration"}
	// TamperKeyEvents replace a key policy (the first step of a two-step attack), or schedule a key's deletion or
	// disable it (crypto-shredding every record the key protects).
	TamperKeyEvents = []string{"PutKeyPolicy", "ScheduleKeyDeletion", "DisableKey"}
)

// TamperAlarmsArgs configures TamperAlarms.
type TamperAlarmsArgs struct {
	// TopicARN receives the events (a UsageAlarm's topic, whose policy must allow the rules: TamperAlarmRuleNames).
	// Required.
	TopicARN pulumi.StringInput
	// BucketName is the audit bucket whose policy and lock configuration are watched. Required.
	BucketName pulumi.StringInput
	// KeyARNs are the keys whose policy, deletion and disabling are watched: the bucket's key and the signing
	// keys. At least one.
	KeyARNs []pulumi.StringInput
}

// TamperAlarms sends to the alarm topic every CloudTrail event that weakens the trail's protection: two EventBridge
// rules on the default bus, one for the audit bucket (TamperBucketEvents) and one for the keys (TamperKeyEvents).
// A policy replaced to allow a deletion is seen at once, and a scheduled key deletion can be cancelled within the
// key's deletion window.
//
// EventBridge receives "AWS API Call via CloudTrail" events only while a CloudTrail trail logs management events in
// the region (an organization trail counts); the stack does not create one. The first `pulumi up` itself sends
// PutKeyPolicy events (the signing keys' policies are attached then).
type TamperAlarms struct {
	pulumi.ResourceState

	// RuleARNs are the bucket rule's and the key rule's ARNs.
	RuleARNs pulumi.StringArrayOutput
}

// TamperAlarmRuleNames are the names of the rules NewTamperAlarms creates for the component name, for the
// topic's policy (UsageAlarmArgs.PublishingRuleNames), which must exist before the rules can deliver.
func TamperAlarmRuleNames(name string) []string { return []string{name + "-bucket", name + "-keys"} }

// NewTamperAlarms creates the two rules and their targets. It returns one error naming every bad argument.
func NewTamperAlarms(ctx *pulumi.Context, name string, args *TamperAlarmsArgs, opts ...pulumi.ResourceOption) (*TamperAlarms, error) {
	cfg := TamperAlarmsArgs{}
	if args != nil {
		cfg = *args
	}
	var errs []error
	if cfg.TopicARN == nil {
		errs = append(errs, errors.New("TopicARN: required"))
	}
	if cfg.BucketName == nil {
		errs = append(errs, errors.New("BucketName: required"))
	}
	if len(cfg.KeyARNs) == 0 {
		errs = append(errs, errors.New("KeyARNs: at least one key"))
	}
	for i, k := range cfg.KeyARNs {
		if k == nil {
			errs = append(errs, fmt.Errorf("KeyARNs[%d]: nil", i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("tamper alarms %s: %w", name, err)
	}
	c := &TamperAlarms{}
	if err := ctx.RegisterComponentResource(typeToken("TamperAlarms"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	names := TamperAlarmRuleNames(name)

	bucketPattern := pulumi.All(cfg.BucketName).ApplyT(func(v []any) (string, error) {
		return cloudTrailPattern("aws.s3", "s3.amazonaws.com", TamperBucketEvents,
			map[string]any{"requestParameters": map[string]any{"bucketName": []any{v[0]}}})
	}).(pulumi.StringOutput)
	keys := make([]any, len(cfg.KeyARNs))
	for i, k := range cfg.KeyARNs {
		keys[i] = k
	}
	keyPattern := pulumi.All(keys...).ApplyT(func(v []any) (string, error) {
		// KMS's CloudTrail records name the key's ARN in resources, whatever form of key id the caller used.
		return cloudTrailPattern("aws.kms", "kms.amazonaws.com", TamperKeyEvents, map[string]any{"resources": map[string]any{"ARN": v}})
	}).(pulumi.StringOutput)

	var arns pulumi.StringArray
	for i, rule := range []struct {
		description string
		pattern     pulumi.StringOutput
	}{
		{"The audit bucket's policy or Object Lock configuration changed.", bucketPattern},
		{"An audit key's policy changed, or its deletion was scheduled, or it was disabled.", keyPattern},
	} {
		r, err := cloudwatch.NewEventRule(ctx, names[i], &cloudwatch.EventRuleArgs{
			Name: pulumi.String(names[i]), Description: pulumi.String(rule.description), EventPattern: rule.pattern,
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := cloudwatch.NewEventTarget(ctx, names[i]+"-topic", &cloudwatch.EventTargetArgs{
			Rule: r.Name, Arn: cfg.TopicARN,
		}, parent); err != nil {
			return nil, err
		}
		arns = append(arns, r.Arn)
	}
	c.RuleARNs = arns.ToStringArrayOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"ruleArns": c.RuleARNs})
}

// cloudTrailPattern is an EventBridge pattern for the named API calls of one service, recorded by CloudTrail, with
// detail narrowing them further.
func cloudTrailPattern(source, eventSource string, events []string, detail map[string]any) (string, error) {
	d := map[string]any{"eventSource": []string{eventSource}, "eventName": events}
	for k, v := range detail {
		d[k] = v
	}
	b, err := json.Marshal(map[string]any{"source": []string{source}, "detail-type": []string{"AWS API Call via CloudTrail"}, "detail": d})
	if err != nil {
		return "", fmt.Errorf("encode event pattern: %w", err)
	}
	return string(b), nil
}
