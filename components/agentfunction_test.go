package components

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

const tinyPackage = "./components/testdata/tinyfn"

// functionStack builds a function with its dependencies; mutate adjusts the function's args.
func functionStack(t *testing.T, mutate func(ctx *pulumi.Context, a *AgentFunctionArgs) error) (*pulumitest.Mocks, *AgentFunction, error) {
	t.Helper()
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	m := &pulumitest.Mocks{}
	var fn *AgentFunction
	err = pulumitest.Run(m, func(ctx *pulumi.Context) error {
		model, err := NewAgentModel(ctx, "model", nil)
		if err != nil {
			return err
		}
		stream, err := NewAuditFirehose(ctx, "stream", &AuditFirehoseArgs{BucketARN: pulumi.String("arn:aws:s3:::audit"), KeyARN: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/k1")})
		if err != nil {
			return err
		}
		args := &AgentFunctionArgs{Package: tinyPackage, ModuleRoot: root, BuildDir: t.TempDir(), Model: model, Stream: stream}
		if mutate != nil {
			if err := mutate(ctx, args); err != nil {
				return err
			}
		}
		fn, err = NewAgentFunction(ctx, "agent", args)
		return err
	})
	return m, fn, err
}

func TestAgentFunctionSettingsAndGrants(t *testing.T) {
	m, c, err := functionStack(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := m.One(t, "aws:lambda/function:Function", "agent")
	want := map[string]string{
		"runtime": "provided.al2023", "architectures.0": "arm64", "handler": "bootstrap", "tracingConfig.mode": "Active",
		"loggingConfig.logGroup": "/aws/lambda/agent", "loggingConfig.logFormat": "JSON", "role": "arn:aws:iam::123456789012:role/agent-role",
		"environment.variables.FIREHOSE_DELIVERY_STREAM":      "stream",
		"environment.variables.BEDROCK_INFERENCE_PROFILE_ARN": "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/model-id",
		"environment.variables.BEDROCK_MODEL_ID":              "claude-haiku-4-5",
		"environment.variables.AUDIT_CAPTURE_CONTENT":         "true",
	}
	for path, v := range want {
		if got := str(fn.Inputs, path); got != v {
			t.Errorf("%s = %q, want %q", path, got, v)
		}
	}
	if num(fn.Inputs, "timeout") != 60 || num(fn.Inputs, "memorySize") != 128 {
		t.Errorf("timeout %v memory %v", num(fn.Inputs, "timeout"), num(fn.Inputs, "memorySize"))
	}
	for _, absent := range []string{"AGENT_NAME", "AGENT_SYSTEM_PROMPT", "LOGFIRE_TOKEN_PARAMETER", "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "LOGFIRE_SAMPLE_RATIO", "LOGFIRE_SCRUB",
		"AUDIT_SIGNING_KEY_ID", "AUDIT_OVERSIZE_BUCKET"} {
		if !pulumitest.Get(fn.Inputs, "environment.variables."+absent).IsNull() {
			t.Errorf("%s is set without a name, a prompt, Logfire, a signing key or an oversize bucket (it would override the function's own)", absent)
		}
	}
	if !pulumitest.Get(fn.Inputs, "layers").IsNull() && len(pulumitest.Get(fn.Inputs, "layers").ArrayValue()) != 0 {
		t.Errorf("layers without an extension: %v", pulumitest.Get(fn.Inputs, "layers"))
	}
	if deps := strings.Join(fn.DependsOn, " "); !strings.Contains(deps, "::agent-logs") || !strings.Contains(deps, "::agent-permissions") {
		t.Errorf("the function does not wait for its log group and its permissions: %v", fn.DependsOn)
	}
	assertChildren(t, pulumiFilter(m, "agent-audit:index:AgentFunction", "agent"), "agent-audit:index:AgentFunction", "agent")
	if num(m.One(t, "aws:cloudwatch/logGroup:LogGroup", "agent-logs").Inputs, "retentionInDays") != 30 {
		t.Error("log retention")
	}

	grants := statementsByAction(pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "agent-permissions").Inputs, "policy")))
	if grants["firehose:PutRecord"] != "arn:aws:firehose:eu-west-1:123456789012:deliverystream/stream" || grants["firehose:PutRecordBatch"] != grants["firehose:PutRecord"] {
		t.Errorf("firehose grants %v", grants)
	}
	if grants["logs:PutLogEvents"] != "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/agent:*" {
		t.Errorf("log grants %q", grants["logs:PutLogEvents"])
	}
	if !strings.Contains(grants["bedrock:InvokeModel"], "application-inference-profile/model-id") || grants["aws-marketplace:Subscribe"] != "*" ||
		grants["aws-marketplace:ViewSubscriptions"] != "*" || grants["aws-marketplace:Unsubscribe"] != "" {
		t.Errorf("bedrock grants %v", grants)
	}
	for _, st := range pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "agent-permissions").Inputs, "policy")).Statement {
		if slices.Contains(st.Action, "aws-marketplace:Subscribe") && fmt.Sprint(st.Condition) != "map[StringEquals:map[aws-marketplace:ProductId:[prod-xdkflymybwmvi]]]" {
			t.Errorf("Marketplace subscription not limited to the model's product: %v", st.Condition)
		}
	}
	for a := range grants {
		if strings.HasPrefix(a, "ssm:") || strings.HasPrefix(a, "kms:") || strings.HasPrefix(a, "s3:") {
			t.Errorf("%s granted without Logfire, a signing key or an oversize bucket", a)
		}
	}
	if len(grants) != 9 {
		t.Errorf("%d actions granted, want 9: %v", len(grants), grants)
	}
	zipPath := pulumitest.Get(fn.Inputs, "code").ArchiveValue().Path
	pulumitest.AssertLambdaArchive(t, zipPath)
	zipped, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(zipped)
	if hash := base64.StdEncoding.EncodeToString(sum[:]); str(fn.Inputs, "sourceCodeHash") != hash {
		t.Errorf("source code hash %q, the archive's is %q", str(fn.Inputs, "sourceCodeHash"), hash)
	}

	outputs := map[string]struct {
		o    pulumi.StringOutput
		want string
	}{
		"FunctionName": {c.FunctionName, "agent"},
		"FunctionARN":  {c.FunctionARN, "arn:aws:lambda:eu-west-1:123456789012:function:agent"},
		"RoleARN":      {c.RoleARN, "arn:aws:iam::123456789012:role/agent-role"},
		"LogGroupName": {c.LogGroupName, "/aws/lambda/agent"},
		"CodeSHA256":   {c.CodeSHA256, str(fn.Inputs, "sourceCodeHash")},
	}
	for name, out := range outputs {
		if got := pulumitest.AwaitString(t, out.o); got != out.want {
			t.Errorf("%s = %q, want %q", name, got, out.want)
		}
	}
}

func TestAgentFunctionArgsReachTheFunction(t *testing.T) {
	m, _, err := functionStack(t, func(_ *pulumi.Context, a *AgentFunctionArgs) error {
		off := false
		a.CaptureContent, a.TimeoutSeconds, a.MemoryMB, a.LogRetentionDays = &off, 120, 1024, 90
		a.AgentName, a.SystemPrompt, a.ModelName = "support-bot", "Answer briefly.", "claude-sonnet-4-5"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fn := m.One(t, "aws:lambda/function:Function", "agent").Inputs
	for path, want := range map[string]string{
		"environment.variables.AUDIT_CAPTURE_CONTENT": "false",
		"environment.variables.AGENT_NAME":            "support-bot",
		"environment.variables.AGENT_SYSTEM_PROMPT":   "Answer briefly.",
		"environment.variables.BEDROCK_MODEL_ID":      "claude-sonnet-4-5",
	} {
		if got := str(fn, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if num(fn, "timeout") != 120 || num(fn, "memorySize") != 1024 {
		t.Errorf("timeout %v memory %v, want 120 and 1024", num(fn, "timeout"), num(fn, "memorySize"))
	}
	if got := num(m.One(t, "aws:cloudwatch/logGroup:LogGroup", "agent-logs").Inputs, "retentionInDays"); got != 90 {
		t.Errorf("log retention %v, want 90", got)
	}
}

func TestFindModuleRoot(t *testing.T) {
	root, err := FindModuleRoot("testdata/tinyfn")
	if err != nil {
		t.Fatal(err)
	}
	// The tests run in components/, one level below the module's root.
	if want, _ := filepath.Abs(".."); root != want {
		t.Errorf("root %q from testdata/tinyfn, want the module's directory %q", root, want)
	}
	if _, err := FindModuleRoot(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("outside any module: error %v", err)
	}
}

// Two builds into one directory (two deployments, or two test processes, of the same component) while the archive
// is read: the reader must always find a whole archive, never one being written.
func TestConcurrentBuildsIntoOneDirectoryNeverShowAPartialArchive(t *testing.T) {
	root, _ := FindModuleRoot(".")
	dir := t.TempDir()
	first, err := BuildBootstrap(t.Context(), root, tinyPackage, dir)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := BuildBootstrap(t.Context(), root, tinyPackage, dir)
			done <- err
		}()
	}
	for finished := 0; finished < 2; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished++
		default:
			zr, err := zip.OpenReader(first.ZipPath)
			if err != nil {
				t.Fatalf("the archive read during a rebuild: %v", err)
			}
			zr.Close()
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d entries left in the build directory, want bootstrap and bootstrap.zip: %v", len(entries), entries)
	}
}

func TestBuildingTwiceGivesTheSameArchive(t *testing.T) {
	root, _ := FindModuleRoot(".")
	a, err := BuildBootstrap(t.Context(), root, tinyPackage, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildBootstrap(t.Context(), root, tinyPackage, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != b.SHA256 {
		t.Fatalf("two builds of unchanged source differ: %s vs %s", a.SHA256, b.SHA256)
	}
	za, _ := os.ReadFile(a.ZipPath)
	zb, _ := os.ReadFile(b.ZipPath)
	if string(za) != string(zb) {
		t.Fatal("archives differ byte for byte")
	}
}

func TestABuildFailureNamesThePackageAndTheCompilerOutput(t *testing.T) {
	_, _, err := functionStack(t, func(_ *pulumi.Context, a *AgentFunctionArgs) error {
		a.Package = "./components/testdata/brokenfn"
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "build ./components/testdata/brokenfn for linux/arm64") || !strings.Contains(err.Error(), "undefined: undefinedFunction") {
		t.Fatalf("error %v", err)
	}
}

func TestAgentFunctionValidates(t *testing.T) {
	err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		_, err := NewAgentFunction(ctx, "agent", &AgentFunctionArgs{TimeoutSeconds: 901, MemoryMB: 64, LogRetentionDays: 4,
			SecretsExtensionLayerARN: "arn:aws:lambda:eu-west-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:17"})
		return err
	})
	for _, field := range []string{"Model", "Stream", "TimeoutSeconds", "MemoryMB", "LogRetentionDays", "SecretsExtensionLayerARN: set without Logfire"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
}

func TestLogfireWiring(t *testing.T) {
	const token = "pylf_v1_eu_TESTTOKENVALUE0123456789"
	m, _, err := functionStack(t, func(ctx *pulumi.Context, a *AgentFunctionArgs) error {
		secret, err := NewLogfireSecret(ctx, "logfire", &LogfireSecretArgs{Token: pulumi.String(token)})
		if err != nil {
			return err
		}
		a.Logfire = secret
		ratio := 0.1
		a.LogfireSampleRatio, a.LogfireScrub = &ratio, true
		a.SecretsExtensionLayerARN = "arn:aws:lambda:eu-central-1:187925254637:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:17"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if where := m.ContainsClear(token); len(where) != 0 {
		t.Fatalf("the token appears in clear in %v", where)
	}
	fn := m.One(t, "aws:lambda/function:Function", "agent").Inputs
	if str(fn, "environment.variables.LOGFIRE_TOKEN_PARAMETER") != "/logfire/logfire-token" ||
		str(fn, "environment.variables.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT") != "2773" ||
		str(fn, "environment.variables.LOGFIRE_SAMPLE_RATIO") != "0.1" || str(fn, "environment.variables.LOGFIRE_SCRUB") != "true" ||
		str(fn, "layers.0") != "arn:aws:lambda:eu-central-1:187925254637:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:17" {
		t.Errorf("function %v", fn)
	}
	pol := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "agent-permissions").Inputs, "policy"))
	grants := statementsByAction(pol)
	if grants["ssm:GetParameter"] != "arn:aws:ssm:eu-west-1:123456789012:parameter/logfire/logfire-token" ||
		grants["kms:Decrypt"] != "arn:aws:kms:eu-west-1:123456789012:key/aws-ssm-managed-key" {
		t.Errorf("logfire grants %v", grants)
	}
	for _, s := range pol.Statement {
		if len(s.Action) == 1 && s.Action[0] == "kms:Decrypt" && s.Condition["StringEquals"]["kms:ViaService"] != "ssm.eu-west-1.amazonaws.com" {
			t.Errorf("kms:Decrypt is not limited to SSM: %+v", s)
		}
	}
}

// pulumiFilter keeps the component and its children, for parenting checks inside a larger program.
func pulumiFilter(m *pulumitest.Mocks, token, name string) *pulumitest.Mocks {
	out := &pulumitest.Mocks{}
	urn := pulumitest.ComponentURN(token, name)
	for _, r := range m.Resources() {
		if r.Parent == urn || (r.Type == token && r.Name == name) {
			out.Add(r)
		}
	}
	return out
}

func TestSealingAndOversizeWiring(t *testing.T) {
	var bucket *AuditBucket
	var key *SigningKey
	m, _, err := functionStack(t, func(ctx *pulumi.Context, a *AgentFunctionArgs) error {
		var err error
		if bucket, err = NewAuditBucket(ctx, "audit", nil); err != nil {
			return err
		}
		if key, err = NewSigningKey(ctx, "signing", nil); err != nil {
			return err
		}
		a.SigningKeyARN, a.OversizeBucket = key.KeyARN, bucket
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keyARN, bucketARN, bucketKeyARN := pulumitest.AwaitString(t, key.KeyARN), pulumitest.AwaitString(t, bucket.BucketARN), pulumitest.AwaitString(t, bucket.KeyARN)
	fn := m.One(t, "aws:lambda/function:Function", "agent").Inputs
	for name, want := range map[string]string{
		"AUDIT_SIGNING_KEY_ID":  keyARN,
		"AUDIT_OVERSIZE_BUCKET": pulumitest.AwaitString(t, bucket.BucketName),
	} {
		if got := str(fn, "environment.variables."+name); got != want || want == "" {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	pol := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "agent-permissions").Inputs, "policy"))
	grants := statementsByAction(pol)
	want := map[string]string{
		"kms:Sign":            keyARN,
		"s3:PutObject":        bucketARN + "/oversize/*",
		"kms:GenerateDataKey": bucketKeyARN,
	}
	for a, res := range want {
		if grants[a] != res {
			t.Errorf("%s granted on %q, want %q only", a, grants[a], res)
		}
	}
	for a := range grants {
		if _, ok := want[a]; !ok && (strings.HasPrefix(a, "s3:") || strings.HasPrefix(a, "kms:")) {
			t.Errorf("%s granted: the function needs only kms:Sign, s3:PutObject and kms:GenerateDataKey", a)
		}
	}
	if len(grants) != 12 {
		t.Errorf("%d actions granted, want the 9 of a plain function and 3: %v", len(grants), grants)
	}
	for _, s := range pol.Statement {
		switch {
		case slices.Contains(s.Action, "kms:GenerateDataKey"):
			if len(s.Condition) != 1 || len(s.Condition["StringEquals"]) != 1 || s.Condition["StringEquals"]["kms:ViaService"] != "s3.eu-west-1.amazonaws.com" {
				t.Errorf("kms:GenerateDataKey is not limited to S3: %+v", s.Condition)
			}
		case slices.Contains(s.Action, "kms:Sign") || slices.Contains(s.Action, "s3:PutObject"):
			if len(s.Action) != 1 || len(s.Condition) != 0 {
				t.Errorf("%s: shares its statement or carries conditions: %+v", s.Sid, s)
			}
		}
	}
}
