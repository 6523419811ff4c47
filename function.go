package agentaudit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/function/logfire"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/function/telemetry"
)

// tracerName is the instrumentation scope of the agent's spans.
const tracerName = "github.com/agent-audit/agent-audit/function/agent"

// lastChanceFlushTimeout bounds the SIGTERM flush: Lambda allows about 500 ms between SIGTERM and SIGKILL.
const lastChanceFlushTimeout = 400 * time.Millisecond

// Function is an assembled audited agent function: pass it to lambda.Start, or let Start do it. Its Invoke is
// the per-invocation protocol (see the package documentation); it is safe for concurrent use.
type Function struct {
	// Handler serves invocations (it implements aws-lambda-go's lambda.Handler).
	Handler *handler.Handler
	// Processor is the audit span processor; its ForceFlush ships anything still buffered.
	Processor *audit.Processor
	// Provider is the tracer provider all spans start from. It samples every span (AlwaysSample), whatever a
	// caller's traceparent says: the audit copy is never sampled.
	Provider *sdktrace.TracerProvider

	logger *slog.Logger
	sealer *seal.Sealer
	ident  *lambdaIdentity
	first  sync.Once
}

var _ lambda.Handler = (*Function)(nil)

// New validates cfg together with opts and assembles the function: a value set in cfg wins over the Option's
// (see Config). The error names every bad or missing setting. AWS configuration is loaded with
// config.LoadDefaultConfig only when a Bedrock model, a Firehose sink, an S3 oversize store, a KMS signing key or
// the Logfire token's SSM read needs it, so AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_ENDPOINT_URL_FIREHOSE and the
// rest of the standard variables apply.
func New(ctx context.Context, cfg Config, opts ...Option) (*Function, error) {
	o := newOptions(opts)
	cfg = o.fill(cfg)
	if err := cfg.validate(o.parts()); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}

	loadAWS := func() (aws.Config, error) {
		if o.awsCfg != nil {
			return *o.awsCfg, nil
		}
		c, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
		}
		o.awsCfg = &c
		return c, nil
	}

	model := o.model
	if model == nil {
		m, err := buildModel(cfg, loadAWS)
		if err != nil {
			return nil, err
		}
		model = m
	}
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
	provider := telemetry.NewTracerProvider(res, processors...)

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
	h := handler.New(a, proc, handler.Config{
		MaxPromptBytes: cfg.MaxPromptBytes,
		CaptureContent: cfg.CaptureContent,
		FailOpen:       cfg.FailOpen,
		ShipReserve:    cfg.ShipReserve,
		Legs:           legs,
	}, o.logger)
	return &Function{Handler: h, Processor: proc, Provider: provider, logger: o.logger, sealer: sealer, ident: ident}, nil
}

func buildModel(cfg Config, loadAWS func() (aws.Config, error)) (agent.Model, error) {
	if cfg.Model == ModelOffline {
		return agent.NewOfflineModel(), nil
	}
	awsCfg, err := loadAWS()
	if err != nil {
		return nil, err
	}
	m, err := agent.NewBedrockModel(bedrockruntime.NewFromConfig(awsCfg), cfg.InferenceProfileARN, cfg.ModelName)
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
	// The sink owns retries (within the invocation's deadline); the SDK's own retryer would multiply them.
	client := firehose.NewFromConfig(awsCfg, audit.NoSDKRetries)
	return audit.NewFirehoseSink(client, cfg.FirehoseStream), nil
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
		client := s3.NewFromConfig(awsCfg, func(so *s3.Options) { so.UsePathStyle = cfg.S3ForcePathStyle })
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
		client = ssm.NewFromConfig(awsCfg)
	}
	leg, err := logfire.New(cfg, client, logfire.WithLogger(o.logger))
	if err != nil {
		return nil, fmt.Errorf("build the Logfire leg: %w", err)
	}
	return leg, nil
}

// Invoke implements lambda.Handler (Start passes the Function to lambda.StartWithOptions). At the first
// invocation it gives the seal's certificate the invoked function's ARN, from the invocation's lambdacontext,
// and starts certifying the container's sealing key in the background, so that the invocation's records find
// it certified; every invocation is then served by Handler.
func (a *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	a.first.Do(func() {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			a.ident.setARN(lc.InvokedFunctionArn)
		}
		if a.sealer != nil {
			a.sealer.Certify()
		}
	})
	return a.Handler.Invoke(ctx, payload)
}

// LastChanceFlush ships whatever is still buffered, within lastChanceFlushTimeout (400 ms). Start registers it
// with lambda.WithEnableSIGTERM (do the same when calling lambda.StartWithOptions yourself): it
// is the safety net for spans still open when Lambda shuts the container down, never the main delivery path
// (every invocation delivers its own trace before returning).
func (a *Function) LastChanceFlush() {
	ctx, cancel := context.WithTimeout(context.Background(), lastChanceFlushTimeout)
	defer cancel()
	if err := a.Processor.ForceFlush(ctx); err != nil {
		a.logger.Error("last-chance flush on SIGTERM failed; buffered spans were not delivered", "error", err)
	}
	if a.sealer != nil {
		// The chain's last position, outside the bucket: CloudWatch Logs witnesses where the container's chain
		// ended, which no record can say of itself.
		a.logger.Info("seal chain ends", "chain", a.sealer.Chain(), "last_seq", a.sealer.Seq())
	}
}

// Shutdown stops the tracer provider, which shuts the audit processor down after shipping anything still
// buffered, then releases the seal chain (local runs; Lambda ends with SIGTERM instead).
func (a *Function) Shutdown(ctx context.Context) error {
	err := a.Provider.Shutdown(ctx)
	if a.sealer != nil {
		a.sealer.Close()
	}
	return err
}
