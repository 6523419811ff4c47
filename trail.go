package agentaudit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/function/telemetry"
)

// Trail is the audit half of the runtime, everything but the agent: the sink, the oversize store, the seal, the
// per-trace audit processor and the optional Logfire leg, built from the Config. New builds one for its agent;
// agent code that makes its own spans (hand instrumentation, another framework) builds one with NewTrail,
// registers it on its own tracer provider (NewTracerProvider) and serves through Handler, and gets the same
// records, seal and delivery guarantees. Safe for concurrent use.
type Trail struct {
	// Processor is the audit span processor; its ForceFlush ships anything still buffered.
	Processor *audit.Processor

	processors []sdktrace.SpanProcessor // the audit processor first, then the Logfire leg
	legs       []handler.Leg
	resource   *sdkresource.Resource
	cfg        Config
	logger     *slog.Logger
	sealer     *seal.Sealer
	ident      *lambdaIdentity
	first      sync.Once
}

// NewTrail validates the audit settings of cfg (the model settings are not its concern) and builds the Trail.
// Options about the agent (WithTools, WithModel, ...) are ignored. The error names every bad setting.
func NewTrail(ctx context.Context, cfg Config, opts ...Option) (*Trail, error) {
	o := newOptions(opts)
	p := o.parts()
	p.model = true
	if err := cfg.validate(p); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return newTrail(ctx, cfg, o, awsLoader(o))
}

// TracerProviderOptions make a tracer provider an audited one: the Trail's resource, the audit processor and the
// Logfire leg, and AlwaysSample, because the audit copy is never sampled (a ParentBased sampler would drop every
// run a caller's unsampled traceparent starts; Handler fails such runs closed). Pass them last, after any option of
// your own, so that no other sampler replaces AlwaysSample; NewTracerProvider does.
func (t *Trail) TracerProviderOptions() []sdktrace.TracerProviderOption {
	return telemetry.ProviderOptions(t.resource, t.processors...)
}

// NewTracerProvider returns a tracer provider with opts and then TracerProviderOptions: every span sampled and
// handed to the audit processor (and the Logfire leg), whatever opts say.
func (t *Trail) NewTracerProvider(opts ...sdktrace.TracerProviderOption) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(append(opts, t.TracerProviderOptions()...)...)
}

// Handler is the per-invocation protocol around r, as a lambda.Handler for lambda.StartWithOptions (register
// LastChanceFlush with lambda.WithEnableSIGTERM too): the event contract and rejection auditing, the ship
// reserve and the delivery deadline, FlushTrace before answering, and fail-closed delivery, with the Config's
// settings. r's spans must come from a provider the Trail is registered on; a run whose root never reached the
// audit processor fails with an audit_delivery error.
func (t *Trail) Handler(r handler.Runner) lambda.Handler {
	return invocation{t, t.handler(r)}
}

// invocation is the lambda.Handler Handler returns.
type invocation struct {
	t *Trail
	h *handler.Handler
}

// Invoke implements lambda.Handler.
func (i invocation) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	i.t.begin(ctx)
	return i.h.Invoke(ctx, payload)
}

func (t *Trail) handler(r handler.Runner) *handler.Handler {
	return handler.New(r, t.Processor, handler.Config{
		MaxPromptBytes: t.cfg.MaxPromptBytes,
		CaptureContent: t.cfg.CaptureContent,
		FailOpen:       t.cfg.FailOpen,
		ShipReserve:    t.cfg.ShipReserve,
		Legs:           t.legs,
	}, t.logger)
}

// begin is the first invocation's work: it gives the seal's certificate the invoked function's ARN, from the
// invocation's lambdacontext, and starts certifying the container's sealing key in the background, so that the
// invocation's records find it certified. Later calls do nothing.
func (t *Trail) begin(ctx context.Context) {
	t.first.Do(func() {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			t.ident.setARN(lc.InvokedFunctionArn)
		}
		if t.sealer != nil {
			t.sealer.Certify()
		}
	})
}

// LastChanceFlush ships whatever is still buffered, within lastChanceFlushTimeout (400 ms). Start runs it on
// SIGTERM (register it with lambda.WithEnableSIGTERM when calling lambda.StartWithOptions yourself): it is the
// safety net for spans still open when Lambda shuts the container down, never the main delivery path (every
// invocation delivers its own trace before returning).
func (t *Trail) LastChanceFlush() {
	ctx, cancel := context.WithTimeout(context.Background(), lastChanceFlushTimeout)
	defer cancel()
	if err := t.Processor.ForceFlush(ctx); err != nil {
		t.logger.Error("last-chance flush on SIGTERM failed; buffered spans were not delivered", "error", err)
	}
	if t.sealer != nil {
		// The chain's last position, outside the bucket: CloudWatch Logs witnesses where the container's chain
		// ended, which no record can say of itself.
		t.logger.Info("seal chain ends", "chain", t.sealer.Chain(), "last_seq", t.sealer.Seq())
	}
}

// Shutdown ships anything still buffered and stops the audit processor (and the Logfire leg), then releases the
// seal chain. A Function's Shutdown does this through its provider; for a Trail on a provider of your own, call it
// at the end of a local run (a Lambda container ends with SIGTERM and LastChanceFlush instead).
func (t *Trail) Shutdown(ctx context.Context) error {
	var errs []error
	for _, p := range t.processors {
		errs = append(errs, p.Shutdown(ctx))
	}
	t.release()
	return errors.Join(errs...)
}

// release closes the seal chain (local runs keep it in the root for the next run).
func (t *Trail) release() {
	if t.sealer != nil {
		t.sealer.Close()
	}
}
