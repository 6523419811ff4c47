package logfire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Token fetch pacing: a failed fetch is retried at a later invocation, no sooner than the backoff, which doubles
// per failure up to its cap.
const (
	fetchTimeout      = 2 * time.Second
	firstRetryBackoff = time.Second
	maxRetryBackoff   = 5 * time.Minute
)

// Leg exports to Logfire. It is an sdktrace.SpanProcessor (register it beside the audit processor) and the
// handler's Leg (Prepare at each invocation's start, Flush before it returns). Until Prepare has fetched the token
// it exports nothing. Safe for concurrent use.
type Leg struct {
	cfg     Config
	ssm     ParameterAPI
	http    *http.Client
	session func() string
	now     func() time.Time
	logger  *slog.Logger
	sampler sdktrace.Sampler

	mu        sync.Mutex
	batch     sdktrace.SpanProcessor // nil until the token is fetched
	nextFetch time.Time
	backoff   time.Duration
}

var _ sdktrace.SpanProcessor = (*Leg)(nil)

// Option configures a Leg.
type Option func(*Leg)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(g *Leg) { g.logger = l } }

// WithHTTPClient sets the client for the extension and the OTLP export (default: a new client).
func WithHTTPClient(c *http.Client) Option { return func(g *Leg) { g.http = c } }

// WithSessionToken sets where the extension's authentication comes from (default: $AWS_SESSION_TOKEN).
func WithSessionToken(f func() string) Option { return func(g *Leg) { g.session = f } }

// WithClock sets the clock that paces token fetch retries.
func WithClock(now func() time.Time) Option { return func(g *Leg) { g.now = now } }

// New returns a Leg. ssmClient may be nil when the extension reads the token.
func New(cfg Config, ssmClient ParameterAPI, opts ...Option) (*Leg, error) {
	var errs []error
	if cfg.TokenParameter == "" {
		errs = append(errs, errors.New("TokenParameter: required"))
	}
	if cfg.ExtensionPort == 0 && ssmClient == nil {
		errs = append(errs, errors.New("ssmClient: required when the extension is not used"))
	}
	if cfg.SampleRatio < 0 || cfg.SampleRatio > 1 {
		errs = append(errs, fmt.Errorf("SampleRatio: %v is outside 0..1", cfg.SampleRatio))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("logfire: %w", err)
	}
	if cfg.FlushTimeout <= 0 {
		cfg.FlushTimeout = DefaultFlushTimeout
	}
	g := &Leg{
		cfg: cfg, ssm: ssmClient, http: &http.Client{}, now: time.Now, logger: slog.Default(),
		session: func() string { return os.Getenv("AWS_SESSION_TOKEN") },
		// The SDK's own ratio sampler decides from the trace ID alone, so every span of a trace gets the same
		// answer: a trace is whole in Logfire or absent.
		sampler: sdktrace.TraceIDRatioBased(cfg.SampleRatio),
	}
	for _, o := range opts {
		o(g)
	}
	return g, nil
}

// Prepare fetches the token at the first invocation, and again at later ones after a failure once the backoff
// has passed. A failure is logged (without the token) and the invocation goes on, audited, without Logfire.
func (g *Leg) Prepare(ctx context.Context) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.batch != nil || g.now().Before(g.nextFetch) {
		return
	}
	fctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	var token string
	var err error
	if g.cfg.ExtensionPort != 0 {
		token, err = fetchFromExtension(fctx, g.http, g.cfg.ExtensionPort, g.cfg.TokenParameter, g.session())
	} else {
		token, err = fetchFromSSM(fctx, g.ssm, g.cfg.TokenParameter)
	}
	if err == nil {
		err = g.start(token)
	}
	if err != nil {
		g.backoff = min(max(2*g.backoff, firstRetryBackoff), maxRetryBackoff)
		g.nextFetch = g.now().Add(g.backoff)
		g.logger.Warn("Logfire live view unavailable; the run is audited without it", "error", err, "retry_after", g.backoff.String())
	}
}

// start builds the exporter: OTLP/HTTP to <base>/v1/traces with the token as Authorization header, in a batch
// processor whose export is bounded by the flush timeout. Callers hold g.mu.
func (g *Leg) start(token string) error {
	base := g.cfg.BaseURL
	if base == "" {
		base = BaseURL(token)
	}
	exp, err := newExporter(context.Background(), base+"/v1/traces", token, g.cfg.FlushTimeout, g.http)
	if err != nil {
		return fmt.Errorf("create the OTLP exporter for %s: %w", base, err)
	}
	g.batch = sdktrace.NewBatchSpanProcessor(exp, sdktrace.WithExportTimeout(g.cfg.FlushTimeout))
	g.logger.Info("Logfire live view on", "endpoint", base, "sample_ratio", g.cfg.SampleRatio, "scrub", g.cfg.Scrub)
	return nil
}

// Flush exports what is batched, giving up after the flush timeout: a slow or unreachable Logfire costs an
// invocation at most that long and never touches the audit copy, which was delivered before.
func (g *Leg) Flush(ctx context.Context) {
	b := g.active()
	if b == nil {
		return
	}
	fctx, cancel := context.WithTimeout(ctx, g.cfg.FlushTimeout)
	defer cancel()
	if err := b.ForceFlush(fctx); err != nil {
		g.logger.Warn("Logfire export did not complete; the audit copy is unaffected", "error", err)
	}
}

func (g *Leg) active() sdktrace.SpanProcessor {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.batch
}

// sampled tells whether trace id goes to Logfire.
func (g *Leg) sampled(s sdktrace.ReadOnlySpan) bool {
	return g.sampler.ShouldSample(sdktrace.SamplingParameters{TraceID: s.SpanContext().TraceID()}).Decision == sdktrace.RecordAndSample
}

// OnStart implements sdktrace.SpanProcessor; the batch processor needs nothing at start.
func (g *Leg) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd implements sdktrace.SpanProcessor: it hands sampled spans, scrubbed when configured, to the exporter.
func (g *Leg) OnEnd(s sdktrace.ReadOnlySpan) {
	b := g.active()
	if b == nil || !g.sampled(s) {
		return
	}
	if g.cfg.Scrub {
		s = scrub(s)
	}
	b.OnEnd(s)
}

// ForceFlush implements sdktrace.SpanProcessor.
func (g *Leg) ForceFlush(ctx context.Context) error {
	if b := g.active(); b != nil {
		return b.ForceFlush(ctx)
	}
	return nil
}

// Shutdown implements sdktrace.SpanProcessor.
func (g *Leg) Shutdown(ctx context.Context) error {
	if b := g.active(); b != nil {
		return b.Shutdown(ctx)
	}
	return nil
}
