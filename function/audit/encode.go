package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/agent-audit/agent-audit/function/seal"
)

// Record framing attributes; see the package documentation.
const (
	AttrBatchKey = "agent_audit.record.batch_key"
	AttrPart     = "agent_audit.record.part"
	AttrParts    = "agent_audit.record.parts"
	AttrFollowup = "agent_audit.record.followup"
)

// Encoder turns spans into OTLP/JSON records of at most the record limit each, sealed when it has a Sealer.
// Safe for concurrent use.
type Encoder struct {
	exporter *otlptrace.Exporter
	maxBytes int
	sealer   *seal.Sealer
	store    OversizeStore
	now      func() time.Time
	logger   *slog.Logger
}

// EncoderOption configures an Encoder.
type EncoderOption func(*Encoder)

// WithSealer seals every record with s (package seal): records are packed seal.Overhead bytes under the limit
// to leave room for it.
func WithSealer(s *seal.Sealer) EncoderOption { return func(e *Encoder) { e.sealer = s } }

// WithOversizeStore stores the content of spans too large for a record in st (see the package documentation).
// Without one, such a span fails its shipment with ErrSpanTooLarge.
func WithOversizeStore(st OversizeStore) EncoderOption { return func(e *Encoder) { e.store = st } }

// WithEncoderClock sets the clock that dates oversize objects (default time.Now).
func WithEncoderClock(now func() time.Time) EncoderOption { return func(e *Encoder) { e.now = now } }

// WithEncoderLogger sets the logger for records kept unsealed (default slog.Default()); the Processor passes its
// own.
func WithEncoderLogger(l *slog.Logger) EncoderOption { return func(e *Encoder) { e.logger = l } }

// NewEncoder returns an Encoder for records of at most maxRecordBytes (DefaultMaxRecordBytes when ≤ 0).
func NewEncoder(maxRecordBytes int, opts ...EncoderOption) *Encoder {
	if maxRecordBytes <= 0 {
		maxRecordBytes = DefaultMaxRecordBytes
	}
	e := &Encoder{exporter: otlptrace.NewUnstarted(captureClient{}), maxBytes: maxRecordBytes, now: time.Now, logger: slog.Default()}
	for _, o := range opts {
		o(e)
	}
	return e
}

// maxUnsealedReason bounds the reason an unsealed record carries, so it still fits the record limit.
const maxUnsealedReason = 512

// Encode converts spans (of one trace, or of any number) into records: one when the shipment fits, several
// otherwise, all with a fresh batch key. followup marks late spans of an already shipped trace. A span that
// cannot fit a record on its own has its content stored by the OversizeStore first, and without one fails with
// an error wrapping ErrSpanTooLarge. With a Sealer, the records are sealed in order, as the last step; a record
// the Sealer cannot seal is kept, cleanly unsealed (no seal attribute at all), with the reason in
// seal.AttrUnsealed, and logged at Error. A caller that then fails to deliver sealed records should declare
// them (the Processor does, with Sealer.Undelivered).
func (e *Encoder) Encode(ctx context.Context, spans []sdktrace.ReadOnlySpan, followup bool) ([][]byte, error) {
	records, _, err := e.encode(ctx, spans, followup)
	return records, err
}

// encode is Encode, also returning the chain positions of the records it sealed: on an error too, since a
// record sealed but not returned is never delivered.
func (e *Encoder) encode(ctx context.Context, spans []sdktrace.ReadOnlySpan, followup bool) ([][]byte, []int64, error) {
	td, err := e.toTraces(ctx, spans)
	if err != nil {
		return nil, nil, err
	}
	key, err := newBatchKey()
	if err != nil {
		return nil, nil, err
	}
	parts, records, err := e.split(ctx, td, key, followup)
	if err != nil || e.sealer == nil {
		return records, nil, err
	}
	var seqs []int64
	for i, part := range parts {
		// The record is sealed as split rendered it; Seal leaves the line and part as they are when it fails.
		sealed, seq, err := e.sealer.Seal(ctx, records[i])
		if err == nil {
			records[i], seqs = sealed, append(seqs, seq)
			continue
		}
		// Losing the trace because it could not be sealed would be worse than keeping it unsealed: the record
		// says why, and verify reports it.
		reason := err.Error()
		if len(reason) > maxUnsealedReason {
			reason = reason[:maxUnsealedReason]
		}
		part.ResourceSpans().At(0).Resource().Attributes().PutStr(seal.AttrUnsealed, reason)
		e.logger.ErrorContext(ctx, "audit record kept unsealed: it could not be sealed", "record", i, "records", len(parts), "error", err)
		if records[i], err = marshalLine(part); err != nil {
			return nil, seqs, err
		}
	}
	return records, seqs, nil
}

// undelivered declares the sealed records at seqs undelivered to the Sealer, if there is one.
func (e *Encoder) undelivered(seqs []int64) {
	if e.sealer != nil && len(seqs) > 0 {
		e.sealer.Undelivered(seqs...)
	}
}

// limit is the size a record may have before sealing.
func (e *Encoder) limit() int {
	if e.sealer != nil {
		return e.maxBytes - seal.Overhead
	}
	return e.maxBytes
}

// toTraces converts spans with the OTel SDK's own span→OTLP transform (run by the otlptrace exporter, which hands
// the protobuf to our client) and loads the protobuf into the Collector's pdata, whose JSON marshaler writes
// spec OTLP/JSON.
func (e *Encoder) toTraces(ctx context.Context, spans []sdktrace.ReadOnlySpan) (ptrace.Traces, error) {
	var captured []*tracepb.ResourceSpans
	if err := e.exporter.ExportSpans(context.WithValue(ctx, captureKey{}, &captured), spans); err != nil {
		return ptrace.Traces{}, fmt.Errorf("convert spans to OTLP: %w", err)
	}
	repairUTF8(captured)
	// TracesData has ExportTraceServiceRequest's wire form; the collector package would link gRPC's stubs.
	b, err := proto.Marshal(&tracepb.TracesData{ResourceSpans: captured})
	if err != nil {
		return ptrace.Traces{}, fmt.Errorf("marshal OTLP protobuf: %w", err)
	}
	var u ptrace.ProtoUnmarshaler
	td, err := u.UnmarshalTraces(b)
	if err != nil {
		return ptrace.Traces{}, fmt.Errorf("load OTLP into pdata: %w", err)
	}
	return td, nil
}

// marshalRecord frames td as part of parts and renders it as one '\n'-terminated JSON line (marshalLine).
func marshalRecord(td ptrace.Traces, key string, part, parts int, followup bool) ([]byte, error) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		attrs := td.ResourceSpans().At(i).Resource().Attributes()
		attrs.PutStr(AttrBatchKey, key)
		attrs.PutInt(AttrPart, int64(part))
		attrs.PutInt(AttrParts, int64(parts))
		attrs.PutBool(AttrFollowup, followup)
	}
	return marshalLine(td)
}

// marshalLine renders td as one '\n'-terminated OTLP/JSON line. No room is reserved for a seal: the Sealer
// builds the sealed line in one buffer of exactly its size (reserving seal.Overhead here would copy the line
// into a larger buffer first, more garbage for the same one copy).
func marshalLine(td ptrace.Traces) ([]byte, error) {
	var m ptrace.JSONMarshaler
	b, err := m.MarshalTraces(td)
	if err != nil {
		return nil, fmt.Errorf("marshal OTLP/JSON: %w", err)
	}
	return append(b, '\n'), nil
}

func newBatchKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("batch key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

type captureKey struct{}

// captureClient is the otlptrace.Client that keeps the converted spans instead of sending them. Each export call
// carries its own destination in the context, so concurrent encodes share nothing.
type captureClient struct{}

func (captureClient) Start(context.Context) error { return nil }

func (captureClient) Stop(context.Context) error { return nil }

func (captureClient) UploadTraces(ctx context.Context, rs []*tracepb.ResourceSpans) error {
	dst, ok := ctx.Value(captureKey{}).(*[]*tracepb.ResourceSpans)
	if !ok {
		return errors.New("audit encoder: export without a capture destination")
	}
	*dst = append(*dst, rs...)
	return nil
}
