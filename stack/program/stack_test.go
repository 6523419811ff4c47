package program

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/components"
	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

const testToken = "pylf_v1_eu_STACKTESTTOKEN0123456789abcdef"

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := components.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// exported is one resolved stack output.
type exported struct {
	value  string
	secret bool
}

// deploy runs the stack program (Deploy, what main runs) on the mocks with config (keys without the
// namespace) and the given secret keys, and resolves every stack output.
func deploy(t *testing.T, config map[string]string, secret ...string) (*pulumitest.Mocks, map[string]exported, error) {
	t.Helper()
	return deployAs(t, pulumitest.Stack, config, secret...)
}

// deployAs is deploy for the stack named stack.
func deployAs(t *testing.T, stack string, config map[string]string, secret ...string) (*pulumitest.Mocks, map[string]exported, error) {
	t.Helper()
	full := map[string]string{}
	for k, v := range config {
		full[Namespace+":"+k] = v
	}
	b, _ := json.Marshal(full)
	t.Setenv("PULUMI_CONFIG", string(b))
	var keys []string
	for _, k := range secret {
		keys = append(keys, Namespace+":"+k)
	}
	kb, _ := json.Marshal(keys)
	t.Setenv("PULUMI_CONFIG_SECRET_KEYS", string(kb))

	m := &pulumitest.Mocks{}
	var out *Outputs
	err := pulumitest.RunStack(m, stack, func(ctx *pulumi.Context) error {
		var err error
		out, err = Deploy(ctx, moduleRoot(t))
		return err
	})
	if err != nil {
		return m, nil, err
	}
	outputs := map[string]exported{}
	for name, o := range out.Exports() {
		v, s := pulumitest.AwaitSecret(t, o)
		outputs[name] = exported{v, s}
	}
	return m, outputs, nil
}

func TestTheStackComposesEverything(t *testing.T) {
	m, outs, err := deploy(t, map[string]string{"alertEmail": "ops@example.com", "auditRetentionDays": "365", "objectLockMode": "COMPLIANCE"})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range m.Resources() {
		count[r.Type]++
	}
	for token, n := range map[string]int{
		"agent-audit:index:AuditBucket": 1, "agent-audit:index:AuditFirehose": 1, "agent-audit:index:AgentModel": 1,
		"agent-audit:index:AgentFunction": 1, "agent-audit:index:UsageAlarm": 1, "agent-audit:index:OperatorRole": 1,
		"agent-audit:index:LogfireSecret": 0, "aws:ssm/parameter:Parameter": 0, "aws:lambda/function:Function": 2,
		"agent-audit:index:AuditQuery": 1, "agent-audit:index:SigningKey": 2, "agent-audit:index:DigestWriter": 1,
		"aws:scheduler/schedule:Schedule": 1,
	} {
		if count[token] != n {
			t.Errorf("%d %s, want %d", count[token], token, n)
		}
	}
	lock := m.One(t, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2", "agent-audit-dev-audit-object-lock").Inputs
	if pulumitest.Get(lock, "rule.defaultRetention.mode").StringValue() != "COMPLIANCE" || pulumitest.Get(lock, "rule.defaultRetention.days").NumberValue() != 365 {
		t.Errorf("object lock %v", lock)
	}
	fn := m.One(t, "aws:lambda/function:Function", "agent-audit-dev").Inputs
	// The real function, built by the program for provided.al2023 on arm64.
	pulumitest.AssertLambdaArchive(t, pulumitest.Get(fn, "code").ArchiveValue().Path)
	if pulumitest.Get(fn, "environment.variables.FIREHOSE_DELIVERY_STREAM").StringValue() != "agent-audit-dev-audit-stream" {
		t.Errorf("the function does not ship to the stack's stream: %v", pulumitest.Get(fn, "environment.variables"))
	}
	// The function seals with the stack's signing key and stores oversize content in the audit bucket.
	signingKeyARN := "arn:aws:kms:eu-west-1:123456789012:key/key-agent-audit-dev-signing"
	if got := pulumitest.Get(fn, "environment.variables.AUDIT_SIGNING_KEY_ID").StringValue(); got != signingKeyARN {
		t.Errorf("AUDIT_SIGNING_KEY_ID = %q, want the stack's signing key %s", got, signingKeyARN)
	}
	if got := pulumitest.Get(fn, "environment.variables.AUDIT_OVERSIZE_BUCKET").StringValue(); got != "agent-audit-dev-audit" {
		t.Errorf("AUDIT_OVERSIZE_BUCKET = %q, want the audit bucket", got)
	}
	key := m.One(t, "aws:kms/key:Key", "agent-audit-dev-signing").Inputs
	if pulumitest.Get(key, "customerMasterKeySpec").StringValue() != "ECC_NIST_P256" || pulumitest.Get(key, "keyUsage").StringValue() != "SIGN_VERIFY" {
		t.Errorf("the signing key is not an ECC_NIST_P256 SIGN_VERIFY key: %v", key)
	}
	// The signing key's policy is attached once the function's role exists, and names that role.
	attached := m.One(t, "aws:kms/keyPolicy:KeyPolicy", "agent-audit-dev-signing-policy").Inputs
	if got := pulumitest.Get(attached, "keyId").StringValue(); got != "key-agent-audit-dev-signing" {
		t.Errorf("the signing key policy is attached to %q, want the signing key", got)
	}
	if p := pulumitest.Get(attached, "policy").StringValue(); !strings.Contains(p, `"arn:aws:iam::123456789012:role/agent-audit-dev-role"`) {
		t.Errorf("the signing key policy does not name the function's role: %s", p)
	}
	// The digest Lambda, the real one built for arm64, digests the stack's audit bucket with its own key every
	// 5 minutes; the people who read the trail may read that key's public half.
	digester := m.One(t, "aws:lambda/function:Function", "agent-audit-dev-digest").Inputs
	pulumitest.AssertLambdaArchive(t, pulumitest.Get(digester, "code").ArchiveValue().Path)
	digestKeyARN := "arn:aws:kms:eu-west-1:123456789012:key/key-agent-audit-dev-digest-key"
	for name, want := range map[string]string{
		"AUDIT_DIGEST_BUCKET": "agent-audit-dev-audit", "AUDIT_DIGEST_SIGNING_KEY_ID": digestKeyARN, "AUDIT_DIGEST_PERIOD": "5m0s",
	} {
		if got := pulumitest.Get(digester, "environment.variables."+name).StringValue(); got != want {
			t.Errorf("digest Lambda %s = %q, want %q", name, got, want)
		}
	}
	if got := pulumitest.Get(m.One(t, "aws:scheduler/schedule:Schedule", "agent-audit-dev-digest-schedule").Inputs, "scheduleExpression").StringValue(); got != "rate(5 minutes)" {
		t.Errorf("the digest schedule is %q, want rate(5 minutes)", got)
	}
	digestPolicy := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:kms/keyPolicy:KeyPolicy", "agent-audit-dev-digest-key-policy").Inputs, "policy"))
	readers := map[string][]string{}
	for _, st := range digestPolicy.Statement {
		readers[st.Sid] = st.Principal["AWS"]
	}
	if want := []string{"arn:aws:iam::123456789012:role/agent-audit-dev-operator", "arn:aws:iam::123456789012:role/agent-audit-dev-query-analyst"}; !slices.Equal(readers["ReadPublicKey"], want) {
		t.Errorf("the digest key's public key is readable by %v, want the operator and the analyst", readers["ReadPublicKey"])
	}
	// Every export, and each is the attribute of the resource the README's commands expect.
	want := map[string]string{
		"auditBucket":         "agent-audit-dev-audit",
		"auditKeyArn":         "arn:aws:kms:eu-west-1:123456789012:key/key-" + m.ByType("aws:kms/key:Key")[0].Name,
		"firehoseStream":      "agent-audit-dev-audit-stream",
		"functionName":        "agent-audit-dev",
		"functionArn":         "arn:aws:lambda:eu-west-1:123456789012:function:agent-audit-dev",
		"inferenceProfileArn": "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/agent-audit-dev-model-id",
		"alarmTopicArn":       "arn:aws:sns:eu-west-1:123456789012:" + m.ByType("aws:sns/topic:Topic")[0].Name,
		"operatorRoleArn":     "arn:aws:iam::123456789012:role/agent-audit-dev-operator",
		"athenaWorkgroup":     "agent-audit-dev-query",
		"athenaDatabase":      "agent_audit_dev",
		"analystRoleArn":      "arn:aws:iam::123456789012:role/agent-audit-dev-query-analyst",
		"signingKeyArn":       signingKeyARN,
		// What the mock's GetPublicKey answers for that key: a real P-256 public key in PEM.
		"signingPublicKeyPem": pulumitest.MockPublicKeyPEM(signingKeyARN),
		"digestKeyArn":        digestKeyARN,
		"digestPublicKeyPem":  pulumitest.MockPublicKeyPEM(digestKeyARN),
	}
	if len(outs) != len(want) {
		t.Errorf("%d outputs, want %d (no logfireParameter without a token): %v", len(outs), len(want), outs)
	}
	for k, v := range want {
		if got, ok := outs[k]; !ok || got.value != v || got.secret {
			t.Errorf("output %s = %+v, want %q in clear", k, got, v)
		}
	}
}

func TestLogfireExistsExactlyWhenATokenIsSetAndNeverInClear(t *testing.T) {
	m, outs, err := deploy(t, map[string]string{"alertEmail": "ops@example.com", "logfireToken": testToken, "logfireSampleRatio": "0.01"}, "logfireToken")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ByType("agent-audit:index:LogfireSecret")) != 1 || len(m.ByType("aws:ssm/parameter:Parameter")) != 1 {
		t.Fatal("no Logfire secret with a token set")
	}
	if where := m.ContainsClear(testToken); len(where) != 0 {
		t.Fatalf("token in clear in %v", where)
	}
	for k, v := range outs {
		if strings.Contains(v.value, testToken) {
			t.Fatalf("output %s carries the token", k)
		}
	}
	fn := m.One(t, "aws:lambda/function:Function", "agent-audit-dev").Inputs
	if pulumitest.Get(fn, "environment.variables.LOGFIRE_SAMPLE_RATIO").StringValue() != "0.01" {
		t.Errorf("sample ratio %v", pulumitest.Get(fn, "environment.variables.LOGFIRE_SAMPLE_RATIO"))
	}
	if len(outs) != 16 {
		t.Errorf("%d outputs with a token, want the fifteen plus logfireParameter: %v", len(outs), outs)
	}
	param := outs["logfireParameter"]
	if pulumitest.Get(fn, "environment.variables.LOGFIRE_TOKEN_PARAMETER").StringValue() != param.value || param.value == "" {
		t.Errorf("function env %v, output %+v", pulumitest.Get(fn, "environment.variables"), param)
	}

	_, _, err = deploy(t, map[string]string{"alertEmail": "ops@example.com", "logfireToken": testToken})
	if err == nil || !strings.Contains(err.Error(), "pulumi config set --secret logfireToken") || strings.Contains(err.Error(), testToken) {
		t.Fatalf("a token stored in clear: error %v", err)
	}
}

func TestTheExtensionLayerIsAttachedOnlyWithALogfireToken(t *testing.T) {
	const layer = "arn:aws:lambda:eu-west-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:17"
	for _, tc := range []struct {
		name   string
		config map[string]string
		secret []string
		want   bool
	}{
		{"with a token the layer is attached", map[string]string{"alertEmail": "ops@example.com", "logfireToken": testToken, "secretsExtensionLayerArn": layer}, []string{"logfireToken"}, true},
		{"without a token it is not: it would cost cold start for nothing", map[string]string{"alertEmail": "ops@example.com", "secretsExtensionLayerArn": layer}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := deploy(t, tc.config, tc.secret...)
			if err != nil {
				t.Fatal(err)
			}
			fn := m.One(t, "aws:lambda/function:Function", "agent-audit-dev").Inputs
			layers := pulumitest.Get(fn, "layers")
			attached := layers.IsArray() && len(layers.ArrayValue()) == 1 && layers.ArrayValue()[0].StringValue() == layer
			port := pulumitest.Get(fn, "environment.variables.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
			if attached != tc.want || port.IsString() != tc.want {
				t.Errorf("layers %v, extension port %v; want attached %v", layers, port, tc.want)
			}
		})
	}
}

func TestAthenaIsOnByDefaultAndOffByConfig(t *testing.T) {
	tests := []struct {
		name   string
		athena string
		want   bool
	}{
		{"unset provisions Athena", "", true},
		{"true provisions Athena", "true", true},
		{"false leaves Athena out", "false", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := map[string]string{"alertEmail": "ops@example.com"}
			if tt.athena != "" {
				config["athena"] = tt.athena
			}
			m, outs, err := deploy(t, config)
			if err != nil {
				t.Fatal(err)
			}
			n := len(m.ByType("agent-audit:index:AuditQuery"))
			glueTables := len(m.ByType("aws:glue/catalogTable:CatalogTable"))
			if (n == 1 && glueTables == 2) != tt.want || (n == 0 && glueTables == 0) == tt.want {
				t.Fatalf("%d AuditQuery, %d Glue tables, want Athena %v", n, glueTables, tt.want)
			}
			want := map[string]string{
				"athenaWorkgroup": "agent-audit-dev-query", "athenaDatabase": "agent_audit_dev",
				"analystRoleArn": "arn:aws:iam::123456789012:role/agent-audit-dev-query-analyst",
			}
			for k, v := range want {
				if got, ok := outs[k]; ok != tt.want || (tt.want && (got.value != v || got.secret)) {
					t.Errorf("output %s = %+v (exported %v), want %q in clear exported %v", k, got, ok, v, tt.want)
				}
			}
			if !tt.want {
				return
			}
			table := m.One(t, "aws:glue/catalogTable:CatalogTable", "agent-audit-dev-query-table").Inputs
			if got := pulumitest.Get(table, "storageDescriptor.location").StringValue(); got != "s3://agent-audit-dev-audit/traces/" {
				t.Errorf("the table reads %q, not the stack's audit bucket", got)
			}
		})
	}
	_, _, err := deploy(t, map[string]string{"alertEmail": "ops@example.com", "athena": "sometimes"})
	if err == nil || !strings.Contains(err.Error(), "agent-audit:athena") {
		t.Errorf("athena=sometimes: error %v", err)
	}
}

func TestConfigErrorsNameEveryBadKey(t *testing.T) {
	_, _, err := deploy(t, map[string]string{
		"auditRetentionDays": "seven", "objectLockMode": "STRICT", "dailyTokenAlarmThreshold": "0",
		"firehoseBufferMb": "500", "captureContent": "maybe", "lambdaMemoryMb": "64", "logfireSampleRatio": "1.5",
		"digestPeriodMinutes": "7",
	})
	if err == nil {
		t.Fatal("accepted a broken configuration")
	}
	for _, key := range []string{"alertEmail", "auditRetentionDays", "objectLockMode", "dailyTokenAlarmThreshold", "firehoseBufferMb", "captureContent", "lambdaMemoryMb", "logfireSampleRatio", "digestPeriodMinutes"} {
		if !strings.Contains(err.Error(), "agent-audit:"+key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
}

// signingKeyCreationActions and signingKeyAttachedActions are every action a signing key's creation and attached
// policies name (each on "*", meaning the key): administration, and in the attached one signing and verifying.
var (
	signingKeyCreationActions = []string{
		"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey", "kms:EnableKey",
		"kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:GetPublicKey", "kms:ListGrants", "kms:ListKeyPolicies",
		"kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource",
		"kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
	}
	signingKeyAttachedActions = append(slices.Clone(signingKeyCreationActions), "kms:Sign", "kms:Verify")
)

// wildcardExceptions are the only wildcards an Allow statement may hold. Each names the policy it may appear in
// (a substring of "<type> <name> <input>", empty for any), the exact actions, the resource (a prefix when it
// ends in "…"), and why.
var wildcardExceptions = []struct {
	where    string
	actions  []string
	resource string
	reason   string
}{
	{"aws:iam/rolePolicy:RolePolicy agent-audit-dev-permissions policy", []string{"aws-marketplace:Subscribe", "aws-marketplace:ViewSubscriptions"}, "*",
		"Marketplace subscription actions are defined on no resource type: * is the only resource they accept (Subscribe is limited to the model's product by aws-marketplace:ProductId); only the function, which calls the model first, has them"},
	{"", []string{"bedrock:InvokeModel"}, "arn:aws:bedrock:*::foundation-model/…",
		"the inference profile routes across regions, so the foundation model's region is a wildcard"},
	{"aws:kms/key:Key", []string{"kms:*"}, "*",
		"the key policy delegates to IAM in the account; in a key policy, * means this key"},
	{"aws:kms/key:Key agent-audit-dev-signing policy", signingKeyCreationActions, "*", "the signing key's creation policy (administration only): in a key policy, * means this key"},
	{"aws:kms/keyPolicy:KeyPolicy agent-audit-dev-signing-policy policy", signingKeyAttachedActions, "*", "the signing key's attached policy: in a key policy, * means this key (who may Sign is proven by TestTheTrailIsLeastPrivilege)"},
	{"aws:kms/key:Key agent-audit-dev-digest-key policy", signingKeyCreationActions, "*", "the digest key's creation policy (administration only): in a key policy, * means this key"},
	{"aws:kms/keyPolicy:KeyPolicy agent-audit-dev-digest-key-policy policy", signingKeyAttachedActions, "*", "the digest key's attached policy: in a key policy, * means this key (who may Sign is proven by TestTheTrailIsLeastPrivilege)"},
	{"aws:iam/rolePolicy:RolePolicy agent-audit-dev-permissions policy", []string{"s3:PutObject"}, "arn:aws:s3:::agent-audit-dev-audit/oversize/*",
		"the function stores oversize content: the audit bucket's oversize/ prefix only"},
	{"aws:iam/rolePolicy:RolePolicy agent-audit-dev-digest-permissions policy", []string{"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"},
		"arn:aws:s3:::agent-audit-dev-audit/digests/*",
		"the digest writer reads the digests before it and writes the next: the audit bucket's digests/ prefix only"},
	{"aws:iam/rolePolicy:RolePolicy", []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*",
		"X-Ray's trace upload actions accept only *"},
	{"aws:iam/rolePolicy:RolePolicy agent-audit-dev-audit-stream-delivery policy", []string{"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"}, "arn:aws:s3:::agent-audit-dev-audit/traces/*",
		"Firehose writes records under traces/ (the S3-destination actions of the Firehose developer guide)"},
	{"aws:iam/rolePolicy:RolePolicy agent-audit-dev-audit-stream-delivery policy", []string{"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"}, "arn:aws:s3:::agent-audit-dev-audit/errors/*",
		"Firehose writes records it could not deliver under errors/"},
	{"aws:iam/rolePolicy:RolePolicy", []string{"logs:PutLogEvents", "logs:CreateLogStream"}, "arn:aws:logs:…:*",
		"<log group>:* is the one log group's streams"},
	{"-query-analyst-read", []string{"s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectVersion"}, "arn:aws:s3:::agent-audit-dev-audit/traces/*",
		"the analyst reads the audit records, their versions and retention (audit verify): every object under the one bucket's traces/ prefix, nothing else"},
	{"-query-analyst-read", []string{"s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectVersion"}, "arn:aws:s3:::agent-audit-dev-audit/oversize/*",
		"the analyst reads the oversize content the records reference, its versions and retention: every object under oversize/, nothing else"},
	{"-query-analyst-read", []string{"s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectVersion"}, "arn:aws:s3:::agent-audit-dev-audit/digests/*",
		"the analyst reads the digests audit verify walks, their versions and retention: every object under digests/, nothing else"},
	{"-query-analyst-read", []string{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
		"arn:aws:s3:::agent-audit-dev-query-results/*", "Athena writes and reads query results: the results bucket's objects only"},
}

// exception tells whether a wildcard in action or resource is a documented exception.
func exception(where, action, resource string) bool {
	for _, e := range wildcardExceptions {
		if !strings.Contains(where, e.where) || !slices.Contains(e.actions, action) {
			continue
		}
		prefix, suffix, isPattern := strings.Cut(e.resource, "…")
		switch {
		case !isPattern && resource == e.resource:
			return true
		case isPattern && strings.HasPrefix(resource, prefix) && strings.HasSuffix(resource, suffix) &&
			strings.Count(resource, "*") == strings.Count(e.resource, "*"):
			return true
		}
	}
	return false
}

// TestEveryIAMPolicyIsLeastPrivilege walks every policy document in the stack (with and without Logfire) and
// fails on any wildcard that is not a documented exception. Deny statements may use wildcards: they only remove
// permissions.
func TestEveryIAMPolicyIsLeastPrivilege(t *testing.T) {
	m, _, err := deploy(t, map[string]string{"alertEmail": "ops@example.com", "logfireToken": testToken,
		"secretsExtensionLayerArn": "arn:aws:lambda:eu-west-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:17"}, "logfireToken")
	if err != nil {
		t.Fatal(err)
	}
	// The walk sees only documents written in the stack: a managed policy's document lives in AWS, so none may
	// be attached.
	for _, r := range m.Resources() {
		managed := pulumitest.Get(r.Inputs, "managedPolicyArns")
		attachment := strings.HasPrefix(r.Type, "aws:iam/") && strings.Contains(r.Type, "Attachment")
		if attachment || managed.IsArray() && len(managed.ArrayValue()) != 0 {
			t.Errorf("%s %s attaches a managed policy the walk cannot read", r.Type, r.Name)
		}
	}
	policies := m.PolicyInputs()
	var where []string
	for w := range policies {
		where = append(where, w)
	}
	sort.Strings(where)
	// Six trust policies, six role policies (function, Firehose, operator, analyst, digest writer, its schedule),
	// six key policies (audit, query results, and the creation and attached policies of the signing key and of
	// the digest key), two bucket policies (audit and query results) and the alarm topic's policy.
	if len(policies) != 21 {
		t.Fatalf("found %d policy documents, want 21: %v", len(policies), where)
	}
	for _, w := range where {
		p := pulumitest.ParsePolicy(t, policies[w])
		for _, s := range p.Statement {
			if s.Effect != "Allow" {
				continue
			}
			for _, principals := range s.Principal {
				for _, pr := range principals {
					if strings.Contains(pr, "*") {
						t.Errorf("%s: Allow to wildcard principal %q", w, pr)
					}
				}
			}
			for _, a := range s.Action {
				for _, r := range s.Resource {
					if (strings.Contains(a, "*") || strings.Contains(r, "*")) && !exception(w, a, r) {
						t.Errorf("%s: %s on %q is a wildcard with no documented exception", w, a, r)
					}
				}
			}
		}
	}
}

func TestDigestPeriodMinutesReachesTheSchedule(t *testing.T) {
	m, _, err := deploy(t, map[string]string{"alertEmail": "ops@example.com", "digestPeriodMinutes": "15"})
	if err != nil {
		t.Fatal(err)
	}
	if got := pulumitest.Get(m.One(t, "aws:scheduler/schedule:Schedule", "agent-audit-dev-digest-schedule").Inputs, "scheduleExpression").StringValue(); got != "rate(15 minutes)" {
		t.Errorf("schedule %q, want rate(15 minutes)", got)
	}
	if got := pulumitest.Get(m.One(t, "aws:lambda/function:Function", "agent-audit-dev-digest").Inputs, "environment.variables.AUDIT_DIGEST_PERIOD").StringValue(); got != "15m0s" {
		t.Errorf("AUDIT_DIGEST_PERIOD = %q, want 15m0s", got)
	}
	for _, bad := range []string{"0", "61", "7", "five"} {
		if _, _, err := deploy(t, map[string]string{"alertEmail": "ops@example.com", "digestPeriodMinutes": bad}); err == nil || !strings.Contains(err.Error(), "agent-audit:digestPeriodMinutes") {
			t.Errorf("digestPeriodMinutes %s: error %v", bad, err)
		}
	}
}
