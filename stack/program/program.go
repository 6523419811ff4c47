package program

import (
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/components"
)

// Outputs are what the stack exports: what an operator needs to invoke the function and query the trail.
type Outputs struct {
	AuditBucket, AuditKeyARN       pulumi.StringOutput
	FirehoseStream                 pulumi.StringOutput
	FunctionName, FunctionARN      pulumi.StringOutput
	InferenceProfileARN            pulumi.StringOutput
	AlarmTopicARN, OperatorRoleARN pulumi.StringOutput
	LogfireParameter               pulumi.StringOutput
	LogfireWired                   bool
	// AthenaWorkgroup, AthenaDatabase and AnalystRoleARN are set when AthenaWired (config athena, default true).
	AthenaWorkgroup, AthenaDatabase pulumi.StringOutput
	AnalystRoleARN                  pulumi.StringOutput
	AthenaWired                     bool
	// SigningKeyARN and SigningPublicKeyPEM identify the key that seals every record, and what verifies them.
	SigningKeyARN, SigningPublicKeyPEM pulumi.StringOutput
	// DigestKeyARN and DigestPublicKeyPEM identify the key that signs the digests, and what verifies them.
	DigestKeyARN, DigestPublicKeyPEM pulumi.StringOutput
}

// Program composes the components for one stack. moduleRoot is where the function's Go module lives ("" to
// find it from the working directory, as `pulumi up` runs in the project directory).
func Program(ctx *pulumi.Context, cfg Config, moduleRoot string) (*Outputs, error) {
	if err := ValidateStackName(ctx.Stack()); err != nil {
		return nil, err
	}
	prefix := "agent-audit-" + ctx.Stack()

	bucket, err := components.NewAuditBucket(ctx, prefix+"-audit", &components.AuditBucketArgs{
		RetentionDays: cfg.AuditRetentionDays,
		RetentionMode: cfg.ObjectLockMode,
		ForceDestroy:  cfg.ForceDestroy,
		// The break-glass role alone may bypass the lock or delete the key; with none, nobody may.
		BreakGlassRoleARN: cfg.BreakGlassRoleARN,
	})
	if err != nil {
		return nil, err
	}
	interval := cfg.FirehoseBufferSeconds
	stream, err := components.NewAuditFirehose(ctx, prefix+"-audit-stream", &components.AuditFirehoseArgs{
		Bucket:                   bucket,
		BufferingSizeMB:          cfg.FirehoseBufferMB,
		BufferingIntervalSeconds: &interval,
		LogRetentionDays:         cfg.LogRetentionDays,
	})
	if err != nil {
		return nil, err
	}
	model, err := components.NewAgentModel(ctx, prefix+"-model", &components.AgentModelArgs{
		SourceProfileID:   cfg.SourceInferenceProfileID,
		FoundationModelID: cfg.FoundationModelID,
	})
	if err != nil {
		return nil, err
	}
	var logfire *components.LogfireSecret
	if cfg.LogfireToken != "" {
		logfire, err = components.NewLogfireSecret(ctx, prefix+"-logfire", &components.LogfireSecretArgs{
			Token: pulumi.ToSecret(pulumi.String(cfg.LogfireToken)).(pulumi.StringOutput),
		})
		if err != nil {
			return nil, err
		}
	}
	operator, err := components.NewOperatorRole(ctx, prefix+"-operator", &components.OperatorRoleArgs{Model: model})
	if err != nil {
		return nil, err
	}
	var query *components.AuditQuery
	if cfg.Athena {
		query, err = components.NewAuditQuery(ctx, prefix+"-query", &components.AuditQueryArgs{
			Bucket:       bucket,
			DatabaseName: strings.ReplaceAll(prefix, "-", "_"),
		})
		if err != nil {
			return nil, err
		}
	}
	// The signing key comes before the function, which needs its ARN; its policy, attached once the function's
	// role exists, names that role as the only one that may kms:Sign (see SigningKey). The people who read the
	// trail may fetch its public key and verify through KMS.
	readers := []pulumi.StringInput{operator.RoleARN}
	if query != nil {
		readers = append(readers, query.AnalystRoleARN)
	}
	signing, err := components.NewSigningKey(ctx, prefix+"-signing", &components.SigningKeyArgs{ReaderRoleARNs: readers, BreakGlassRoleARN: cfg.BreakGlassRoleARN})
	if err != nil {
		return nil, err
	}
	// The digests prove the bucket complete. Their writer has its own role and key: nothing the function's role
	// may do reaches either.
	digests, err := components.NewDigestWriter(ctx, prefix+"-digest", &components.DigestWriterArgs{
		Bucket:            bucket,
		Period:            time.Duration(cfg.DigestPeriodMinutes) * time.Minute,
		ReaderRoleARNs:    readers,
		BreakGlassRoleARN: cfg.BreakGlassRoleARN,
		ModuleRoot:        moduleRoot,
		LogRetentionDays:  cfg.LogRetentionDays,
	})
	if err != nil {
		return nil, err
	}
	capture, ratio := cfg.CaptureContent, cfg.LogfireSampleRatio
	// The extension serves only the Logfire token: without one it would cost cold start for nothing.
	extensionLayer := cfg.SecretsExtensionLayerARN
	if logfire == nil && extensionLayer != "" {
		extensionLayer = ""
		if err := ctx.Log.Warn("secretsExtensionLayerArn is set but logfireToken is not: the extension layer is not attached", nil); err != nil {
			return nil, err
		}
	}
	fn, err := components.NewAgentFunction(ctx, prefix, &components.AgentFunctionArgs{
		ModuleRoot:               moduleRoot,
		Model:                    model,
		ModelName:                cfg.ModelName,
		Stream:                   stream,
		AgentName:                cfg.AgentName,
		SystemPrompt:             cfg.SystemPrompt,
		CaptureContent:           &capture,
		TimeoutSeconds:           cfg.LambdaTimeoutSeconds,
		MemoryMB:                 cfg.LambdaMemoryMB,
		LogRetentionDays:         cfg.LogRetentionDays,
		Logfire:                  logfire,
		LogfireSampleRatio:       &ratio,
		LogfireScrub:             cfg.LogfireScrub,
		SecretsExtensionLayerARN: extensionLayer,
		SigningKeyARN:            signing.KeyARN,
		OversizeBucket:           bucket,
	})
	if err != nil {
		return nil, err
	}
	if _, err := signing.AllowSigners(ctx, []pulumi.StringInput{fn.RoleARN}); err != nil {
		return nil, err
	}
	guardName := prefix + "-guard"
	alarm, err := components.NewUsageAlarm(ctx, prefix+"-tokens", &components.UsageAlarmArgs{
		Email:               cfg.AlertEmail,
		ModelID:             model.ProfileARN,
		DailyTokenThreshold: cfg.DailyTokenAlarmThreshold,
		PublishingRuleNames: components.TamperAlarmRuleNames(guardName),
	})
	if err != nil {
		return nil, err
	}
	// Replacing the bucket's or a key's policy is the way around their deny statements: it must be seen.
	if _, err := components.NewTamperAlarms(ctx, guardName, &components.TamperAlarmsArgs{
		TopicARN: alarm.TopicARN, BucketName: bucket.BucketName,
		KeyARNs: []pulumi.StringInput{bucket.KeyARN, signing.KeyARN, digests.DigestKeyARN},
	}); err != nil {
		return nil, err
	}
	out := &Outputs{
		AuditBucket: bucket.BucketName, AuditKeyARN: bucket.KeyARN, FirehoseStream: stream.StreamName,
		FunctionName: fn.FunctionName, FunctionARN: fn.FunctionARN, InferenceProfileARN: model.ProfileARN,
		AlarmTopicARN: alarm.TopicARN, OperatorRoleARN: operator.RoleARN,
		SigningKeyARN: signing.KeyARN, SigningPublicKeyPEM: signing.PublicKeyPEM,
		DigestKeyARN: digests.DigestKeyARN, DigestPublicKeyPEM: digests.DigestPublicKeyPEM,
	}
	if logfire != nil {
		out.LogfireParameter, out.LogfireWired = logfire.ParameterName, true
	}
	if query != nil {
		out.AthenaWorkgroup, out.AthenaDatabase, out.AnalystRoleARN, out.AthenaWired = query.WorkgroupName, query.DatabaseName, query.AnalystRoleARN, true
	}
	return out, nil
}

// Exports maps the stack output names the README's commands use to their values; logfireParameter is there
// only when the Logfire secret is wired, athenaWorkgroup, athenaDatabase and analystRoleArn only with Athena.
func (o *Outputs) Exports() map[string]pulumi.StringOutput {
	exports := map[string]pulumi.StringOutput{
		"auditBucket":         o.AuditBucket,
		"auditKeyArn":         o.AuditKeyARN,
		"firehoseStream":      o.FirehoseStream,
		"functionName":        o.FunctionName,
		"functionArn":         o.FunctionARN,
		"inferenceProfileArn": o.InferenceProfileARN,
		"alarmTopicArn":       o.AlarmTopicARN,
		"operatorRoleArn":     o.OperatorRoleARN,
		"signingKeyArn":       o.SigningKeyARN,
		"signingPublicKeyPem": o.SigningPublicKeyPEM,
		"digestKeyArn":        o.DigestKeyARN,
		"digestPublicKeyPem":  o.DigestPublicKeyPEM,
	}
	if o.LogfireWired {
		exports["logfireParameter"] = o.LogfireParameter
	}
	if o.AthenaWired {
		exports["athenaWorkgroup"] = o.AthenaWorkgroup
		exports["athenaDatabase"] = o.AthenaDatabase
		exports["analystRoleArn"] = o.AnalystRoleARN
	}
	return exports
}
