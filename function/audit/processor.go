package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// DefaultShipTimeout bounds delivery of a trace whose context carried no delivery deadline (30 s).
const DefaultShipTimeout = 30 * time.Second

// Processor is the per-trace audit span processor (see the package documentation). It never samples: every
// sampled span the provider hands it is delivered. Safe for concurrent traces; it holds its lock only to move
// spans in and out of buffers, never while delivering, so one slow trace does not hold up another.
type Processor struct {
	sink    Sink
	enc     *Encoder
	logger  *slog.Logger
	timeout time.Duration

	mu      sync.Mutex
	traces  map[trace.TraceID]*traceState
	ignored map[trace.SpanID]struct{}
	closed  bool
}

// traceState is what the processor knows of one trace.
type traceState struct {
	spans []sdktrace.ReadOnlySpan
	// open counts spans started but not ended.
	open int
	// rootEnded is set when the trace's local root (parent invalid or remote) has ended.
	rootEnded bool
	// shipped is set once any of the trace's spans were delivered: later shipments are follow-ups.
	shipped bool
	// awaited is set when a handler will collect the delivery outcome with FlushTrace (the local root's
	// context carried a delivery deadline); errs holds the outcomes until then.
	awaited  bool
	deadline time.Time
	errs     []error
}

var _ sdktrace.SpanProcessor = (*Processor)(nil)

// Option configures a Processor.
type Option func(*Processor)

// WithMaxRecordBytes sets the record size limit (default DefaultMaxRecordBytes).
func WithMaxRecordBytes(n int) Option { return func(p *Processor) { p.enc = NewEncoder(n) } }

// WithLogger sets the logger for delivery failures nobody else can report (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(p *Processor) { p.logger = l } }

// WithDefaultShipTimeout bounds delivery when the trace's context carried no delivery deadline.
func WithDefaultShipTimeout(d time.Duration) Option { return func(p *Processor) { p.timeout = d } }

// NewProcessor returns a Processor delivering to sink.
func NewProcessor(sink Sink, opts ...Option) *Processor {
	p := &Processor{
		sink:    sink,
		enc:     NewEncoder(DefaultMaxRecordBytes),
		logger:  slog.Default(),
		timeout: DefaultShipTimeout,
		traces:  map[trace.TraceID]*traceState{},
		ignored: map[trace.SpanID]struct{}{},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// OnStart implements sdktrace.SpanProcessor: it counts the span as open in its trace.
func (p *Processor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	sc := s.SpanContext()
	p.mu.Lock()
	defer p.mu.Unlock()
	if IsSuppressed(ctx) || !sc.IsSampled() || p.closed {
		p.ignored[sc.SpanID()] = struct{}{}
		return
	}
	st := p.traces[sc.TraceID()]
	if st == nil {
		st = &traceState{}
		p.traces[sc.TraceID()] = st
		if parent := s.Parent(); parent.IsValid() && !parent.IsRemote() {
			// A child of a local span whose trace is no longer buffered: its trace shipped already.
			st.shipped = true
		}
	}
	st.open++
	if parent := s.Parent(); !parent.IsValid() || parent.IsRemote() {
		if d, ok := deliveryDeadline(ctx); ok {
			st.awaited, st.deadline = true, d
		}
	}
}

// OnEnd implements sdktrace.SpanProcessor: it buffers the span and, when that completes the trace (or the span
// is late), delivers synchronously before returning.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	sc := s.SpanContext()
	p.mu.Lock()
	if _, ok := p.ignored[sc.SpanID()]; ok {
		delete(p.ignored, sc.SpanID())
		p.mu.Unlock()
		return
	}
	st := p.traces[sc.TraceID()]
	if st == nil {
		// Started before this processor saw it (registered late): deliver it alone rather than drop it.
		st = &traceState{shipped: true, open: 1}
		p.traces[sc.TraceID()] = st
	}
	st.open--
	st.spans = append(st.spans, s)
	if parent := s.Parent(); !parent.IsValid() || parent.IsRemote() {
		st.rootEnded = true
	}
	if st.open > 0 || !(st.rootEnded || st.shipped) {
		p.mu.Unlock()
		return
	}
	spans, followup, deadline := p.take(sc.TraceID(), st)
	p.mu.Unlock()

	ctx, cancel := p.shipContext(context.Background(), deadline)
	defer cancel()
	p.settle(sc.TraceID(), len(spans), followup, p.ship(ctx, spans, followup))
}

// take moves the buffered spans out of st for delivery and forgets the trace unless spans are still open or a
// handler has yet to collect the outcome. Callers hold p.mu.
func (p *Processor) take(id trace.TraceID, st *traceState) (spans []sdktrace.ReadOnlySpan, followup bool, deadline time.Time) {
	spans, followup, deadline = st.spans, st.shipped, st.deadline
	st.spans, st.shipped = nil, true
	if st.open == 0 && !st.awaited {
		delete(p.traces, id)
	}
	return spans, followup, deadline
}

// settle records a delivery outcome for FlushTrace, or logs a failure nobody will collect.
func (p *Processor) settle(id trace.TraceID, spans int, followup bool, err error) {
	if err == nil {
		return
	}
	p.mu.Lock()
	st := p.traces[id]
	if st != nil && st.awaited {
		st.errs = append(st.errs, err)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.logger.Error("audit delivery failed; spans not recorded", "trace_id", id.String(), "spans", spans, "followup", followup, "error", err)
}

// FlushTrace delivers whatever of trace id is still buffered (a partial shipment when spans are still open;
// they ship later as follow-ups) and returns the joined errors of every delivery of that trace since the
// previous FlushTrace of it, nil when all were delivered. Afterwards the processor keeps nothing of the trace but
// the count of its open spans. It blocks while delivering, bounded by ctx and the trace's delivery deadline.
func (p *Processor) FlushTrace(ctx context.Context, id trace.TraceID) error {
	p.mu.Lock()
	st := p.traces[id]
	if st == nil {
		p.mu.Unlock()
		return nil
	}
	errs := st.errs
	st.errs, st.awaited = nil, false
	spans, followup, deadline := p.take(id, st)
	p.mu.Unlock()

	if len(spans) > 0 {
		shipCtx, cancel := p.shipContext(ctx, deadline)
		defer cancel()
		if err := p.ship(shipCtx, spans, followup); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ForceFlush implements sdktrace.SpanProcessor: it delivers every buffered span, trace by trace, and returns the
// joined errors, including outcomes no FlushTrace collected.
func (p *Processor) ForceFlush(ctx context.Context) error {
	type batch struct {
		id       trace.TraceID
		spans    []sdktrace.ReadOnlySpan
		followup bool
		deadline time.Time
	}
	var batches []batch
	var errs []error
	p.mu.Lock()
	for id, st := range p.traces {
		errs = append(errs, st.errs...)
		st.errs, st.awaited = nil, false
		if len(st.spans) == 0 {
			if st.open == 0 {
				delete(p.traces, id)
			}
			continue
		}
		spans, followup, deadline := p.take(id, st)
		batches = append(batches, batch{id, spans, followup, deadline})
	}
	p.mu.Unlock()
	for _, b := range batches {
		shipCtx, cancel := p.shipContext(ctx, b.deadline)
		if err := p.ship(shipCtx, b.spans, b.followup); err != nil {
			errs = append(errs, fmt.Errorf("trace %s: %w", b.id, err))
		}
		cancel()
	}
	return errors.Join(errs...)
}

// Shutdown implements sdktrace.SpanProcessor: ForceFlush, then ignore spans started afterwards.
func (p *Processor) Shutdown(ctx context.Context) error {
	err := p.ForceFlush(ctx)
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return err
}

// Pending counts the traces the processor still holds anything of (buffered or open spans, uncollected
// outcomes). Zero between invocations on a warm container.
func (p *Processor) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.traces)
}

// ship encodes and delivers one shipment.
func (p *Processor) ship(ctx context.Context, spans []sdktrace.ReadOnlySpan, followup bool) error {
	records, err := p.enc.Encode(ctx, spans, followup)
	if err != nil {
		return fmt.Errorf("encode %d spans: %w", len(spans), err)
	}
	if err := p.sink.Deliver(ctx, records); err != nil {
		return fmt.Errorf("deliver %d records (%d spans): %w", len(records), len(spans), err)
	}
	return nil
}

// shipContext is the delivery context: suppressed (so the sink's own calls are not audited) and bounded by the
// trace's delivery deadline, or by the default ship timeout when it has none.
func (p *Processor) shipContext(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	ctx = Suppress(ctx)
	if deadline.IsZero() {
		return context.WithTimeout(ctx, p.timeout)
	}
	return context.WithDeadline(ctx, deadline)
}
