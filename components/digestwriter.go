package components

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	athenasql "github.com/agent-audit/agent-audit/queries/athena"
	"github.com/agent-audit/agent-audit/trail/digest"
)

// DigestWriter defaults. The durations are the digest writer's own (package trail/digest).
const (
	DefaultDigesterPackage = "./digester"
	// DefaultDigestPeriod is how often a digest is written, and the length of the period each one covers.
	DefaultDigestPeriod = digest.DefaultPeriod
	// DefaultDigestLookback reaches past Firehose's 24 h of S3 retries and one buffer interval of prefix naming:
	// an object that lands that late is still listed by the next digest.
	DefaultDigestLookback = digest.DefaultLookback
	// DefaultDigestSettle is how long after a period's end its digest waits for S3 listings to show the period's
	// objects.
	DefaultDigestSettle = digest.DefaultSettle
	// DefaultDigestMemoryMB buys CPU and network share for the listing; the run itself holds one lookback of
	// object versions, a few MB.
	DefaultDigestMemoryMB = 512
	// maxDigestTimeoutSeconds caps the default timeout (half the period): a run lists and signs in seconds.
	maxDigestTimeoutSeconds = 120
)

// DigestWriterArgs configures a DigestWriter. Give Bucket, or BucketName, BucketARN and KeyARN for a bucket made
// elsewhere. Durations are plain Go values: the schedule is fixed at plan time.
type DigestWriterArgs struct {
	// Bucket is the audit bucket whose traces/ and oversize/ objects the digests list, and where they are written.
	Bucket *AuditBucket
	// BucketName, BucketARN and KeyARN name any other audit bucket and the KMS key that encrypts it.
	BucketName, BucketARN, KeyARN pulumi.StringInput
	// Period is how often a digest is written and what each covers: whole minutes dividing an hour, 1–60 min
	// (default 5 min), so periods align to the hour and each digest falls in one hour's prefix.
	Period time.Duration
	// Lookback is how far back each run lists objects for versions no digest has listed yet (default 26 h); it must
	// exceed Period + Settle.
	Lookback time.Duration
	// Settle is how long after a period's end its digest waits, 0 or more (nil means 1 min).
	Settle *time.Duration
	// ReaderRoleARNs may read the digest key's public key and verify through KMS (an operator or analyst role).
	ReaderRoleARNs []pulumi.StringInput
	// BreakGlassRoleARN is the one role that may schedule the digest key's deletion or disable it (optional;
	// with none, nobody may: SigningKeyArgs.BreakGlassRoleARN).
	BreakGlassRoleARN string
	// Package is the digest Lambda's Go main package, relative to ModuleRoot (default "./digester").
	Package string
	// ModuleRoot is the Go module's directory (default: found by walking up from the working directory).
	ModuleRoot string
	// BuildDir receives bootstrap and bootstrap.zip (default: a directory under the OS temp dir per component).
	BuildDir string
	// TimeoutSeconds bounds one run, 1 s up to less than the period (default half the period, at most 120 s), so
	// a run ends before the next one starts.
	TimeoutSeconds int
	// MemoryMB is the Lambda's memory, 128–10240 MB (default 512).
	MemoryMB int
	// LogRetentionDays keeps the Lambda's logs this long (default 30).
	LogRetentionDays int
}

// DigestWriter proves the audit trail complete, CloudTrail-style: every Period a Lambda of its own writes a
// signed digest under digests/ in the audit bucket (package trail/digest), listing each object version that
// appeared under traces/ and oversize/ and chained to the digest before it, also for a period with nothing.
//
// It has its own role, which may list the bucket's traces/, oversize/ and digests/ prefixes, read and write only
// digests/, use the bucket's key through S3 only, and sign with its own SigningKey, whose key policy names this
// role as the one signer. Nothing else of the stack is granted anything here: the agent's role can neither sign
// with the digest key nor write digests.
//
// The schedule is an EventBridge Scheduler schedule with its own role, allowed lambda:InvokeFunction on this
// function only: the permission lives in an IAM policy (a PolicyDocument the stack's policy tests read), not in
// a Lambda resource policy. Two runs must never write at once (both would write the same period, and the chain
// would show that digest replaced), so the Lambda has a reserved concurrency of one, its timeout is under the
// period, and a failed run is not retried: the next one writes every period still missing. Reserving
// concurrency needs an account whose Lambda concurrency quota leaves 100 unreserved besides it (new accounts
// may start at 10; raise the quota in Service Quotas), or the deployment fails with Lambda's error saying so.
type DigestWriter struct {
	pulumi.ResourceState

	// DigestPublicKeyPEM is the digest key's public key as PEM, what verifies every digest without AWS;
	// DigestKeyARN is the key that signs them, named in each as its issuer.
	DigestPublicKeyPEM pulumi.StringOutput
	DigestKeyARN       pulumi.StringOutput
	// RoleARN is the digest Lambda's execution role, the digest key's only signer.
	RoleARN pulumi.StringOutput
	// FunctionName and FunctionARN identify the digest Lambda (its name is the component's name).
	FunctionName pulumi.StringOutput
	FunctionARN  pulumi.StringOutput
	// LogGroupName is /aws/lambda/<function name>: every run logs the digests it wrote, and errors.
	LogGroupName pulumi.StringOutput
}

func (a *DigestWriterArgs) resolve(name string) (DigestWriterArgs, error) {
	out := DigestWriterArgs{}
	if a != nil {
		out = *a
	}
	var errs []error
	switch {
	case out.Bucket != nil && (out.BucketName != nil || out.BucketARN != nil || out.KeyARN != nil):
		errs = append(errs, errors.New("Bucket: give either Bucket or BucketName, BucketARN and KeyARN, not both"))
	case out.Bucket != nil:
		out.BucketName, out.BucketARN, out.KeyARN = out.Bucket.BucketName, out.Bucket.BucketARN, out.Bucket.KeyARN
	case out.BucketName == nil || out.BucketARN == nil || out.KeyARN == nil:
		errs = append(errs, errors.New("Bucket: required (or BucketName, BucketARN and KeyARN)"))
	}
	if out.Period == 0 {
		out.Period = DefaultDigestPeriod
	}
	if out.Lookback == 0 {
		out.Lookback = DefaultDigestLookback
	}
	if out.Settle == nil {
		s := DefaultDigestSettle
		out.Settle = &s
	}
	if out.Package == "" {
		out.Package = DefaultDigesterPackage
	}
	if out.TimeoutSeconds == 0 {
		out.TimeoutSeconds = min(int(out.Period/time.Second)/2, maxDigestTimeoutSeconds)
	}
	if out.MemoryMB == 0 {
		out.MemoryMB = DefaultDigestMemoryMB
	}
	if out.LogRetentionDays == 0 {
		out.LogRetentionDays = DefaultLogRetentionDays
	}
	if out.BuildDir == "" {
		out.BuildDir = filepath.Join(os.TempDir(), "agent-audit-build", name)
	}
	if p := out.Period; p < time.Minute || p > time.Hour || p%time.Minute != 0 || time.Hour%p != 0 {
		errs = append(errs, fmt.Errorf("Period: %s is not a whole number of minutes dividing an hour (1m to 1h)", p))
	}
	if s := *out.Settle; s < 0 {
		errs = append(errs, fmt.Errorf("Settle: %s is negative", s))
	}
	if out.Lookback <= out.Period+*out.Settle {
		errs = append(errs, fmt.Errorf("Lookback: %s does not exceed Period + Settle (%s)", out.Lookback, out.Period+*out.Settle))
	}
	if t := out.TimeoutSeconds; t < 1 || time.Duration(t)*time.Second >= out.Period || t > 900 {
		errs = append(errs, fmt.Errorf("TimeoutSeconds: %d is outside 1 s to less than the period %s (at most 900)", t, out.Period))
	}
	errs = append(errs, lambdaSettingErrors(out.MemoryMB, out.LogRetentionDays)...)
	for i, r := range out.ReaderRoleARNs {
		if r == nil {
			errs = append(errs, fmt.Errorf("ReaderRoleARNs[%d]: nil", i))
		}
	}
	if err := resolveModuleRoot(&out.ModuleRoot); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// NewDigestWriter compiles Args.Package for linux/arm64 (it blocks for the `go build`), and creates the digest
// Lambda with its role, its log group, its signing key (whose policy names the role as the only signer) and the
// schedule that runs it every period. Bad arguments give one error naming every bad field; a failed build gives
// the compiler's output.
func NewDigestWriter(ctx *pulumi.Context, name string, args *DigestWriterArgs, opts ...pulumi.ResourceOption) (*DigestWriter, error) {
	cfg, err := args.resolve(name)
	if err != nil {
		return nil, fmt.Errorf("digest writer %s: %w", name, err)
	}
	bundle, err := BuildBootstrap(ctx.Context(), cfg.ModuleRoot, cfg.Package, cfg.BuildDir)
	if err != nil {
		return nil, fmt.Errorf("digest writer %s: %w", name, err)
	}
	c := &DigestWriter{}
	if err := ctx.RegisterComponentResource(typeToken("DigestWriter"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	base, err := newLambdaBase(ctx, name, cfg.LogRetentionDays, parent)
	if err != nil {
		return nil, err
	}
	env, logGroup, role := base.env, base.logGroup, base.role
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-permissions", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: PolicyJSON(func(v []string) PolicyDocument {
			return digestWriterPolicy(env, v[0], v[1], v[2])
		}, logGroup.Arn, cfg.BucketARN, cfg.KeyARN),
	}, parent)
	if err != nil {
		return nil, err
	}
	// The role exists before the key, so the key's one policy can name it from the start.
	key, err := NewSigningKey(ctx, name+"-key", &SigningKeyArgs{ReaderRoleARNs: cfg.ReaderRoleARNs, BreakGlassRoleARN: cfg.BreakGlassRoleARN}, parent)
	if err != nil {
		return nil, err
	}
	keyPolicy, err := key.AllowSigners(ctx, []pulumi.StringInput{role.Arn})
	if err != nil {
		return nil, err
	}

	fn, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Name:           pulumi.String(name),
		Description:    pulumi.Sprintf("Writes the signed digest of the audit bucket every %s.", cfg.Period),
		Role:           role.Arn,
		Runtime:        pulumi.String("provided.al2023"),
		Architectures:  pulumi.StringArray{pulumi.String("arm64")},
		Handler:        pulumi.String("bootstrap"),
		Code:           pulumi.NewFileArchive(bundle.ZipPath),
		SourceCodeHash: pulumi.String(bundle.SHA256),
		Timeout:        pulumi.Int(cfg.TimeoutSeconds),
		MemorySize:     pulumi.Int(cfg.MemoryMB),
		// One run at a time (see DigestWriter).
		ReservedConcurrentExecutions: pulumi.Int(1),
		LoggingConfig:                &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logGroup.Name},
		Environment: &lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{
			digest.EnvBucket:       cfg.BucketName,
			digest.EnvSigningKeyID: key.KeyARN,
			digest.EnvPeriod:       pulumi.String(cfg.Period.String()),
			digest.EnvLookback:     pulumi.String(cfg.Lookback.String()),
			digest.EnvSettle:       pulumi.String(cfg.Settle.String()),
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{logGroup, rolePolicy, keyPolicy}))
	if err != nil {
		return nil, err
	}
	// No retry of a failed run: the next run writes every period still missing, and a retry could overlap it.
	// An event older than one period is superseded by the next one.
	if _, err := lambda.NewFunctionEventInvokeConfig(ctx, name+"-async", &lambda.FunctionEventInvokeConfigArgs{
		FunctionName:             fn.Name,
		MaximumRetryAttempts:     pulumi.Int(0),
		MaximumEventAgeInSeconds: pulumi.Int(max(int(cfg.Period/time.Second), 60)),
	}, parent); err != nil {
		return nil, err
	}
	if err := newDigestSchedule(ctx, name, cfg.Period, env, fn, parent); err != nil {
		return nil, err
	}

	c.DigestPublicKeyPEM, c.DigestKeyARN, c.RoleARN = key.PublicKeyPEM, key.KeyARN, role.Arn
	c.FunctionName, c.FunctionARN, c.LogGroupName = fn.Name, fn.Arn, logGroup.Name
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"digestPublicKeyPem": c.DigestPublicKeyPEM, "digestKeyArn": c.DigestKeyARN, "roleArn": c.RoleARN,
		"functionName": c.FunctionName, "functionArn": c.FunctionARN, "logGroupName": c.LogGroupName,
	})
}

// newDigestSchedule runs fn every period: an EventBridge Scheduler schedule, at no flexible window, whose own role
// may invoke fn and nothing else. A failed invoke call is retried for at most one period; after that the next
// run is due anyway.
func newDigestSchedule(ctx *pulumi.Context, name string, period time.Duration, env awsEnv, fn *lambda.Function, parent pulumi.ResourceOption) error {
	role, err := iam.NewRole(ctx, name+"-schedule-role", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(mustJSON(serviceTrust("scheduler.amazonaws.com", env.account))),
	}, parent)
	if err != nil {
		return err
	}
	invoke, err := iam.NewRolePolicy(ctx, name+"-schedule-invoke", &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: PolicyJSON(func(v []string) PolicyDocument {
			return PolicyDocument{Statement: []PolicyStatement{
				{Sid: "RunTheDigestWriter", Effect: "Allow", Action: []string{"lambda:InvokeFunction"}, Resource: []string{v[0]}},
			}}
		}, fn.Arn),
	}, parent)
	if err != nil {
		return err
	}
	_, err = scheduler.NewSchedule(ctx, name+"-schedule", &scheduler.ScheduleArgs{
		Description:        pulumi.Sprintf("Runs %s every %s.", name, period),
		ScheduleExpression: pulumi.String(RateExpression(period)),
		FlexibleTimeWindow: &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
		State:              pulumi.String("ENABLED"),
		Target: &scheduler.ScheduleTargetArgs{
			Arn:     fn.Arn,
			RoleArn: role.Arn,
			RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{
				MaximumEventAgeInSeconds: pulumi.Int(max(int(period/time.Second), 60)),
			},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{invoke}))
	return err
}

// RateExpression is the EventBridge Scheduler rate expression for a period of whole minutes: "rate(1 minute)",
// "rate(5 minutes)".
func RateExpression(period time.Duration) string {
	if m := int(period / time.Minute); m != 1 {
		return fmt.Sprintf("rate(%d minutes)", m)
	}
	return "rate(1 minute)"
}

// digestWriterPolicy is the digest role's identity policy, exactly what a run needs:
//   - list object versions under traces/, oversize/ and digests/ (ListObjectVersions needs s3:ListBucketVersions,
//     a plain listing s3:ListBucket), and no other prefix;
//   - read digests/ (the previous digests: the last one's hash chains the next, and those within the lookback say
//     which versions are already listed), every version;
//   - write digests/ and nothing else: no delete, no retention or legal hold, no other prefix;
//   - encrypt new digests and decrypt stored ones with the bucket's key, only when S3 asks for it;
//   - write its own logs.
//
// It reads no record or oversize object: a digest lists each version's size, ETag and checksum as the listing
// gives them. Signing needs no statement: the digest key's policy names this role.
func digestWriterPolicy(env awsEnv, logGroupARN, bucketARN, keyARN string) PolicyDocument {
	digests := bucketARN + "/" + digest.Prefix + "*"
	prefixes := []string{athenasql.TracesPrefix, athenasql.TracesPrefix + "*", OversizePrefix, OversizePrefix + "*", digest.Prefix, digest.Prefix + "*"}
	return PolicyDocument{Statement: []PolicyStatement{
		{Sid: "WriteOwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{logGroupARN + ":*"}},
		{Sid: "ListTheTrail", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:ListBucketVersions"}, Resource: []string{bucketARN},
			Condition: map[string]map[string]any{"StringLike": {"s3:prefix": prefixes}}},
		{Sid: "ReadDigests", Effect: "Allow", Action: []string{"s3:GetObject", "s3:GetObjectVersion"}, Resource: []string{digests}},
		{Sid: "WriteDigests", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{digests}},
		{
			Sid: "UseTheBucketKeyThroughS3", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{keyARN},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "s3." + env.region + "." + env.dnsSuffix}},
		},
	}}
}
