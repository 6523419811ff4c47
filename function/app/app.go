// Package app assembles the audited agent: model, tools, agent, tracer provider, audit processor, sink and
// handler. The Lambda's main and the local CLI both build through New, so the local run exercises exactly the
// code path the function runs.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/awsenv"
	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/function/logfire"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/function/telemetry"
)

// tracerName is the instrumentation scope of the agent's spans.
const tracerName = "github.com/agent-audit/agent-audit/function/agent"

// lastChanceFlushTimeout bounds the SIGTERM flush: Lambda allows about 500 ms between SIGTERM and SIGKILL.
const lastChanceFlushTimeout = 400 * time.Millisecond

// App is an assembled function.
type App struct {
	// Handler serves invocations (it implements aws-lambda-go's lambda.Handler).
	Handler *handler.Handler
	// Processor is the audit span processor; its ForceFlush ships anything still buffered.
	Processor *audit.Processor
	// Provider is the tracer provider all spans start from.
	Provider *sdktrace.TracerProvider

	logger *slog.Logger
	sealer *seal.Sealer
	ident  *lambdaIdentity
	first  sync.Once
}

var _ lambda.Handler = (*App)(nil)

// Option overrides a part New would otherwise build from the Config.
type Option func(*options)

type options struct {
	model    agent.Model
	sink     audit.Sink
	awsCfg   *aws.Config
	logger   *slog.Logger
	resource *sdkresource.Resource
	localOpt []audit.LocalOption
	procOpt  []audit.Option
	sealOpt  []seal.Option
}

// WithModel replaces the configured model (tests: a scripted offline model or a Bedrock client on a peer).
func WithModel(m agent.Model) Option { return func(o *options) { o.model = m } }

// WithSink replaces the configured sink.
func WithSink(s audit.Sink) Option { return func(o *options) { o.sink = s } }

// WithAWSConfig uses cfg for AWS clients instead of the one Lambda's environment describes (see package awsenv);
// a local run passes config.LoadDefaultConfig's, to use the default credential chain.
func WithAWSConfig(cfg aws.Config) Option { return func(o *options) { o.awsCfg = &cfg } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

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

// New validates cfg and assembles the function. Unless WithAWSConfig gives one, the AWS configuration is read
// from Lambda's environment with awsenv.Config, only when a configured part needs AWS, so
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_ENDPOINT_URL_FIREHOSE and the other variables awsenv lists apply.
func New(ctx context.Context, cfg Config, opts ...Option) (*App, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	if cfg.Model == ModelOffline && cfg.ModelName == "" {
		cfg.ModelName = DefaultOfflineModelName
	}
	if err := validateFor(cfg, o); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}

	loadAWS := func() (aws.Config, error) {
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

	tools, err := agent.NewRegistry(agent.DefaultTools()...)
	if err != nil {
		return nil, fmt.Errorf("build tool registry: %w", err)
	}
	a, err := agent.New(model, tools, agent.Config{
		Name:           cfg.AgentName,
		SystemPrompt:   cfg.SystemPrompt,
		MaxTurns:       cfg.MaxTurns,
		CaptureContent: cfg.CaptureContent,
		Tracer:         provider.Tracer(tracerName),
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
	return &App{Handler: h, Processor: proc, Provider: provider, logger: o.logger, sealer: sealer, ident: ident}, nil
}

// validateFor validates cfg, except for the parts an Option replaces.
func validateFor(cfg Config, o options) error {
	if o.model != nil {
		cfg.Model = ModelOffline
	}
	if o.sink != nil && cfg.FirehoseStream == "" && cfg.LocalRoot == "" {
		cfg.LocalRoot = "(sink option)"
	}
	return cfg.Validate()
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
		client = logfire.NewSSMClient(awsCfg, nil)
	}
	leg, err := logfire.New(cfg, client, logfire.WithLogger(o.logger))
	if err != nil {
		return nil, fmt.Errorf("build the Logfire leg: %w", err)
	}
	return leg, nil
}

// Invoke implements lambda.Handler (the function's main passes the App to lambda.Start). At the first
// invocation it gives the seal's certificate the invoked function's ARN, from the invocation's lambdacontext,
// and starts certifying the container's sealing key in the background, so that the invocation's records find
// it certified; every invocation is then served by Handler.
func (a *App) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
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

// LastChanceFlush ships whatever is still buffered. The function registers it with lambda.WithEnableSIGTERM: it
// is the safety net for spans still open when Lambda shuts the container down, never the main delivery path
// (every invocation delivers its own trace before returning).
func (a *App) LastChanceFlush() {
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
func (a *App) Shutdown(ctx context.Context) error {
	err := a.Provider.Shutdown(ctx)
	if a.sealer != nil {
		a.sealer.Close()
	}
	return err
}
