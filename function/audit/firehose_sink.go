package audit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aws/smithy-go"

	"github.com/agent-audit/agent-audit/function/awsjson"
)

// Firehose PutRecordBatch limits.
const (
	MaxBatchRecords = 500
	MaxBatchBytes   = 4 * 1024 * 1024
)

// Retry defaults of the FirehoseSink.
const (
	DefaultAttemptTimeout = 5 * time.Second
	DefaultBaseBackoff    = 50 * time.Millisecond
	DefaultMaxBackoff     = 2 * time.Second
	// DefaultMaxAttempts bounds attempts only when the context has no deadline; with one, the deadline decides.
	DefaultMaxAttempts = 8
	// minAttemptTimeout is the shortest attempt budget halving the time left may give (see attemptBudget).
	minAttemptTimeout = 250 * time.Millisecond
)

// FirehoseAPI is the Firehose call the sink makes, one attempt per call; *awsjson.Firehose implements it. (The SDK's
// firehose client is not used: its package initialises on every cold start, see docs/performance.md.)
type FirehoseAPI interface {
	PutRecordBatch(ctx context.Context, stream string, records [][]byte) (*awsjson.PutRecordBatchOutput, error)
}

// FirehoseSink delivers records to a Kinesis Data Firehose delivery stream with PutRecordBatch, in batches within
// Firehose's limits. It owns the retry policy: throttling, 5xx, transport errors, attempt time-outs and the
// per-record failures of a partially successful batch are retried (only the failed records) with exponential
// backoff and jitter while the context's deadline allows; other errors fail at once. The client must not retry by
// itself (awsjson.Firehose does not): a retryer would multiply our attempts and spend the invocation's deadline
// without our per-record handling (it cannot see failures inside a successful PutRecordBatch). Safe for
// concurrent use.
type FirehoseSink struct {
	client         FirehoseAPI
	stream         string
	attemptTimeout time.Duration
	baseBackoff    time.Duration
	maxBackoff     time.Duration
	maxAttempts    int
}

var _ Sink = (*FirehoseSink)(nil)

// FirehoseOption configures a FirehoseSink.
type FirehoseOption func(*FirehoseSink)

// WithAttemptTimeout bounds one PutRecordBatch call, so a hung connection cannot eat the whole deadline.
func WithAttemptTimeout(d time.Duration) FirehoseOption {
	return func(s *FirehoseSink) { s.attemptTimeout = d }
}

// WithBackoff sets the first and the largest pause between attempts.
func WithBackoff(base, max time.Duration) FirehoseOption {
	return func(s *FirehoseSink) { s.baseBackoff, s.maxBackoff = base, max }
}

// WithMaxAttempts bounds attempts when the context has no deadline.
func WithMaxAttempts(n int) FirehoseOption { return func(s *FirehoseSink) { s.maxAttempts = n } }

// NewFirehoseSink returns a sink delivering to stream through client.
func NewFirehoseSink(client FirehoseAPI, stream string, opts ...FirehoseOption) *FirehoseSink {
	s := &FirehoseSink{
		client:         client,
		stream:         stream,
		attemptTimeout: DefaultAttemptTimeout,
		baseBackoff:    DefaultBaseBackoff,
		maxBackoff:     DefaultMaxBackoff,
		maxAttempts:    DefaultMaxAttempts,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Deliver implements Sink: it sends records in order, in as many PutRecordBatch calls as Firehose's limits
// require, and blocks until all are accepted or it gives up (non-retryable error, or the context's deadline
// leaves no room for another attempt). The error counts the records not delivered: the failed ones of the
// batch in progress plus every later batch, which is then not attempted.
func (s *FirehoseSink) Deliver(ctx context.Context, records [][]byte) error {
	sent := 0
	for _, batch := range batches(records) {
		if failed, err := s.putBatch(ctx, batch); err != nil {
			notDelivered := failed + len(records) - sent - len(batch)
			return fmt.Errorf("firehose PutRecordBatch to %s: %d of %d records not delivered: %w", s.stream, notDelivered, len(records), err)
		}
		sent += len(batch)
	}
	return nil
}

// batches cuts records into consecutive groups within PutRecordBatch's count and size limits.
func batches(records [][]byte) [][][]byte {
	var out [][][]byte
	start, size := 0, 0
	for i, r := range records {
		if i > start && (i-start == MaxBatchRecords || size+len(r) > MaxBatchBytes) {
			out = append(out, records[start:i])
			start, size = i, 0
		}
		size += len(r)
	}
	if start < len(records) {
		out = append(out, records[start:])
	}
	return out
}

// putBatch delivers one batch, retrying what failed. It returns how many records remain undelivered with the
// last error.
func (s *FirehoseSink) putBatch(ctx context.Context, batch [][]byte) (int, error) {
	pending := batch
	// lastAnswer is the last error Firehose itself returned: when the deadline then cuts an attempt short, it is
	// the cause an operator needs, not the cancellation.
	var lastAnswer error
	for attempt := 1; ; attempt++ {
		failed, err := s.attempt(ctx, pending)
		if err == nil {
			return 0, nil
		}
		pending = failed
		if ctx.Err() != nil {
			return len(pending), fmt.Errorf("attempt %d: %w", attempt, withAnswer(err, lastAnswer))
		}
		if !retryable(err) {
			return len(pending), err
		}
		// An attempt cut short by its own budget is no answer from Firehose: keep the last real one as the cause.
		if !errors.Is(err, context.DeadlineExceeded) {
			lastAnswer = err
		}
		backoff := s.backoff(attempt)
		deadline, hasDeadline := ctx.Deadline()
		if (hasDeadline && time.Now().Add(backoff).After(deadline)) || (!hasDeadline && attempt >= s.maxAttempts) {
			return len(pending), fmt.Errorf("gave up after %d attempts: %w", attempt, withAnswer(err, lastAnswer))
		}
		if err := sleepCtx(ctx, backoff); err != nil {
			return len(pending), fmt.Errorf("gave up after %d attempts: %w", attempt, withAnswer(errors.Join(err, ctx.Err()), lastAnswer))
		}
	}
}

// withAnswer adds Firehose's last answer to err when err is not that answer itself (a timeout, a cancellation).
func withAnswer(err, answer error) error {
	if answer == nil || errors.Is(err, answer) {
		return err
	}
	return fmt.Errorf("%w (last answer from Firehose: %w)", err, answer)
}

// attempt makes one PutRecordBatch call and returns the records still to deliver: all of them when the call
// failed, the failed ones of a partial success.
func (s *FirehoseSink) attempt(ctx context.Context, records [][]byte) ([][]byte, error) {
	actx, cancel := context.WithTimeout(ctx, s.attemptBudget(ctx))
	defer cancel()
	out, err := s.client.PutRecordBatch(actx, s.stream, records)
	if err != nil {
		return records, err
	}
	if out.FailedPutCount == 0 {
		return nil, nil
	}
	if len(out.RequestResponses) != len(records) {
		return records, fmt.Errorf("PutRecordBatch answered %d entries for %d records with %d failed", len(out.RequestResponses), len(records), out.FailedPutCount)
	}
	var failed [][]byte
	var first *recordError
	for i, rr := range out.RequestResponses {
		if rr.ErrorCode != "" {
			failed = append(failed, records[i])
			if first == nil {
				first = &recordError{code: rr.ErrorCode, message: rr.ErrorMessage}
			}
		}
	}
	if len(failed) == 0 {
		return nil, nil
	}
	return failed, fmt.Errorf("%d records failed in a partially successful batch: %w", len(failed), first)
}

// attemptBudget bounds one attempt: the attempt timeout, or half the time left before the context's deadline
// when that is less, so a hung call leaves room for a retry instead of taking the whole ship reserve. Below
// minAttemptTimeout halving would only starve the attempt, and the deadline bounds it anyway.
func (s *FirehoseSink) attemptBudget(ctx context.Context) time.Duration {
	d := s.attemptTimeout
	if deadline, ok := ctx.Deadline(); ok {
		if half := time.Until(deadline) / 2; half < d && half >= minAttemptTimeout {
			d = half
		}
	}
	return d
}

// recordError is a per-record failure inside a PutRecordBatch response.
type recordError struct{ code, message string }

func (e *recordError) Error() string { return e.code + ": " + e.message }

// ErrorCode makes recordError a smithy.APIError, so retryable and callers classify it like a call error.
func (e *recordError) ErrorCode() string { return e.code }

// ErrorMessage implements smithy.APIError.
func (e *recordError) ErrorMessage() string { return e.message }

// ErrorFault implements smithy.APIError.
func (e *recordError) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }

// retryable tells errors worth another attempt: throttling and service errors, 5xx and 429, attempt time-outs
// and transport failures. Client errors (unknown stream, invalid argument, access denied, KMS problems) and
// per-record failures with other codes are final.
func retryable(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ServiceUnavailableException", "ThrottlingException", "LimitExceededException",
			"InternalFailure", "InternalServerError", "InternalFailureException":
			return true
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() >= 400 {
		return status.HTTPStatusCode() >= 500 || status.HTTPStatusCode() == http.StatusTooManyRequests
	}
	// No answer from the service at all (connection refused or reset, attempt time-out, a 200 whose body was cut
	// off: the records may or may not be stored, and a duplicate is recoverable where a loss is not) is worth
	// retrying; a per-record failure with an unlisted code is not.
	return apiErr == nil
}

// backoff is the pause before attempt+1: exponential from the base, capped, with full jitter on its upper half.
func (s *FirehoseSink) backoff(attempt int) time.Duration {
	d := s.baseBackoff << min(attempt-1, 20)
	if d > s.maxBackoff || d <= 0 {
		d = s.maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
