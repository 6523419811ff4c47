package handler

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/agent-audit/agent-audit/agentaudittest"
	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
)

// A provider built with the SDK's defaults samples ParentBased(AlwaysSample): a caller's unsampled traceparent
// makes the whole run unrecorded, and nothing reaches the audit processor. The handler must not answer "ok".
func TestAnUnsampledTraceparentUnderAParentBasedSamplerFailsClosed(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sink := &agentaudittest.MemorySink{}
	proc := audit.NewProcessor(sink, audit.WithLogger(quiet))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(proc)) // the SDK's default sampler
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	a, err := agent.New(agent.NewOfflineModel(), nil, agent.Config{Name: "byo", MaxTurns: 2, Tracer: tp.Tracer("byo")})
	if err != nil {
		t.Fatal(err)
	}
	h := New(a, proc, Config{}, quiet)

	resp, err := h.Handle(context.Background(), []byte(`{"prompt":"hi","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}`))
	var inv *InvocationError
	if !errors.As(err, &inv) || inv.Kind != KindAuditDelivery || !errors.Is(err, audit.ErrTraceNotRecorded) {
		t.Fatalf("Handle = %+v, %v; want an audit_delivery InvocationError for the unrecorded trace", resp, err)
	}
	if inv.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || sink.Calls() != 0 {
		t.Fatalf("error names trace %s; %d deliveries", inv.TraceID, sink.Calls())
	}

	if _, err := h.Handle(context.Background(), []byte(`{"prompt":"hi","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`)); err != nil || len(sink.Records()) != 1 {
		t.Fatalf("a sampled traceparent: %v, %d records", err, len(sink.Records()))
	}
}
