package components

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
	"github.com/agent-audit/agent-audit/trail/digest"
)

const (
	digestRole   = "arn:aws:iam::123456789012:role/digest-role"
	digestFnARN  = "arn:aws:lambda:eu-west-1:123456789012:function:digest"
	digestKeyARN = "arn:aws:kms:eu-west-1:123456789012:key/key-digest-key"
)

// digestStack builds a DigestWriter over an AuditBucket, with reader roles; mutate adjusts the args.
func digestStack(t *testing.T, readers int, mutate func(a *DigestWriterArgs)) (*pulumitest.Mocks, *DigestWriter, *AuditBucket, error) {
	t.Helper()
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	m := &pulumitest.Mocks{}
	var c *DigestWriter
	var bucket *AuditBucket
	err = pulumitest.Run(m, func(ctx *pulumi.Context) error {
		var err error
		if bucket, err = NewAuditBucket(ctx, "audit", nil); err != nil {
			return err
		}
		args := &DigestWriterArgs{Bucket: bucket, Package: tinyPackage, ModuleRoot: root, BuildDir: t.TempDir()}
		for i := range readers {
			r, err := iam.NewRole(ctx, fmt.Sprintf("reader-%d", i), &iam.RoleArgs{AssumeRolePolicy: pulumi.String("{}")})
			if err != nil {
				return err
			}
			args.ReaderRoleARNs = append(args.ReaderRoleARNs, r.Arn)
		}
		if mutate != nil {
			mutate(args)
		}
		c, err = NewDigestWriter(ctx, "digest", args)
		return err
	})
	return m, c, bucket, err
}

func TestDigestWriterRunsTheLambdaEveryPeriodWithItsEnvironment(t *testing.T) {
	m, c, bucket, err := digestStack(t, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	bucketName := pulumitest.AwaitString(t, bucket.BucketName)

	fn := m.One(t, "aws:lambda/function:Function", "digest")
	for path, want := range map[string]string{
		"runtime": "provided.al2023", "architectures.0": "arm64", "handler": "bootstrap", "role": digestRole,
		"loggingConfig.logGroup": "/aws/lambda/digest", "loggingConfig.logFormat": "JSON",
	} {
		if got := str(fn.Inputs, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	// Half the 5 min period, capped at 2 min: a run ends before the next starts.
	if num(fn.Inputs, "timeout") != 120 || num(fn.Inputs, "memorySize") != 512 {
		t.Errorf("timeout %v memory %v, want 120 s and 512 MB", num(fn.Inputs, "timeout"), num(fn.Inputs, "memorySize"))
	}
	// Two runs at once would both write the same period.
	if got := num(fn.Inputs, "reservedConcurrentExecutions"); got != 1 {
		t.Errorf("reserved concurrency %v, want 1", got)
	}
	pulumitest.AssertLambdaArchive(t, pulumitest.Get(fn.Inputs, "code").ArchiveValue().Path)
	if deps := strings.Join(fn.DependsOn, " "); !strings.Contains(deps, "::digest-logs") || !strings.Contains(deps, "::digest-permissions") ||
		!strings.Contains(deps, "::digest-key-policy") {
		t.Errorf("the Lambda does not wait for its log group, its permissions and its key policy: %v", fn.DependsOn)
	}

	// Exactly the variables of trail/digest, with the values the Lambda's own parser reads back as the defaults.
	vars := pulumitest.Get(fn.Inputs, "environment.variables").ObjectValue()
	want := map[string]string{
		digest.EnvBucket: bucketName, digest.EnvSigningKeyID: digestKeyARN,
		digest.EnvPeriod: "5m0s", digest.EnvLookback: "26h0m0s", digest.EnvSettle: "1m0s",
	}
	if len(vars) != len(want) {
		t.Errorf("environment %v, want exactly %v", vars, want)
	}
	for k, v := range want {
		if got := str(fn.Inputs, "environment.variables."+k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	parsed, err := digest.EnvConfigFrom(func(k string) (string, bool) {
		v := str(fn.Inputs, "environment.variables."+k)
		return v, v != ""
	})
	if err != nil {
		t.Fatalf("the Lambda refuses the environment the component sets: %v", err)
	}
	if wantCfg := (digest.EnvConfig{Bucket: bucketName, SigningKeyID: digestKeyARN, Period: DefaultDigestPeriod, Lookback: DefaultDigestLookback, Settle: DefaultDigestSettle}); parsed != wantCfg {
		t.Errorf("the Lambda reads %+v, want %+v", parsed, wantCfg)
	}

	// The schedule: every period, on time, as its own role, retried for one period at most.
	schedule := m.One(t, "aws:scheduler/schedule:Schedule", "digest-schedule").Inputs
	for path, want := range map[string]string{
		"scheduleExpression": "rate(5 minutes)", "flexibleTimeWindow.mode": "OFF", "state": "ENABLED",
		"target.arn": digestFnARN, "target.roleArn": "arn:aws:iam::123456789012:role/digest-schedule-role",
	} {
		if got := str(schedule, path); got != want {
			t.Errorf("schedule %s = %q, want %q", path, got, want)
		}
	}
	if got := num(schedule, "target.retryPolicy.maximumEventAgeInSeconds"); got != 300 {
		t.Errorf("the schedule retries an invoke for %v s, want one period (300 s)", got)
	}
	if v := pulumitest.Get(schedule, "target.input"); !v.IsNull() {
		t.Errorf("the schedule sends input %v: the Lambda reads none", v)
	}
	async := m.One(t, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "digest-async").Inputs
	if str(async, "functionName") != "digest" || num(async, "maximumRetryAttempts") != 0 || num(async, "maximumEventAgeInSeconds") != 300 {
		t.Errorf("async invoke config %v, want no retry and events older than a period dropped", async)
	}
	scheduleTrust := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/role:Role", "digest-schedule-role").Inputs, "assumeRolePolicy"))
	if len(scheduleTrust.Statement) != 1 || !slices.Equal(scheduleTrust.Statement[0].Principal["Service"], []string{"scheduler.amazonaws.com"}) ||
		scheduleTrust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"] != "123456789012" {
		t.Errorf("schedule role trust %+v, want EventBridge Scheduler of this account only", scheduleTrust)
	}
	invoke := statementsByAction(pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "digest-schedule-invoke").Inputs, "policy")))
	if len(invoke) != 1 || invoke["lambda:InvokeFunction"] != digestFnARN {
		t.Errorf("the schedule's role may %v, want lambda:InvokeFunction on the digest Lambda only", invoke)
	}
	if n := len(m.ByType("aws:lambda/permission:Permission")); n != 0 {
		t.Errorf("%d Lambda resource policies: the schedule invokes through its role", n)
	}
	if num(m.One(t, "aws:cloudwatch/logGroup:LogGroup", "digest-logs").Inputs, "retentionInDays") != 30 {
		t.Error("log retention")
	}

	outputs := map[string]struct {
		o    pulumi.StringOutput
		want string
	}{
		"DigestKeyARN":       {c.DigestKeyARN, digestKeyARN},
		"DigestPublicKeyPEM": {c.DigestPublicKeyPEM, pulumitest.MockPublicKeyPEM(digestKeyARN)},
		"RoleARN":            {c.RoleARN, digestRole},
		"FunctionName":       {c.FunctionName, "digest"},
		"FunctionARN":        {c.FunctionARN, digestFnARN},
		"LogGroupName":       {c.LogGroupName, "/aws/lambda/digest"},
	}
	for name, out := range outputs {
		if got := pulumitest.AwaitString(t, out.o); got != out.want {
			t.Errorf("%s = %q, want %q", name, got, out.want)
		}
	}
}

func TestDigestWriterIsItsOwnComponent(t *testing.T) {
	m, _, _, err := digestStack(t, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	const token = "agent-audit:index:DigestWriter"
	own := pulumitest.ComponentURN(token, "digest")
	key := fmt.Sprintf("urn:pulumi:%s::%s::%s$agent-audit:index:SigningKey::digest-key", pulumitest.Stack, pulumitest.Project, token)
	children := 0
	for _, r := range m.Resources() {
		if !strings.HasPrefix(r.Name, "digest") || r.Type == token {
			continue
		}
		children++
		want := own
		if r.Type != "agent-audit:index:SigningKey" && strings.HasPrefix(r.Name, "digest-key") {
			want = key
		}
		if r.Parent != want {
			t.Errorf("%s %s has parent %q, want %q", r.Type, r.Name, r.Parent, want)
		}
	}
	// logs, role, permissions, the SigningKey and its key, alias and policy, function, async config, schedule
	// role, its policy, schedule.
	if children != 12 {
		t.Errorf("%d resources of the component, want 12", children)
	}
}

func TestDigestWriterRoleMayOnlyListReadAndWriteDigests(t *testing.T) {
	m, _, bucket, err := digestStack(t, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	bucketARN, keyARN := pulumitest.AwaitString(t, bucket.BucketARN), pulumitest.AwaitString(t, bucket.KeyARN)
	trust := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/role:Role", "digest-role").Inputs, "assumeRolePolicy"))
	if len(trust.Statement) != 1 || !slices.Equal(trust.Statement[0].Principal["Service"], []string{"lambda.amazonaws.com"}) ||
		trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"] != "123456789012" {
		t.Errorf("digest role trust %+v, want Lambda of this account only", trust)
	}
	pol := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "digest-permissions").Inputs, "policy"))
	grants := statementsByAction(pol)
	want := map[string]string{
		"logs:CreateLogStream":  "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/digest:*",
		"logs:PutLogEvents":     "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/digest:*",
		"s3:ListBucket":         bucketARN,
		"s3:ListBucketVersions": bucketARN,
		"s3:GetObject":          bucketARN + "/digests/*",
		"s3:GetObjectVersion":   bucketARN + "/digests/*",
		"s3:PutObject":          bucketARN + "/digests/*",
		"kms:Decrypt":           keyARN,
		"kms:GenerateDataKey":   keyARN,
	}
	if len(grants) != len(want) {
		t.Errorf("the digest role may %d actions, want exactly %d: %v", len(grants), len(want), grants)
	}
	for a, res := range want {
		if grants[a] != res {
			t.Errorf("%s granted on %q, want %q only", a, grants[a], res)
		}
	}
	for _, s := range pol.Statement {
		switch {
		case slices.Contains(s.Action, "s3:ListBucket"):
			got, _ := s.Condition["StringLike"]["s3:prefix"].([]any)
			want := []any{"traces/", "traces/*", "oversize/", "oversize/*", "digests/", "digests/*"}
			if len(s.Condition) != 1 || len(s.Condition["StringLike"]) != 1 || !slices.Equal(got, want) {
				t.Errorf("listing is not limited to the trail's prefixes: %+v", s.Condition)
			}
		case slices.Contains(s.Action, "kms:Decrypt"):
			if len(s.Condition) != 1 || len(s.Condition["StringEquals"]) != 1 || s.Condition["StringEquals"]["kms:ViaService"] != "s3.eu-west-1.amazonaws.com" {
				t.Errorf("the bucket key is not limited to S3: %+v", s.Condition)
			}
		case slices.Contains(s.Action, "s3:PutObject"):
			if len(s.Action) != 1 || len(s.Condition) != 0 {
				t.Errorf("%s: writing digests shares its statement or carries conditions: %+v", s.Sid, s)
			}
		}
	}
}

func TestDigestWriterKeyHasOneSignerAndTheReaders(t *testing.T) {
	m, _, _, err := digestStack(t, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := m.One(t, "aws:kms/key:Key", "digest-key").Inputs
	if str(key, "customerMasterKeySpec") != "ECC_NIST_P256" || str(key, "keyUsage") != "SIGN_VERIFY" {
		t.Errorf("the digest key is %q/%q, want an ECC_NIST_P256 SIGN_VERIFY key", str(key, "customerMasterKeySpec"), str(key, "keyUsage"))
	}
	attached := m.One(t, "aws:kms/keyPolicy:KeyPolicy", "digest-key-policy").Inputs
	if str(attached, "keyId") != "key-digest-key" {
		t.Errorf("the digest key policy is attached to %q", str(attached, "keyId"))
	}
	readers := []string{"arn:aws:iam::123456789012:role/reader-0", "arn:aws:iam::123456789012:role/reader-1"}
	policy := pulumitest.ParsePolicy(t, pulumitest.Get(attached, "policy"))
	if v := signingKeyPolicyViolations(policy, accountRoot, readers, []string{digestRole}); len(v) != 0 {
		t.Errorf("digest key policy:\n%s", strings.Join(v, "\n"))
	}
	// The agent's signing key is not this one: a second SigningKey in the same program stays separate.
	if n := len(m.ByType("aws:kms/keyPolicy:KeyPolicy")); n != 1 {
		t.Errorf("%d key policies, want the digest key's only", n)
	}
}

func TestDigestWriterPeriodAndArgsReachTheSchedule(t *testing.T) {
	settle := 30 * time.Second
	m, _, _, err := digestStack(t, 0, func(a *DigestWriterArgs) {
		a.Period, a.Lookback, a.Settle, a.MemoryMB, a.LogRetentionDays = 15*time.Minute, 30*time.Hour, &settle, 256, 90
	})
	if err != nil {
		t.Fatal(err)
	}
	fn := m.One(t, "aws:lambda/function:Function", "digest").Inputs
	for k, v := range map[string]string{digest.EnvPeriod: "15m0s", digest.EnvLookback: "30h0m0s", digest.EnvSettle: "30s"} {
		if got := str(fn, "environment.variables."+k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if num(fn, "timeout") != 120 || num(fn, "memorySize") != 256 {
		t.Errorf("timeout %v memory %v, want 120 and 256", num(fn, "timeout"), num(fn, "memorySize"))
	}
	schedule := m.One(t, "aws:scheduler/schedule:Schedule", "digest-schedule").Inputs
	if str(schedule, "scheduleExpression") != "rate(15 minutes)" || num(schedule, "target.retryPolicy.maximumEventAgeInSeconds") != 900 {
		t.Errorf("schedule %v, want every 15 minutes, retried for 900 s", schedule)
	}
	if num(m.One(t, "aws:cloudwatch/logGroup:LogGroup", "digest-logs").Inputs, "retentionInDays") != 90 {
		t.Error("log retention")
	}

	// A one-minute period: the default timeout is half of it, and Scheduler's shortest retry window applies.
	m, _, _, err = digestStack(t, 0, func(a *DigestWriterArgs) { a.Period = time.Minute })
	if err != nil {
		t.Fatal(err)
	}
	if got := num(m.One(t, "aws:lambda/function:Function", "digest").Inputs, "timeout"); got != 30 {
		t.Errorf("timeout %v with a 1 min period, want 30 s", got)
	}
	schedule = m.One(t, "aws:scheduler/schedule:Schedule", "digest-schedule").Inputs
	if str(schedule, "scheduleExpression") != "rate(1 minute)" || num(schedule, "target.retryPolicy.maximumEventAgeInSeconds") != 60 {
		t.Errorf("schedule %v, want every minute, retried for 60 s", schedule)
	}
}

func TestDigestWriterValidates(t *testing.T) {
	bad := -time.Second
	tests := []struct {
		name   string
		args   *DigestWriterArgs
		fields []string
	}{
		{"nothing given", nil, []string{"Bucket: required"}},
		{"a period that is not whole minutes dividing an hour, and a negative settle", &DigestWriterArgs{
			BucketName: pulumi.String("b"), BucketARN: pulumi.String("arn:aws:s3:::b"), KeyARN: pulumi.String("k"),
			Period: 7 * time.Minute, Settle: &bad, TimeoutSeconds: 901, MemoryMB: 64, LogRetentionDays: 4,
			ReaderRoleARNs: []pulumi.StringInput{nil},
		}, []string{"Period: 7m0s", "Settle: -1s", "TimeoutSeconds: 901", "MemoryMB", "LogRetentionDays", "ReaderRoleARNs[0]: nil"}},
		{"a sub-minute period", &DigestWriterArgs{BucketName: pulumi.String("b"), BucketARN: pulumi.String("arn:aws:s3:::b"), KeyARN: pulumi.String("k"),
			Period: 30 * time.Second}, []string{"Period: 30s"}},
		{"a period over an hour", &DigestWriterArgs{BucketName: pulumi.String("b"), BucketARN: pulumi.String("arn:aws:s3:::b"), KeyARN: pulumi.String("k"),
			Period: 2 * time.Hour}, []string{"Period: 2h0m0s"}},
		{"a lookback no longer than a period and its settling", &DigestWriterArgs{BucketName: pulumi.String("b"), BucketARN: pulumi.String("arn:aws:s3:::b"),
			KeyARN: pulumi.String("k"), Lookback: 6 * time.Minute}, []string{"Lookback: 6m0s does not exceed Period + Settle (6m0s)"}},
		{"a timeout as long as the period", &DigestWriterArgs{BucketName: pulumi.String("b"), BucketARN: pulumi.String("arn:aws:s3:::b"),
			KeyARN: pulumi.String("k"), Period: time.Minute, TimeoutSeconds: 60}, []string{"TimeoutSeconds: 60"}},
		{"a bucket and its parts", &DigestWriterArgs{Bucket: &AuditBucket{}, BucketName: pulumi.String("b")}, []string{"not both"}},
		{"a bucket name without its key", &DigestWriterArgs{BucketName: pulumi.String("b"), BucketARN: pulumi.String("arn:aws:s3:::b")}, []string{"Bucket: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
				_, err := NewDigestWriter(ctx, "digest", tt.args)
				return err
			})
			for _, f := range tt.fields {
				if err == nil || !strings.Contains(err.Error(), f) {
					t.Errorf("error %v does not name %q", err, f)
				}
			}
		})
	}
}

func TestRateExpression(t *testing.T) {
	for period, want := range map[time.Duration]string{
		time.Minute: "rate(1 minute)", 5 * time.Minute: "rate(5 minutes)", time.Hour: "rate(60 minutes)",
	} {
		if got := RateExpression(period); got != want {
			t.Errorf("RateExpression(%s) = %q, want %q", period, got, want)
		}
	}
}
