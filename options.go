package agentaudit

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"

	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/seal"
)

// Option sets what the user's code supplies (the agent's tools, name, prompt and model settings) or replaces a
// part New would otherwise build from the Config (the model, the sink, the AWS configuration).
type Option func(*options)

type options struct {
	tools        []agent.Tool
	agentName    string
	systemPrompt string
	settings     ModelSettings
	model        agent.Model
	sink         audit.Sink
	awsCfg       *aws.Config
	logger       *slog.Logger
	ownLogger    bool // WithLogger was given
	resource     *sdkresource.Resource
	localOpt     []audit.LocalOption
	procOpt      []audit.Option
	sealOpt      []seal.Option
}

// ModelSettings are the agent's model settings. InferenceProfileARN and ModelName are defaults that
// BEDROCK_INFERENCE_PROFILE_ARN and BEDROCK_MODEL_ID override; the rest is sent with every model call and
// recorded on every chat span (gen_ai.request.*). New's error names every setting out of range.
type ModelSettings struct {
	// InferenceProfileARN is the Bedrock application inference profile ARN, Converse's model id.
	InferenceProfileARN string
	// ModelName is the logical model name: span "chat {ModelName}", gen_ai.request.model.
	ModelName string
	// MaxTokens bounds each answer (0: agent.DefaultMaxTokens, 1024).
	MaxTokens int
	// Temperature and TopP are the sampling settings, each 0..1 (nil: the model's default).
	Temperature, TopP *float64
	// StopSequences end an answer at any of them.
	StopSequences []string
	// ReasoningBudgetTokens turns on Claude's extended thinking with this many tokens for it: at least
	// agent.MinReasoningBudgetTokens (1,024) and less than MaxTokens, without Temperature or TopP (0: off). The
	// reasoning blocks go back to the model unchanged on every later turn of a run, count in the output tokens,
	// and with content capture on are recorded as reasoning parts of the chat spans' messages.
	ReasoningBudgetTokens int
}

// WithTools offers tools to the model, in addition to those of earlier WithTools options. Names must be unique;
// New's error names every bad tool. NewTool makes one from a Go function. Without tools the model only answers.
func WithTools(tools ...agent.Tool) Option {
	return func(o *options) { o.tools = append(o.tools, tools...) }
}

// WithAgentName names the agent (span "invoke_agent {name}", gen_ai.agent.name) unless AGENT_NAME does; default
// DefaultAgentName.
func WithAgentName(name string) Option { return func(o *options) { o.agentName = name } }

// WithSystemPrompt sets the system prompt unless AGENT_SYSTEM_PROMPT does; default none.
func WithSystemPrompt(prompt string) Option { return func(o *options) { o.systemPrompt = prompt } }

// WithModelSettings sets the model settings (see ModelSettings for which the environment overrides).
func WithModelSettings(s ModelSettings) Option { return func(o *options) { o.settings = s } }

// WithModel replaces the model the configuration would build (AGENT_MODEL): the user's own agent.Model, a
// scripted offline model in tests, or a Bedrock client on a test peer. The ModelSettings other than the profile
// ARN still apply.
func WithModel(m agent.Model) Option { return func(o *options) { o.model = m } }

// WithSink replaces the sink the configuration would build (FIREHOSE_DELIVERY_STREAM or AUDIT_LOCAL_ROOT):
// agentaudittest.MemorySink in tests. Oversize content and sealing still follow the configuration.
func WithSink(s audit.Sink) Option { return func(o *options) { o.sink = s } }

// WithAWSConfig uses cfg for AWS clients instead of the one Lambda's environment describes (see package awsenv);
// a local run passes config.LoadDefaultConfig's, to use the default credential chain.
func WithAWSConfig(cfg aws.Config) Option { return func(o *options) { o.awsCfg = &cfg } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger, o.ownLogger = l, l != nil }
}

// WithResource sets the OTel resource (default telemetry.Resource of the Lambda environment).
func WithResource(r *sdkresource.Resource) Option { return func(o *options) { o.resource = r } }

// WithLocalSinkOptions passes options to the local directory sink when LocalRoot is configured.
func WithLocalSinkOptions(opts ...audit.LocalOption) Option {
	return func(o *options) { o.localOpt = append(o.localOpt, opts...) }
}

// WithProcessorOptions passes options to the audit processor.
func WithProcessorOptions(opts ...audit.Option) Option {
	return func(o *options) { o.procOpt = append(o.procOpt, opts...) }
}

// WithSealerOptions passes options to the Sealer (when a signing key is configured): its validity, certify wait
// and retry backoff.
func WithSealerOptions(opts ...seal.Option) Option {
	return func(o *options) { o.sealOpt = append(o.sealOpt, opts...) }
}

func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}

// fill completes cfg with the options' values where cfg leaves them empty, then with the defaults.
func (o options) fill(cfg Config) Config {
	first := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	cfg.AgentName = first(cfg.AgentName, o.agentName, DefaultAgentName)
	cfg.SystemPrompt = first(cfg.SystemPrompt, o.systemPrompt)
	cfg.InferenceProfileARN = first(cfg.InferenceProfileARN, o.settings.InferenceProfileARN)
	cfg.ModelName = first(cfg.ModelName, o.settings.ModelName)
	if cfg.Model == ModelOffline && cfg.ModelName == "" {
		cfg.ModelName = DefaultOfflineModelName
	}
	return cfg
}

// parts says which parts the options supply.
func (o options) parts() parts {
	return parts{model: o.model != nil, sink: o.sink != nil}
}
