package agentaudit

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"go.opentelemetry.io/otel/attribute"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/awsenv"
	"github.com/agent-audit/agent-audit/function/awsjson"
	"github.com/agent-audit/agent-audit/function/awss3"
	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/function/logfire"
	"github.com/agent-audit/agent-audit/function/telemetry"
)

// tracerName is the instrumentation scope of the agent's spans.
const tracerName = "github.com/agent-audit/agent-audit/function/agent"

// lastChanceFlushTimeout bounds the SIGTERM flush: Lambda allows about 500 ms between SIGTERM and SIGKILL.
const lastChanceFlushTimeout = 400 * time.Millisecond

// Function is an assembled audited agent function: pass it to lambda.Start, or let Start do it. Its Invoke is
// the per-invocation protocol (see the package documentation); it is safe for concurrent use. It embeds its
// Trail: Processor and LastChanceFlush are the Trail's.
type Function struct {
	*Trail
	// Handler serves invocations (it implements aws-lambda-go's lambda.Handler).
	Handler *handler.Handler
	// Provider is the tracer provider all spans start from. It samples every span (AlwaysSample), whatever a
	// caller's traceparent says: the audit copy is never sampled.
	Provider *sdktrace.TracerProvider
}

var _ lambda.Handler = (*Function)(nil)

// New validates cfg together with opts and assembles the function: a value set in cfg wins over the Option's
// (see Config). The error names every bad or missing setting. Unless WithAWSConfig gives one, the AWS
// configuration is read from Lambda's environment with awsenv.Config, only when a Bedrock model, a Firehose sink,
// an S3 oversize store, a KMS signing key or the Logfire token's SSM read needs it, so
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_ENDPOINT_URL_FIREHOSE and the other variables awsenv lists apply.
func New(ctx context.Context, cfg Config, opts ...Option) (*Function, error) {
	o := newOptions(opts)
	cfg = o.fill(cfg)
	if err := cfg.validate(o.parts()); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}

	loadAWS := awsLoader(o)

	model := o.model
	if model == nil {
		m, err := buildModel(cfg, loadAWS)
		if err != nil {
			return nil, err
		}
		model = m
	}
	trail, err := newTrail(ctx, cfg, o, loadAWS)
	if err != nil {
		return nil, err
	}
	provider := trail.NewTracerProvider()

	tools, err := agent.NewRegistry(o.tools...)
	if err != nil {
		return nil, fmt.Errorf("build tool registry: %w", err)
	}
	a, err := agent.New(model, tools, agent.Config{
		Name:                  cfg.AgentName,
		SystemPrompt:          cfg.SystemPrompt,
		MaxTurns:              cfg.MaxTurns,
		MaxTokens:             o.settings.MaxTokens,
		Temperature:           o.settings.Temperature,
		TopP:                  o.settings.TopP,
		StopSequences:         o.settings.StopSequences,
		ReasoningBudgetTokens: o.settings.ReasoningBudgetTokens,
		CaptureContent:        cfg.CaptureContent,
		Tracer:                provider.Tracer(tracerName),
	})
	if err != nil {
		return nil, fmt.Errorf("build agent: %w", err)
	}
	return &Function{Trail: trail, Handler: trail.handler(a), Provider: provider}, nil
}

// awsLoader reads the AWS configuration once, when a part first needs it: WithAWSConfig's, else the one Lambda's
// environment describes (awsenv.Config: no credential chain is linked, see docs/performance.md).
func awsLoader(o options) func() (aws.Config, error) {
	return func() (aws.Config, error) {
		if o.awsCfg != nil {
			return *o.awsCfg, nil
		}
		c, err := awsenv.Config(os.LookupEnv)
		if err != nil {
			return aws.Config{}, err
		}
		o.awsCfg = &c
		return c, nil
	}
}

// newTrail builds the audit half from cfg: sink, resource, seal, oversize store, processor and Logfire leg.
func newTrail(ctx context.Context, cfg Config, o options, loadAWS func() (aws.Config, error)) (*Trail, error) {
	sink := o.sink
	if sink == nil {
		s, err := buildSink(cfg, o, loadAWS)
		if err != nil {
			return nil, err
		}
		sink = s
	}

	res := o.resource
	if res == nil {
		r, err := telemetry.Resource(telemetry.ResourceConfigFromEnv())
		if err != nil {
			return nil, fmt.Errorf("build telemetry resource: %w", err)
		}
		res = r
	}
	// Every record says whether its content was captured, so a record without prompts is not taken for one
	// whose prompts were empty.
	res, err := sdkresource.Merge(res, sdkresource.NewSchemaless(attribute.Bool(audit.AttrContentCaptured, cfg.CaptureContent)))
	if err != nil {
		return nil, fmt.Errorf("build telemetry resource: %w", err)
	}
	ident := &lambdaIdentity{}
	sealer, err := buildSealer(ctx, cfg, o, loadAWS, ident)
	if err != nil {
		return nil, err
	}
	encOpts, err := buildEncoding(cfg, loadAWS)
	if err != nil {
		return nil, err
	}
	if sealer != nil {
		encOpts = append(encOpts, audit.WithSealer(sealer))
	}
	procOpts := append([]audit.Option{audit.WithLogger(o.logger), audit.WithEncoderOptions(encOpts...)}, o.procOpt...)
	proc := audit.NewProcessor(sink, procOpts...)
	processors := []sdktrace.SpanProcessor{proc}
	var legs []handler.Leg
	if cfg.Logfire != nil {
		leg, err := buildLogfire(*cfg.Logfire, o, loadAWS)
		if err != nil {
			return nil, err
		}
		processors, legs = append(processors, leg), append(legs, leg)
	}
	return &Trail{Processor: proc, processors: processors, legs: legs, resource: res, cfg: cfg, logger: o.logger, sealer: sealer, ident: ident}, nil
}

func buildModel(cfg Config, loadAWS func() (aws.Config, error)) (agent.Model, error) {
	if cfg.Model == ModelOffline {
		return agent.NewOfflineModel(), nil
	}
	awsCfg, err := loadAWS()
	if err != nil {
		return nil, err
	}
	m, err := agent.NewBedrockModel(awsjson.NewBedrockRuntime(awsCfg, nil), cfg.InferenceProfileARN, cfg.ModelName)
	if err != nil {
		return nil, fmt.Errorf("build Bedrock model: %w", err)
	}
	return m, nil
}

func buildSink(cfg Config, o options, loadAWS func() (aws.Config, error)) (audit.Sink, error) {
	if cfg.LocalRoot != "" {
		return audit.NewLocalDirSink(cfg.LocalRoot, o.localOpt...), nil
	}
	awsCfg, err := loadAWS()
	if err != nil {
		return nil, err
	}
	// The sink owns retries (within the invocation's deadline); awsjson.Firehose makes one attempt per call.
	return audit.NewFirehoseSink(awsjson.NewFirehose(awsCfg, nil), cfg.FirehoseStream), nil
}

// buildEncoding chooses where oversize content goes.
func buildEncoding(cfg Config, loadAWS func() (aws.Config, error)) ([]audit.EncoderOption, error) {
	switch {
	case cfg.LocalRoot != "":
		return []audit.EncoderOption{audit.WithOversizeStore(audit.NewLocalOversizeStore(cfg.LocalRoot))}, nil
	case cfg.OversizeBucket != "":
		awsCfg, err := loadAWS()
		if err != nil {
			return nil, err
		}
		client := awss3.New(awsCfg, nil, awss3.WithPathStyle(cfg.S3ForcePathStyle))
		return []audit.EncoderOption{audit.WithOversizeStore(audit.NewS3OversizeStore(client, cfg.OversizeBucket))}, nil
	}
	return nil, nil
}

// buildLogfire builds the live-view leg; the SSM client is only made when the extension does not read the token.
func buildLogfire(cfg logfire.Config, o options, loadAWS func() (aws.Config, error)) (*logfire.Leg, error) {
	var client logfire.ParameterAPI
	if cfg.ExtensionPort == 0 {
		awsCfg, err := loadAWS()
		if err != nil {
			return nil, err
		}
		client = logfire.NewSSMClient(awsCfg, nil)
	}
	leg, err := logfire.New(cfg, client, logfire.WithLogger(o.logger))
	if err != nil {
		return nil, fmt.Errorf("build the Logfire leg: %w", err)
	}
	return leg, nil
}

// Invoke implements lambda.Handler (Start passes the Function to lambda.StartWithOptions): the Trail's first
// invocation work, then Handler.
func (a *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	a.begin(ctx)
	return a.Handler.Invoke(ctx, payload)
}

// Shutdown stops the tracer provider, which shuts the audit processor down after shipping anything still
// buffered, then releases the seal chain (local runs; Lambda ends with SIGTERM instead).
func (a *Function) Shutdown(ctx context.Context) error {
	err := a.Provider.Shutdown(ctx)
	a.release()
	return err
}
