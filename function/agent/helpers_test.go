package agent

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const profileARN = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123"

// recorder returns a tracer whose ended spans the returned recorder holds.
func recorder(t testing.TB) (*tracetest.SpanRecorder, trace.Tracer) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, tp.Tracer("test")
}

// newAgent builds the agent every test uses: "auditor", a system prompt, at most 4 turns.
func newAgent(t testing.TB, m Model, tools []Tool, capture bool, tracer trace.Tracer) *Agent {
	t.Helper()
	reg, err := NewRegistry(tools...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(m, reg, Config{Name: "auditor", SystemPrompt: "Be brief.", MaxTurns: 4, CaptureContent: capture, Tracer: tracer})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func attrs(s sdktrace.ReadOnlySpan) map[string]attribute.Value {
	out := map[string]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[string(kv.Key)] = kv.Value
	}
	return out
}

func byName(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// assertAttrs checks that got holds every key of want with that value (strings, int64s, bools).
func assertAttrs(t *testing.T, what string, got map[string]attribute.Value, want map[string]any) {
	t.Helper()
	for k, w := range want {
		v, ok := got[k]
		if !ok {
			t.Errorf("%s: missing %s", what, k)
			continue
		}
		if v.AsInterface() != w {
			t.Errorf("%s: %s = %v, want %v", what, k, v.AsInterface(), w)
		}
	}
}

// assertAbsent checks that got holds none of keys.
func assertAbsent(t *testing.T, what string, got map[string]attribute.Value, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := got[k]; ok {
			t.Errorf("%s: unexpected %s = %v", what, k, v.AsInterface())
		}
	}
}

// tree renders spans as an indented tree, "name (kind)" per line, children in the order they ended; it fails
// the test when a span's parent is not among spans (other than the root's).
func tree(t *testing.T, spans []sdktrace.ReadOnlySpan) string {
	t.Helper()
	children := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
	ids := map[trace.SpanID]bool{}
	for _, s := range spans {
		ids[s.SpanContext().SpanID()] = true
	}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if p := s.Parent(); p.IsValid() && ids[p.SpanID()] {
			children[p.SpanID()] = append(children[p.SpanID()], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		fmt.Fprintf(&b, "%s%s (%s)\n", strings.Repeat("  ", depth), s.Name(), s.SpanKind())
		for _, c := range children[s.SpanContext().SpanID()] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}

// dump renders every field of a span a reader of the audit record could see: name, status, attributes, events
// with their attributes, links with theirs.
func dump(s sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s|", s.Name(), s.Status().Code, s.Status().Description)
	for _, kv := range s.Attributes() {
		fmt.Fprintf(&b, "%s=%s|", kv.Key, kv.Value.Emit())
	}
	for _, e := range s.Events() {
		fmt.Fprintf(&b, "event %s:", e.Name)
		for _, kv := range e.Attributes {
			fmt.Fprintf(&b, "%s=%s|", kv.Key, kv.Value.Emit())
		}
	}
	for _, l := range s.Links() {
		for _, kv := range l.Attributes {
			fmt.Fprintf(&b, "link %s=%s|", kv.Key, kv.Value.Emit())
		}
	}
	return b.String()
}
