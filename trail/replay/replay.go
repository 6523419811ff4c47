package replay

import (
	"context"
	"errors"
	"fmt"
	"math"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify"
)

// Defaults of Options.
const (
	// DefaultMaxBatchSpans bounds the spans of one request (512, the SDK batch processor's export batch size);
	// a trace with more is sent in a request of its own, never split.
	DefaultMaxBatchSpans = 512
)

// Options says how Replay reads and sends.
type Options struct {
	// Assemble says how each trace is rebuilt.
	Assemble AssembleOptions
	// Verify, when set, verifies the root with trail/verify first and refuses every trace whose records fail.
	Verify *verify.Options
	// MaxBatchSpans bounds the spans of one request (default DefaultMaxBatchSpans).
	MaxBatchSpans int
	// Progress, when set, is called after each request with the traces handled so far (sent, refused or
	// failed) and the total. It runs on Replay's goroutine.
	Progress func(done, total int)
}

// Summary is what Replay did.
type Summary struct {
	// Selected is the number of traces asked for; Traces, Spans and Requests what was delivered; Bytes the size
	// of the delivered request bodies as sent.
	Selected int
	Traces   int
	Spans    int
	Requests int
	Bytes    int64
	// Oversize counts the delivered spans whose content was put back from an oversize object.
	Oversize int
	// Failures are the traces not delivered (or not wholly: a partial success), in the order handled.
	Failures []Failure
}

// Failure is a trace that was not delivered, and why.
type Failure struct {
	// TraceID is the trace not delivered.
	TraceID string
	// Err says why: it wraps ErrRefused for a trace verification refused, ErrRejected for one in a partly
	// rejected request.
	Err error
}

// Delivered reports whether every selected trace was delivered.
func (s Summary) Delivered() bool { return len(s.Failures) == 0 }

// Replay rebuilds the traces sel names from store (see Assemble), refuses those verification fails when
// opts.Verify is set, and sends the others with exp in batches of whole traces. A trace that cannot be read or is
// refused, and every trace of a request that fails or is partly rejected, is a Failure; the others go on. The
// error is for what stops the whole replay: the root cannot be verified, or ctx ended.
func Replay(ctx context.Context, store trail.Store, sel []Selected, exp *Exporter, opts Options) (Summary, error) {
	if opts.MaxBatchSpans <= 0 {
		opts.MaxBatchSpans = DefaultMaxBatchSpans
	}
	sum := Summary{Selected: len(sel)}
	var refuse func(Trace) error
	if opts.Verify != nil {
		vo := *opts.Verify
		vo.MaxFindingsPerKind = math.MaxInt // every problem must be attributable to its trace
		rep, err := verify.Verify(ctx, store, vo)
		if err != nil {
			return sum, fmt.Errorf("verify %s before replaying: %w", store.Root(), err)
		}
		refuse = newRefusals(rep).refuse
	}
	done := 0
	progress := func(n int) {
		done += n
		if opts.Progress != nil {
			opts.Progress(done, len(sel))
		}
	}
	var batch []Trace
	spans := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		sum.send(ctx, exp, batch)
		progress(len(batch))
		batch, spans = nil, 0
	}
	for _, s := range sel {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		t, err := Assemble(ctx, store, s.ID, s.Keys, opts.Assemble)
		if err == nil && refuse != nil {
			err = refuse(t)
		}
		if err != nil {
			sum.Failures = append(sum.Failures, Failure{TraceID: s.ID, Err: err})
			progress(1)
			continue
		}
		if len(batch) > 0 && spans+t.Spans() > opts.MaxBatchSpans {
			flush()
		}
		batch, spans = append(batch, t), spans+t.Spans()
	}
	flush()
	return sum, ctx.Err()
}

// send exports one batch and records the outcome.
func (s *Summary) send(ctx context.Context, exp *Exporter, batch []Trace) {
	td := ptrace.NewTraces()
	for _, t := range batch {
		t.Data.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	}
	n := td.SpanCount()
	res, err := exp.Export(ctx, td)
	if err != nil {
		if errors.Is(err, ErrRejected) {
			s.Requests++
			s.Bytes += int64(res.Bytes)
		}
		for _, t := range batch {
			s.Failures = append(s.Failures, Failure{TraceID: t.ID, Err: err})
		}
		return
	}
	s.Requests++
	s.Bytes += int64(res.Bytes)
	s.Traces += len(batch)
	s.Spans += n
	for _, t := range batch {
		s.Oversize += t.Oversize
	}
}
