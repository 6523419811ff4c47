package faultmatrix

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit/function/agent"
)

// OversizeResultBytes is the size of the oversize tool's result: more than a 1,000 KiB Firehose record (1.1 MB).
const OversizeResultBytes = 1_100_000

// lateSpanName names the span the background tool leaves open.
const lateSpanName = "background refresh"

// PanicTool panics on every call, as a broken plugin would.
type PanicTool struct{}

// Spec implements agent.Tool.
func (PanicTool) Spec() agent.ToolSpec {
	return agent.ToolSpec{Name: ToolPanic, Description: "A plugin that panics.", InputSchema: json.RawMessage(`{"type":"object"}`)}
}

// Call implements agent.Tool: it panics.
func (PanicTool) Call(context.Context, json.RawMessage) (json.RawMessage, error) {
	var m map[string]int
	m["boom"]++ // a nil-map write: a runtime panic, not a deliberate panic(value)
	return nil, nil
}

// OversizeTool returns a result of OversizeResultBytes.
type OversizeTool struct{}

// Spec implements agent.Tool.
func (OversizeTool) Spec() agent.ToolSpec {
	return agent.ToolSpec{Name: ToolOversize, Description: "Fetches a large document.", InputSchema: json.RawMessage(`{"type":"object"}`)}
}

// Call implements agent.Tool.
func (OversizeTool) Call(context.Context, json.RawMessage) (json.RawMessage, error) {
	return json.Marshal(map[string]string{"document": strings.Repeat("lorem ipsum ", OversizeResultBytes/12)})
}

// BackgroundTool starts a span under its own and leaves it open, as a tool that hands work to a goroutine does;
// Release ends it later.
type BackgroundTool struct {
	mu   sync.Mutex
	open map[trace.TraceID][]trace.Span
}

// NewBackgroundTool returns a BackgroundTool holding no open spans.
func NewBackgroundTool() *BackgroundTool {
	return &BackgroundTool{open: map[trace.TraceID][]trace.Span{}}
}

// Spec implements agent.Tool.
func (*BackgroundTool) Spec() agent.ToolSpec {
	return agent.ToolSpec{Name: ToolBackground, Description: "Schedules a background refresh.", InputSchema: json.RawMessage(`{"type":"object"}`)}
}

// Call implements agent.Tool: it starts the late span from the tool's context and returns at once.
func (b *BackgroundTool) Call(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
	tracer := trace.SpanFromContext(ctx).TracerProvider().Tracer("github.com/agent-audit/agent-audit/internal/faultmatrix")
	_, span := tracer.Start(ctx, lateSpanName)
	b.mu.Lock()
	id := span.SpanContext().TraceID()
	b.open[id] = append(b.open[id], span)
	b.mu.Unlock()
	return json.RawMessage(`{"scheduled":true}`), nil
}

// Release ends the open spans of trace id; each end ships a follow-up record before Release returns.
func (b *BackgroundTool) Release(id trace.TraceID) int {
	b.mu.Lock()
	spans := b.open[id]
	delete(b.open, id)
	b.mu.Unlock()
	for _, s := range spans {
		s.End()
	}
	return len(spans)
}
