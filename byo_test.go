package agentaudit_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/agentaudittest"
	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/seal"
)

// handRolled is agent code that does not use this project's loop: it makes GenAI-shaped spans with the plain
// OTel API, as hand instrumentation or another framework would.
type handRolled struct{ tracer trace.Tracer }

func (h handRolled) Run(ctx context.Context, in agent.Input) (agent.Result, error) {
	ctx, root := h.tracer.Start(ctx, "invoke_agent my-agent", trace.WithAttributes(
		semconv.GenAIOperationNameInvokeAgent, semconv.GenAIAgentName("my-agent")))
	defer root.End()
	_, chat := h.tracer.Start(ctx, "chat my-model", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		semconv.GenAIOperationNameChat, semconv.GenAIRequestModel("my-model"), semconv.GenAIUsageInputTokens(12), semconv.GenAIUsageOutputTokens(3)))
	chat.End()
	_, tool := h.tracer.Start(ctx, "execute_tool lookup", trace.WithAttributes(
		semconv.GenAIOperationNameExecuteTool, semconv.GenAIToolName("lookup"), semconv.GenAIToolCallArgumentsKey.String(`{"q":"`+in.Prompt+`"}`)))
	tool.End()
	return agent.Result{Output: "found it", TraceID: root.SpanContext().TraceID(), Turns: 1, ToolCalls: 1}, nil
}

func (h handRolled) Reject(ctx context.Context, _ agent.Input, cause error, attrs ...attribute.KeyValue) trace.TraceID {
	_, root := h.tracer.Start(ctx, "invoke_agent my-agent", trace.WithAttributes(attrs...))
	root.SetStatus(codes.Error, cause.Error())
	root.End()
	return root.SpanContext().TraceID()
}

func TestOwnInstrumentationBecomesOneSealedRecord(t *testing.T) {
	cfg := agentaudit.DefaultConfig()
	cfg.SigningKeyFile = filepath.Join(t.TempDir(), "signing-key.pem")
	sink := &agentaudittest.MemorySink{}
	trail, err := agentaudit.NewTrail(context.Background(), cfg, agentaudit.WithSink(sink), agentaudit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	// The user's own provider, with a sampler of its own that would drop every trace: the Trail's options,
	// applied last, keep the audit copy whole.
	tp := trail.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	h := trail.Handler(handRolled{tp.Tracer("my-framework")})

	out, err := h.Invoke(context.Background(), []byte(`{"prompt":"where is ticket 7","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}`))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp struct {
		Status, Output string
		TraceID        string `json:"trace_id"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.Status != "ok" || resp.Output != "found it" || resp.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("response %s (%v)", out, err)
	}

	records := sink.Records()
	if len(records) != 1 {
		t.Fatalf("%d records, want the run as one", len(records))
	}
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(records[0])
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				names[s.Name()] = s.TraceID().String() == resp.TraceID
			}
		}
	}
	for _, want := range []string{"invoke_agent my-agent", "chat my-model", "execute_tool lookup"} {
		if !names[want] {
			t.Errorf("the record lacks %q in the run's trace: %v", want, names)
		}
	}

	key, _, err := seal.LoadOrCreateKeyFile(cfg.SigningKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.Public().(*ecdsa.PublicKey)
	r, err := seal.NewVerifier(pub).Verify(records[0])
	if err != nil {
		t.Fatalf("the record does not verify: %v", err)
	}
	if r.TraceID != resp.TraceID || !r.Certified {
		t.Fatalf("sealed record of trace %s, certified %v", r.TraceID, r.Certified)
	}

	tampered := bytes.Replace(records[0], []byte("execute_tool lookup"), []byte("execute_tool delete"), 1)
	if _, err := seal.NewVerifier(pub).Verify(tampered); err == nil {
		t.Fatal("a changed record still verifies")
	}
	if err := trail.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
