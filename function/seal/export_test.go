package seal

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// RecordForTest builds a one-span trace whose prompt attribute is content, for the tests of this package and of
// package seal_test alike.
func RecordForTest(content string) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "agent-audit")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1, 2, 3})
	sp.SetSpanID(pcommon.SpanID{4, 5, 6})
	sp.SetName("invoke_agent agent-audit")
	sp.Attributes().PutStr("gen_ai.input.messages", content)
	return td
}

// LineForTest renders td as the encoder does: one '\n'-terminated OTLP/JSON line.
func LineForTest(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	var m ptrace.JSONMarshaler
	b, err := m.MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}
