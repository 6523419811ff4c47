package agentaudit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/agentaudittest"
	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
)

// lookupTicket is a tool made of a Go function: its arguments arrive decoded, its result goes back as JSON.
var lookupTicket = agentaudit.NewTool("lookup_ticket", "Look a support ticket up by its id.",
	json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`),
	func(_ context.Context, args struct {
		ID string `json:"id"`
	}) (any, error) {
		return map[string]string{"id": args.ID, "status": "open"}, nil
	})

// The whole main of an audited agent Lambda: the environment (AgentFunction sets it) says where records go and
// which key seals them; the code says what the agent is.
func ExampleStart() {
	agentaudit.Start(
		agentaudit.WithAgentName("ticket-agent"),
		agentaudit.WithSystemPrompt("You answer questions about support tickets. Look tickets up; never guess."),
		agentaudit.WithTools(lookupTicket),
		agentaudit.WithModelSettings(agentaudit.ModelSettings{ModelName: "claude-haiku-4-5", MaxTokens: 512}),
	)
}

// New assembles the same function Start serves, here with a scripted model and an in-memory sink, so a test can
// invoke it and read the audit record it delivered before answering.
func ExampleNew() {
	model := agent.NewOfflineModel(agent.WithScript(
		agent.Step{ToolCalls: []agent.ToolCall{{Name: "lookup_ticket", Arguments: json.RawMessage(`{"id":"T-1"}`)}}},
		agent.Step{Text: "Ticket T-1 is open."},
	))
	sink := &agentaudittest.MemorySink{}
	fn, err := agentaudit.New(context.Background(), agentaudit.DefaultConfig(),
		agentaudit.WithAgentName("ticket-agent"),
		agentaudit.WithTools(lookupTicket),
		agentaudit.WithModel(model),
		agentaudit.WithSink(sink),
		agentaudit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fn.Shutdown(context.Background())

	out, err := fn.Invoke(context.Background(), []byte(`{"prompt":"Is ticket T-1 open?"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	var resp struct{ Status, Output string }
	_ = json.Unmarshal(out, &resp)
	fmt.Println(resp.Status+":", resp.Output)

	fmt.Println(len(sink.Records()), "record:", spanNames(sink.Records()))
	// Output:
	// ok: Ticket T-1 is open.
	// 1 record: [chat offline chat offline execute_tool lookup_ticket invoke_agent ticket-agent]
}

// Agent code with spans of its own registers the Trail on its own tracer provider: every span it makes reaches
// the audit processor, sampled whatever the provider's own sampler says, and FlushTrace delivers the trace (the
// Trail's Handler does that for every invocation).
func ExampleNewTrail() {
	sink := &agentaudittest.MemorySink{}
	trail, err := agentaudit.NewTrail(context.Background(), agentaudit.DefaultConfig(),
		agentaudit.WithSink(sink), agentaudit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := trail.NewTracerProvider()
	defer tp.Shutdown(context.Background())

	ctx := audit.ContextWithDeliveryDeadline(context.Background(), time.Now().Add(10*time.Second))
	ctx, root := tp.Tracer("my-framework").Start(ctx, "invoke_agent my-agent")
	_, chat := tp.Tracer("my-framework").Start(ctx, "chat my-model")
	chat.End()
	root.End()
	if err := trail.Processor.FlushTrace(ctx, root.SpanContext().TraceID()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(sink.Records()), "record:", spanNames(sink.Records()))
	// Output:
	// 1 record: [chat my-model invoke_agent my-agent]
}

// spanNames lists the span names of OTLP/JSON records, sorted.
func spanNames(records [][]byte) []string {
	var names []string
	for _, record := range records {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(record)
		if err != nil {
			return []string{err.Error()}
		}
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, s := range ss.Spans().All() {
					names = append(names, s.Name())
				}
			}
		}
	}
	slices.Sort(names)
	return names
}
