package components

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/agentenv"
)

// AgentFunction defaults.
const (
	DefaultFunctionPackage = "./function"
	DefaultModelName       = "claude-haiku-4-5"
	// DefaultAgentName is the runtime's own default agent name (agentenv.DefaultAgentName), what the function
	// calls itself when neither AgentName nor its code names it.
	DefaultAgentName = agentenv.DefaultAgentName
	// DefaultTimeoutSeconds matches the seed's function timeout; a run with a few model turns takes seconds.
	DefaultTimeoutSeconds = 60
	// DefaultMemoryMB is Lambda's smallest size (128 MB). The function peaks at about 19 MB for a typical run and
	// 58 MB for the largest trace it accepts, and spends a run waiting on Bedrock; Lambda bills memory × duration,
	// so 512 MB cost 4× as much for the same wait. The smaller CPU share (7.2% of a vCPU) costs a typical run a few
	// ms and a 2 MB trace 0.7 s (docs/performance.md, "Memory and cost").
	DefaultMemoryMB = 128
	// ExtensionHTTPPort is the Parameters and Secrets Lambda Extension's port when its layer is attached.
	ExtensionHTTPPort = agentenv.DefaultExtensionHTTPPort
	// OversizePrefix is where the function stores span content too large for one Firehose record, in the audit
	// bucket (agentenv.OversizePrefix): the only prefix it may write.
	OversizePrefix = agentenv.OversizePrefix
)

// AgentFunctionArgs configures an AgentFunction.
type AgentFunctionArgs struct {
	// Package is the Go main package to build, relative to ModuleRoot (default "./function").
	Package string
	// ModuleRoot is the Go module's directory (default: found by walking up from the working directory).
	ModuleRoot string
	// BuildDir receives bootstrap and bootstrap.zip (default: a directory under the OS temp dir per component).
	BuildDir string
	// Model is the agent's model. Required.
	Model *AgentModel
	// ModelName is the logical model name in span names (default "claude-haiku-4-5").
	ModelName string
	// Stream is the audit delivery stream. Required.
	Stream *AuditFirehose
	// AgentName names the agent in span names, `invoke_agent {name}` (AGENT_NAME; default: what the function's
	// code names it, else "agent-audit").
	AgentName string
	// SystemPrompt is the agent's system prompt (AGENT_SYSTEM_PROMPT; default: the function's code's prompt).
	SystemPrompt string
	// CaptureContent records prompts, outputs and tool arguments in the audit trail (nil means true).
	CaptureContent *bool
	// TimeoutSeconds bounds one invocation, 1–900 s (default 60): a run of a few model turns takes seconds, and
	// the function keeps AUDIT_SHIP_RESERVE of it to ship the trace.
	TimeoutSeconds int
	// MemoryMB is the function's memory, 128–10240 MB (default 128, DefaultMemoryMB). Lambda allots CPU and network
	// throughput in proportion to memory; more buys a faster audit path for large traces, not room.
	MemoryMB int
	// LogRetentionDays keeps the function's logs this long (default 30).
	LogRetentionDays int
	// Logfire wires the optional live view: read access to the token parameter, and its name in the environment.
	Logfire *LogfireSecret
	// LogfireSampleRatio is the share of traces sent to Logfire, 0–1 (nil means 1: every trace). The audit copy
	// always gets every trace.
	LogfireSampleRatio *float64
	// LogfireScrub redacts GenAI content and secret-looking values in the Logfire copy only.
	LogfireScrub bool
	// SecretsExtensionLayerARN attaches the AWS Parameters and Secrets Lambda Extension (its ARN differs by region
	// and version); the function then reads the token through it. Only with Logfire: the extension serves nothing
	// else, and an extension adds to every cold start, so setting it without Logfire is an error.
	SecretsExtensionLayerARN string
	// SigningKeyARN is the asymmetric KMS key that seals every audit record (a SigningKey's KeyARN), named by
	// AUDIT_SIGNING_KEY_ID. The role's policy allows kms:Sign on that key only; with a SigningKey, what actually
	// lets the role sign is the key policy SigningKey.AllowSigners attaches with this function's RoleARN. nil
	// leaves the records unsealed.
	SigningKeyARN pulumi.StringInput
	// OversizeBucket stores, under OversizePrefix, the content of spans too large for one Firehose record (the
	// audit bucket; objects inherit its default Object Lock retention). The role gets s3:PutObject on
	// <bucket>/oversize/* and nothing else on the bucket, plus kms:GenerateDataKey on the bucket's key through S3
	// only; AUDIT_OVERSIZE_BUCKET names it. nil: an oversize span fails its shipment.
	OversizeBucket *AuditBucket
}

// AgentFunction is the audited agent as a Lambda function, built from Go source by the program itself.
type AgentFunction struct {
	pulumi.ResourceState

	// FunctionName and FunctionARN identify the function (its name is the component's name).
	FunctionName pulumi.StringOutput
	FunctionARN  pulumi.StringOutput
	// RoleARN is the function's execution role.
	RoleARN pulumi.StringOutput
	// LogGroupName is /aws/lambda/<function name>, created before the function with the configured retention.
	LogGroupName pulumi.StringOutput
	// CodeSHA256 is the archive's base64 SHA-256: unchanged source, unchanged hash.
	CodeSHA256 pulumi.StringOutput
}

func (a *AgentFunctionArgs) resolve(name string) (AgentFunctionArgs, error) {
	out := AgentFunctionArgs{}
	if a != nil {
		out = *a
	}
	if out.Package == "" {
		out.Package = DefaultFunctionPackage
	}
	if out.ModelName == "" {
		out.ModelName = DefaultModelName
	}
	if out.TimeoutSeconds == 0 {
		out.TimeoutSeconds = DefaultTimeoutSeconds
	}
	if out.MemoryMB == 0 {
		out.MemoryMB = DefaultMemoryMB
	}
	if out.LogRetentionDays == 0 {
		out.LogRetentionDays = DefaultLogRetentionDays
	}
	if out.BuildDir == "" {
		out.BuildDir = filepath.Join(os.TempDir(), "agent-audit-build", name)
	}
	var errs []error
	if out.Model == nil {
		errs = append(errs, errors.New("Model: required"))
	}
	if out.Stream == nil {
		errs = append(errs, errors.New("Stream: required"))
	}
	if out.TimeoutSeconds < 1 || out.TimeoutSeconds > 900 {
		errs = append(errs, fmt.Errorf("TimeoutSeconds: %d is outside 1..900", out.TimeoutSeconds))
	}
	errs = append(errs, lambdaSettingErrors(out.MemoryMB, out.LogRetentionDays)...)
	if out.SecretsExtensionLayerARN != "" && out.Logfire == nil {
		errs = append(errs, errors.New("SecretsExtensionLayerARN: set without Logfire; the extension only serves the Logfire token and would add to every cold start"))
	}
	if r := out.LogfireSampleRatio; r != nil && (*r < 0 || *r > 1) {
		errs = append(errs, fmt.Errorf("LogfireSampleRatio: %v is outside 0..1", *r))
	}
	if err := resolveModuleRoot(&out.ModuleRoot); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// NewAgentFunction compiles Args.Package for linux/arm64 (it blocks for the `go build`; the first build of the
// real function takes tens of seconds), zips it deterministically and creates the function with its role, its
// inline permissions and its log group. Bad arguments give one error naming every bad field; a failed build
// gives the compiler's output.
func NewAgentFunction(ctx *pulumi.Context, name string, args *AgentFunctionArgs, opts ...pulumi.ResourceOption) (*AgentFunction, error) {
	cfg, err := args.resolve(name)
	if err != nil {
		return nil, fmt.Errorf("agent function %s: %w", name, err)
	}
	bundle, err := BuildBootstrap(ctx.Context(), cfg.ModuleRoot, cfg.Package, cfg.BuildDir)
	if err != nil {
		return nil, fmt.Errorf("agent function %s: %w", name, err)
	}
	c := &AgentFunction{}
	if err := ctx.RegisterComponentResource(typeToken("AgentFunction"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	base, err := newLambdaBase(ctx, name, cfg.LogRetentionDays, parent)
	if err != nil {
		return nil, err
	}
	env, logGroup, role := base.env, base.logGroup, base.role

	// Optional grants append their inputs after the four fixed ones; each remembers where its values start.
	inputs := []pulumi.StringInput{logGroup.Arn, cfg.Model.ProfileARN, cfg.Model.SystemProfileARN, cfg.Stream.StreamARN}
	at := func(in ...pulumi.StringInput) int {
		inputs = append(inputs, in...)
		return len(inputs) - len(in)
	}
	logfireAt, signingAt, oversizeAt := -1, -1, -1
	if cfg.Logfire != nil {
		logfireAt = at(cfg.Logfire.ParameterARN, cfg.Logfire.KeyARN)
	}
	if cfg.SigningKeyARN != nil {
		signingAt = at(cfg.SigningKeyARN)
	}
	if cfg.OversizeBucket != nil {
		oversizeAt = at(cfg.OversizeBucket.BucketARN, cfg.OversizeBucket.KeyARN)
	}
	policy := PolicyJSON(func(v []string) PolicyDocument {
		st := []PolicyStatement{
			{Sid: "WriteOwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{v[0] + ":*"}},
			// X-Ray defines these actions on no resource type: "*" is the only resource they accept.
			{Sid: "ActiveTracing", Effect: "Allow", Action: []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, Resource: []string{"*"}},
			{Sid: "ShipAuditRecords", Effect: "Allow", Action: []string{"firehose:PutRecord", "firehose:PutRecordBatch"}, Resource: []string{v[3]}},
		}
		st = append(st, cfg.Model.InvokeStatements(v[1], v[2])...)
		// The function is what calls the model first, so it alone completes the Marketplace subscription.
		st = append(st, cfg.Model.FirstUseStatements()...)
		if logfireAt >= 0 {
			st = append(st, cfg.Logfire.ReadStatements(v[logfireAt], v[logfireAt+1])...)
		}
		if signingAt >= 0 {
			st = append(st, SignStatement(v[signingAt]))
		}
		if oversizeAt >= 0 {
			st = append(st, oversizeStatements(env, v[oversizeAt], v[oversizeAt+1])...)
		}
		return PolicyDocument{Statement: st}
	}, inputs...)
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-permissions", &iam.RolePolicyArgs{Role: role.ID(), Policy: policy}, parent)
	if err != nil {
		return nil, err
	}

	vars, layers := functionEnv(cfg)

	fn, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Name:           pulumi.String(name),
		Role:           role.Arn,
		Runtime:        pulumi.String("provided.al2023"),
		Architectures:  pulumi.StringArray{pulumi.String("arm64")},
		Handler:        pulumi.String("bootstrap"),
		Code:           pulumi.NewFileArchive(bundle.ZipPath),
		SourceCodeHash: pulumi.String(bundle.SHA256),
		Timeout:        pulumi.Int(cfg.TimeoutSeconds),
		MemorySize:     pulumi.Int(cfg.MemoryMB),
		TracingConfig:  &lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		LoggingConfig:  &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("JSON"), LogGroup: logGroup.Name},
		Environment:    &lambda.FunctionEnvironmentArgs{Variables: vars},
		Layers:         layers,
	}, parent, pulumi.DependsOn([]pulumi.Resource{logGroup, rolePolicy}))
	if err != nil {
		return nil, err
	}
	c.FunctionName, c.FunctionARN, c.RoleARN, c.LogGroupName = fn.Name, fn.Arn, role.Arn, logGroup.Name
	c.CodeSHA256 = pulumi.String(bundle.SHA256).ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"functionName": c.FunctionName, "functionArn": c.FunctionARN, "roleArn": c.RoleARN,
		"logGroupName": c.LogGroupName, "codeSha256": c.CodeSHA256,
	})
}

// functionEnv is the function's environment and layers: the runtime's contract (package agentenv), which
// agentaudit.ConfigFromEnv reads back. Optional settings are written only when set, so the function's own
// defaults (its code's agent name and prompt) apply otherwise.
func functionEnv(cfg AgentFunctionArgs) (pulumi.StringMap, pulumi.StringArray) {
	vars := pulumi.StringMap{
		agentenv.FirehoseStream:      cfg.Stream.StreamName,
		agentenv.InferenceProfileARN: cfg.Model.ProfileARN,
		agentenv.ModelID:             pulumi.String(cfg.ModelName),
		agentenv.CaptureContent:      pulumi.String(strconv.FormatBool(cfg.CaptureContent == nil || *cfg.CaptureContent)),
	}
	if cfg.AgentName != "" {
		vars[agentenv.AgentName] = pulumi.String(cfg.AgentName)
	}
	if cfg.SystemPrompt != "" {
		vars[agentenv.SystemPrompt] = pulumi.String(cfg.SystemPrompt)
	}
	if cfg.SigningKeyARN != nil {
		vars[agentenv.SigningKeyID] = cfg.SigningKeyARN
	}
	if cfg.OversizeBucket != nil {
		vars[agentenv.OversizeBucket] = cfg.OversizeBucket.BucketName
	}
	var layers pulumi.StringArray
	if cfg.Logfire != nil {
		vars[agentenv.LogfireTokenParameter] = cfg.Logfire.ParameterName
		if cfg.LogfireSampleRatio != nil {
			vars[agentenv.LogfireSampleRatio] = pulumi.String(strconv.FormatFloat(*cfg.LogfireSampleRatio, 'g', -1, 64))
		}
		if cfg.LogfireScrub {
			vars[agentenv.LogfireScrub] = pulumi.String("true")
		}
	}
	if cfg.SecretsExtensionLayerARN != "" {
		layers = append(layers, pulumi.String(cfg.SecretsExtensionLayerARN))
		vars[agentenv.ExtensionHTTPPort] = pulumi.String(strconv.Itoa(ExtensionHTTPPort))
		vars[agentenv.ExtensionCacheSize] = pulumi.String("100")
	}
	return vars, layers
}

// oversizeStatements let the function store oversize content and nothing else in the audit bucket: s3:PutObject
// on <bucket>/oversize/* (no delete, no retention or legal hold, no bucket configuration, no read), and
// kms:GenerateDataKey on the bucket's key only when S3 asks for it, which SSE-KMS needs to encrypt the new object.
// A single PutObject needs no kms:Decrypt (only a multipart upload would).
func oversizeStatements(env awsEnv, bucketARN, keyARN string) []PolicyStatement {
	return []PolicyStatement{
		{Sid: "StoreOversizeContent", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{bucketARN + "/" + OversizePrefix + "*"}},
		{
			Sid: "EncryptOversizeContent", Effect: "Allow", Action: []string{"kms:GenerateDataKey"}, Resource: []string{keyARN},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "s3." + env.region + "." + env.dnsSuffix}},
		},
	}
}
