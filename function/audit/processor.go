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

// DefaultShipTimeout bounds delivery of a trace whose context carried no delivery deadline, or whose deadline
// has already passed when a late span ships (30 s).
const DefaultShipTimeout = 30 * time.Second

// Processor is the per-trace audit span processor (see the package documentation). It never samples: every
// sampled span the provider hands it is delivered, exactly once. Safe for concurrent traces; it holds its lock
// only to move spans in and out of buffers, never while encoding or delivering, so one slow trace does not hold
// up another.
type Processor struct {
	sink     Sink
	enc      *Encoder
	maxBytes int
	encOpts  []EncoderOption
	logger   *slog.Logger
	timeout  time.Duration

	mu     sync.Mutex
	traces map[trace.TraceID]*traceState
	// ignored holds suppressed spans (and spans started after Shutdown) from OnStart to OnEnd: OnEnd has no
	// context to tell them apart.
	ignored map[trace.SpanID]struct{}
	closed  bool
}

// traceState is what the processor knows of one trace. The trace is forgotten as soon as none of these fields
// holds anything: no buffered or open span, no delivery in flight, no failure left for FlushTrace.
type traceState struct {
	// spans are ended spans not yet handed to a delivery.
	spans []sdktrace.ReadOnlySpan
	// open counts spans started but not ended.
	open int
	// rootEnded is set when the trace's local root (parent invalid or remote) has ended.
	rootEnded bool
	// shipped is set once a shipment of the trace was made: later ones are follow-ups.
	shipped bool
	// awaited is set when the local root's context carried a delivery deadline: a handler will collect the
	// outcome with FlushTrace, so failures wait in errs instead of being logged.
	awaited  bool
	deadline time.Time
	errs     []error
	// inflight counts deliveries running outside the lock; idle is closed when it drops back to zero.
	inflight int
	idle     chan struct{}
}

var _ sdktrace.SpanProcessor = (*Processor)(nil)

// Option configures a Processor.
type Option func(*Processor)

// WithMaxRecordBytes sets the record size limit in bytes (default DefaultMaxRecordBytes).
func WithMaxRecordBytes(n int) Option { return func(p *Processor) { p.maxBytes = n } }

// WithEncoderOptions configures the processor's Encoder: sealing (WithSealer), oversize content
// (WithOversizeStore).
func WithEncoderOptions(opts ...EncoderOption) Option {
	return func(p *Processor) { p.encOpts = append(p.encOpts, opts...) }
}

// WithLogger sets the logger for delivery failures nobody else can report (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(p *Processor) { p.logger = l } }

// WithDefaultShipTimeout bounds delivery when the trace's context carried no delivery deadline, or its deadline
// has passed by the time a late span ships (default DefaultShipTimeout).
func WithDefaultShipTimeout(d time.Duration) Option { return func(p *Processor) { p.timeout = d } }

// NewProcessor returns a Processor delivering to sink. Register it with sdktrace.WithSpanProcessor (not a
// batcher: it must see OnStart to know which spans are still open).
func NewProcessor(sink Sink, opts ...Option) *Processor {
	p := &Processor{
		sink:     sink,
		maxBytes: DefaultMaxRecordBytes,
		logger:   slog.Default(),
		timeout:  DefaultShipTimeout,
		traces:   map[trace.TraceID]*traceState{},
		ignored:  map[trace.SpanID]struct{}{},
	}
	for _, o := range opts {
		o(p)
	}
	p.enc = NewEncoder(p.maxBytes, append([]EncoderOption{WithEncoderLogger(p.logger)}, p.encOpts...)...)
	return p
}

// OnStart implements sdktrace.SpanProcessor: it counts the span as open in its trace. The local root's context
// sets the trace's delivery deadline (ContextWithDeliveryDeadline). Spans started from a Suppress'ed context,
// unsampled spans and spans started after Shutdown are ignored.
func (p *Processor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	sc := s.SpanContext()
	if !sc.IsSampled() {
		return // OnEnd skips it on the same flag
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || IsSuppressed(ctx) {
		p.ignored[sc.SpanID()] = struct{}{}
		return
	}
	st := p.traces[sc.TraceID()]
	parent := s.Parent()
	localRoot := !parent.IsValid() || parent.IsRemote()
	if st == nil {
		st = &traceState{}
		p.traces[sc.TraceID()] = st
		// A child of a local span whose trace is no longer held: that trace completed and shipped already.
		st.shipped = !localRoot
	}
	st.open++
	if localRoot {
		if d, ok := deliveryOf(ctx); ok {
			st.awaited, st.deadline = true, d.deadline
			d.record(sc.TraceID())
		}
	}
}

// OnEnd implements sdktrace.SpanProcessor: it buffers the span and, when that completes the trace (local root
// ended, no span open) or the span is late (its trace already shipped), encodes and delivers synchronously on
// the calling goroutine before returning.
func (p *Processor) OnEnd(s sdktrace.ReadOnlySpan) {
	sc := s.SpanContext()
	if !sc.IsSampled() {
		return
	}
	id := sc.TraceID()
	p.mu.Lock()
	if _, ok := p.ignored[sc.SpanID()]; ok {
		delete(p.ignored, sc.SpanID())
		p.mu.Unlock()
		return
	}
	st := p.traces[id]
	if st == nil {
		// Started before this processor was registered: deliver it alone rather than drop it.
		st = &traceState{shipped: true, open: 1}
		p.traces[id] = st
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
	b := p.take(id, st)
	p.mu.Unlock()

	ctx, cancel := p.shipContext(context.Background(), b.deadline)
	defer cancel()
	p.done(b, p.ship(ctx, b), false)
}

// shipment is one set of spans of one trace taken out for delivery.
type shipment struct {
	id       trace.TraceID
	st       *traceState
	spans    []sdktrace.ReadOnlySpan
	followup bool
	deadline time.Time
	// awaited is the trace's awaited flag when the shipment was taken.
	awaited bool
}

// take moves the buffered spans of st into a shipment and counts it in flight. Callers hold p.mu.
func (p *Processor) take(id trace.TraceID, st *traceState) shipment {
	b := shipment{id: id, st: st, spans: st.spans, followup: st.shipped, deadline: st.deadline, awaited: st.awaited}
	st.spans, st.shipped = nil, true
	if st.inflight == 0 {
		st.idle = make(chan struct{})
	}
	st.inflight++
	return b
}

// done settles a finished delivery. A failure is kept for FlushTrace when a handler awaits the trace and
// reported says nobody returns it directly; otherwise it is logged, since nobody else can report it.
func (p *Processor) done(b shipment, err error, reported bool) {
	p.mu.Lock()
	st := b.st
	st.inflight--
	if st.inflight == 0 {
		close(st.idle)
	}
	keep := err != nil && !reported && st.awaited
	if keep {
		st.errs = append(st.errs, err)
	}
	p.forgetIfDone(b.id, st)
	p.mu.Unlock()
	if err != nil && !reported && !keep {
		p.logger.Error("audit delivery failed; spans not recorded",
			"trace_id", b.id.String(), "spans", len(b.spans), "followup", b.followup, "error", err)
	}
}

// forgetIfDone deletes the trace once nothing of it is left. Callers hold p.mu.
func (p *Processor) forgetIfDone(id trace.TraceID, st *traceState) {
	if st.open == 0 && len(st.spans) == 0 && st.inflight == 0 && len(st.errs) == 0 {
		delete(p.traces, id)
	}
}

// settle waits, with p.mu held on entry and on return, until no delivery of st is in flight, or ctx ends.
func (p *Processor) settle(ctx context.Context, st *traceState) error {
	for st.inflight > 0 {
		idle := st.idle
		p.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			p.mu.Lock()
			return fmt.Errorf("wait for a delivery in flight: %w", ctx.Err())
		}
		p.mu.Lock()
	}
	return nil
}

// FlushTrace delivers whatever of trace id is still buffered (a partial shipment when spans are still open;
// they ship later as follow-ups) and returns the joined errors of every delivery of that trace since the
// previous FlushTrace of it, nil when all were delivered. It first waits for deliveries of the trace already in
// flight on other goroutines. Afterwards the processor keeps nothing of the trace but the count of its open
// spans, and failures of their follow-ups are logged. It blocks while delivering, bounded by ctx and the trace's
// delivery deadline. When ctx carries a delivery deadline (ContextWithDeliveryDeadline) and the processor never
// accepted the trace's local root from that context, nothing was recorded and it returns ErrTraceNotRecorded.
// Safe for concurrent use.
func (p *Processor) FlushTrace(ctx context.Context, id trace.TraceID) error {
	if d, ok := deliveryOf(ctx); ok && !d.recorded(id) {
		return fmt.Errorf("flush trace %s: %w", id, ErrTraceNotRecorded)
	}
	p.mu.Lock()
	st := p.traces[id]
	if st == nil {
		p.mu.Unlock()
		return nil
	}
	var errs []error
	if err := p.settle(ctx, st); err != nil {
		errs = append(errs, fmt.Errorf("flush trace %s: %w", id, err))
	}
	errs = append(errs, st.errs...)
	st.errs, st.awaited = nil, false
	if len(st.spans) == 0 {
		p.forgetIfDone(id, st)
		p.mu.Unlock()
		return errors.Join(errs...)
	}
	b := p.take(id, st)
	p.mu.Unlock()

	shipCtx, cancel := p.shipContext(ctx, b.deadline)
	defer cancel()
	err := p.ship(shipCtx, b)
	p.done(b, err, true)
	return errors.Join(append(errs, err)...)
}

// ForceFlush implements sdktrace.SpanProcessor: it waits for deliveries in flight, delivers every buffered span,
// trace by trace (partial shipments where spans are still open), and returns the joined errors, including
// failures no FlushTrace collected. A trace a handler still awaits (a SIGTERM flush in the middle of an
// invocation) stays awaited: its failures, those returned here included, are kept for the handler's FlushTrace
// too, so the invocation still fails closed. Blocks until done or ctx ends.
func (p *Processor) ForceFlush(ctx context.Context) error {
	var batches []shipment
	var errs []error
	p.mu.Lock()
	for id, st := range p.traces {
		if err := p.settle(ctx, st); err != nil {
			errs = append(errs, fmt.Errorf("flush trace %s: %w", id, err))
		}
		errs = append(errs, st.errs...)
		if !st.awaited {
			st.errs = nil
		}
		if len(st.spans) > 0 {
			batches = append(batches, p.take(id, st))
		} else {
			p.forgetIfDone(id, st)
		}
	}
	p.mu.Unlock()
	for _, b := range batches {
		shipCtx, cancel := p.shipContext(ctx, b.deadline)
		err := p.ship(shipCtx, b)
		cancel()
		// Returned here; for an awaited trace also kept for the handler's FlushTrace.
		p.done(b, err, !b.awaited)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown implements sdktrace.SpanProcessor: from now on spans starting are ignored, then it does ForceFlush.
// Spans already open still ship when they end.
func (p *Processor) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return p.ForceFlush(ctx)
}

// Pending counts the traces the processor still holds anything of (buffered or open spans, deliveries in
// flight, uncollected failures). Zero between invocations on a warm container.
func (p *Processor) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.traces)
}

// ship encodes and delivers one shipment. When it fails, the records it sealed are declared undelivered, so
// the chain's next record says so (a record that arrives after all, its acknowledgement lost, still verifies).
func (p *Processor) ship(ctx context.Context, b shipment) error {
	records, seqs, err := p.enc.encode(ctx, b.spans, b.followup)
	if err != nil {
		p.enc.undelivered(seqs)
		return fmt.Errorf("ship trace %s: encode %d spans: %w", b.id, len(b.spans), err)
	}
	if err := p.sink.Deliver(ctx, records); err != nil {
		p.enc.undelivered(seqs)
		return fmt.Errorf("ship trace %s: deliver %d spans in %d records: %w", b.id, len(b.spans), len(records), err)
	}
	return nil
}

// shipContext is the delivery context: suppressed (so the sink's own calls are not audited) and bounded by the
// trace's delivery deadline, or by the default ship timeout when it has none or it has passed (a late span
// shipping in a later invocation).
func (p *Processor) shipContext(ctx context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	ctx = Suppress(ctx)
	if deadline.IsZero() || !deadline.After(time.Now()) {
		return context.WithTimeout(ctx, p.timeout)
	}
	return context.WithDeadline(ctx, deadline)
}
