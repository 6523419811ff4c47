package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
)

// DefaultShipReserve is the time kept back before the Lambda deadline for shipping the trace (5 s).
const DefaultShipReserve = 5 * time.Second

// DefaultTimeout bounds an invocation whose context carries no deadline (local runs, tests): Lambda's default
// function timeout of this project, 60 s.
const DefaultTimeout = 60 * time.Second

// responseMargin is kept after the delivery deadline so the runtime can still post the response or error.
const responseMargin = 200 * time.Millisecond

// maxRecordedPayloadBytes bounds the raw payload recorded on a rejected request's span (content capture on).
// A larger payload is recorded by size and SHA-256 only, with agent_audit.request.payload_omitted = true, so the
// rejection still fits one audit record.
const maxRecordedPayloadBytes = 64 * 1024

// Span attributes the handler adds to a rejected request's invoke_agent span.
const (
	attrRequestBytes          = attribute.Key("agent_audit.request.bytes")
	attrRequestSHA256         = attribute.Key("agent_audit.request.sha256")
	attrRequestPayload        = attribute.Key("agent_audit.request.payload")
	attrRequestPayloadOmitted = attribute.Key("agent_audit.request.payload_omitted")
)

// Runner is the agent as the handler uses it; *agent.Agent implements it.
type Runner interface {
	Run(ctx context.Context, in agent.Input) (agent.Result, error)
	Reject(ctx context.Context, in agent.Input, cause error, attrs ...attribute.KeyValue) trace.TraceID
}

// Flusher delivers one trace's audit records and reports the outcome; *audit.Processor implements it.
type Flusher interface {
	FlushTrace(ctx context.Context, id trace.TraceID) error
}

// Config holds the handler's settings. The zero value of each field selects its documented default.
type Config struct {
	// MaxPromptBytes is the largest accepted prompt (default DefaultMaxPromptBytes).
	MaxPromptBytes int
	// CaptureContent mirrors the agent's switch: when false, errors returned to the caller carry the error type only.
	CaptureContent bool
	// FailOpen returns "ok" even when the audit record could not be delivered, logging an error. Off by default:
	// a caller never gets "ok" without its audit record delivered.
	FailOpen bool
	// ShipReserve is kept back from the Lambda deadline for delivering the trace (default DefaultShipReserve);
	// it is capped at half the remaining time so a short timeout still leaves the agent room to run.
	ShipReserve time.Duration
	// Legs are further telemetry destinations, prepared before and flushed after each invocation's audit.
	Legs []Leg
}

// Handler serves invocations. It is safe for concurrent use; it keeps no state between invocations.
type Handler struct {
	agent  Runner
	audit  Flusher
	cfg    Config
	logger *slog.Logger
}

// New returns a Handler running agent runs through r and delivering their traces through f.
func New(r Runner, f Flusher, cfg Config, logger *slog.Logger) *Handler {
	if cfg.MaxPromptBytes <= 0 {
		cfg.MaxPromptBytes = DefaultMaxPromptBytes
	}
	if cfg.ShipReserve <= 0 {
		cfg.ShipReserve = DefaultShipReserve
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{agent: r, audit: f, cfg: cfg, logger: logger}
}

// Invoke implements aws-lambda-go's lambda.Handler: it takes the raw payload, so even a payload that is not
// JSON reaches the handler and is audited as a rejected request.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	resp, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

// Handle runs one invocation. It returns a Response only after the run's trace has been delivered; otherwise an
// *InvocationError. Every path, including a rejected payload, leaves an audited trace.
func (h *Handler) Handle(ctx context.Context, payload []byte) (Response, error) {
	start := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(DefaultTimeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	ctx = audit.ContextWithDeliveryDeadline(ctx, deadline.Add(-responseMargin))
	flushCtx := context.WithoutCancel(ctx)
	for _, leg := range h.cfg.Legs {
		leg.Prepare(ctx)
		defer leg.Flush(flushCtx)
	}

	ev, err := DecodeEvent(payload, h.cfg.MaxPromptBytes)
	if err != nil {
		id := h.agent.Reject(ctx, agent.Input{}, err, h.rejectionAttrs(payload)...)
		return Response{}, h.finishRejected(flushCtx, id, err)
	}

	runCtx, cancel := context.WithDeadline(ctx, h.runDeadline(start, deadline))
	defer cancel()
	if ev.Parent.IsValid() {
		runCtx = trace.ContextWithRemoteSpanContext(runCtx, ev.Parent)
	}
	res, runErr := h.agent.Run(runCtx, agent.Input{Prompt: ev.Prompt, ConversationID: ev.ConversationID})
	if deliveryErr := h.audit.FlushTrace(flushCtx, res.TraceID); deliveryErr != nil {
		if !h.cfg.FailOpen {
			h.logger.Error("audit record not delivered; failing the invocation", "trace_id", res.TraceID.String(), "error", deliveryErr)
			return Response{}, &InvocationError{TraceID: res.TraceID.String(), Kind: KindAuditDelivery, Err: deliveryErr}
		}
		h.logger.Error("AUDIT RECORD NOT DELIVERED (fail-open is on): returning the result anyway", "trace_id", res.TraceID.String(), "error", deliveryErr)
	}
	if runErr != nil {
		h.logger.Warn("agent run failed", "trace_id", res.TraceID.String(), "error_type", agent.ErrorType(runErr), "duration_ms", time.Since(start).Milliseconds())
		return Response{}, &InvocationError{TraceID: res.TraceID.String(), Kind: KindAgentRun, Type: agent.ErrorType(runErr), Err: h.visible(runErr)}
	}
	h.logger.Info("agent run ok", "trace_id", res.TraceID.String(), "turns", res.Turns, "tool_calls", res.ToolCalls,
		"input_tokens", res.Usage.InputTokens, "output_tokens", res.Usage.OutputTokens, "duration_ms", time.Since(start).Milliseconds())
	return Response{Status: StatusOK, Output: res.Output, TraceID: res.TraceID.String()}, nil
}

// finishRejected delivers a rejected request's trace and builds the error the caller sees. A rejection whose
// audit record could not be delivered says so too: the caller learns that nothing was recorded.
func (h *Handler) finishRejected(ctx context.Context, id trace.TraceID, cause error) error {
	h.logger.Warn("invalid event rejected", "trace_id", id.String(), "error", cause)
	if deliveryErr := h.audit.FlushTrace(ctx, id); deliveryErr != nil {
		h.logger.Error("audit record of a rejected event not delivered", "trace_id", id.String(), "error", deliveryErr)
		return &InvocationError{TraceID: id.String(), Kind: KindInvalidEvent, Err: errors.Join(cause, fmt.Errorf("audit delivery: %w", deliveryErr))}
	}
	return &InvocationError{TraceID: id.String(), Kind: KindInvalidEvent, Err: cause}
}

// rejectionAttrs records what was rejected without trusting it: always its size and SHA-256; the payload itself
// only with content capture on and only when small enough to keep the rejection within one record.
func (h *Handler) rejectionAttrs(payload []byte) []attribute.KeyValue {
	sum := sha256.Sum256(payload)
	attrs := []attribute.KeyValue{
		attrRequestBytes.Int(len(payload)),
		attrRequestSHA256.String(hex.EncodeToString(sum[:])),
	}
	if !h.cfg.CaptureContent {
		return attrs
	}
	if len(payload) > maxRecordedPayloadBytes {
		return append(attrs, attrRequestPayloadOmitted.Bool(true))
	}
	return append(attrs, attrRequestPayload.String(string(payload)))
}

// runDeadline is the agent's deadline: the Lambda deadline less the ship reserve, the reserve capped at half the
// time remaining.
func (h *Handler) runDeadline(now, deadline time.Time) time.Time {
	reserve := h.cfg.ShipReserve
	if half := deadline.Sub(now) / 2; reserve > half {
		reserve = half
	}
	return deadline.Add(-reserve)
}

// visible is the run error as the caller may see it: whole with content capture on; with it off nil, leaving the
// error type alone, since model and tool errors may echo prompt content (pydantic-ai's GHSA-4x9p-g9wm-8q7f).
func (h *Handler) visible(err error) error {
	if h.cfg.CaptureContent {
		return err
	}
	return nil
}
