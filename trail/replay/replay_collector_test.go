package replay

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/collectortest"
	"github.com/agent-audit/agent-audit/trail"
)

// collectorTimeout bounds how long a test waits for the file exporter to write what was sent.
const collectorTimeout = time.Minute

func TestReplayArrivesInARealCollectorSpanForSpanAsStored(t *testing.T) {
	f := newFixture(t)
	want := stored(t, f.root)
	if w := want[f.split+"/"+firstSpanOf(t, want, f.split)]; w.parts < 2 {
		t.Fatal("no trace of the fixture was split into parts: the test no longer exercises joining them")
	}
	for _, tt := range []struct {
		name     string
		protocol Protocol
		gzip     bool
		strip    bool
	}{
		{"protobuf, audit attributes kept", ProtocolProtobuf, false, false},
		{"JSON, audit attributes kept", ProtocolJSON, false, false},
		{"gzip'd protobuf with audit attributes stripped", ProtocolProtobuf, true, true},
		{"JSON with audit attributes stripped", ProtocolJSON, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := collectortest.Start(t)
			exp, err := NewExporter(ExporterConfig{Endpoint: c.Endpoint + "/v1/traces", Protocol: tt.protocol, Gzip: tt.gzip})
			if err != nil {
				t.Fatal(err)
			}
			sel, err := Select(context.Background(), openDB(t, f.root), f.root, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(sel) != len(f.ids) {
				t.Fatalf("selected %d traces, want %d", len(sel), len(f.ids))
			}
			sum, err := Replay(context.Background(), trail.NewLocal(f.root), sel, exp,
				Options{Assemble: AssembleOptions{StripAuditAttributes: tt.strip}, MaxBatchSpans: 8})
			if err != nil {
				t.Fatal(err)
			}
			if !sum.Delivered() || sum.Traces != len(f.ids) || sum.Spans != len(want) || sum.Oversize == 0 || sum.Requests < 2 || sum.Bytes == 0 {
				t.Fatalf("summary %+v: want %d traces and %d spans delivered in several requests, oversize content among them", sum, len(f.ids), len(want))
			}
			got := c.WaitSpans(t, len(want), collectorTimeout)
			for _, d := range compareSpans(got, want, tt.strip) {
				t.Error(d)
			}
			if prompt := bigPromptArrived(got, f.big); !strings.Contains(prompt, bigPrompt) {
				t.Errorf("the oversize run's prompt arrived as %d bytes, want the %d bytes stored apart", len(prompt), len(bigPrompt))
			}
			resources := resourcesOf(got, f.split)
			if tt.strip && resources != 1 {
				t.Errorf("the split trace arrived under %d resources, want 1 once the framing is stripped", resources)
			}
			if !tt.strip && resources < 2 {
				t.Errorf("the split trace arrived under %d resource, want one per record it was stored in", resources)
			}
		})
	}
}

// bigPromptArrived returns the gen_ai.input.messages of the oversize trace's invoke_agent span.
func bigPromptArrived(got []ptrace.Traces, id string) string {
	var prompt string
	for _, td := range got {
		eachSpan(td, func(s ptrace.Span) {
			if s.TraceID().String() == id && strings.HasPrefix(s.Name(), "invoke_agent") {
				if v, ok := s.Attributes().Get("gen_ai.input.messages"); ok {
					prompt = v.Str()
				}
			}
		})
	}
	return prompt
}

// resourcesOf counts the resources the spans of trace id arrived under.
func resourcesOf(got []ptrace.Traces, id string) int {
	n := 0
	for _, td := range got {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			if rs.ScopeSpans().Len() > 0 && rs.ScopeSpans().At(0).Spans().Len() > 0 &&
				rs.ScopeSpans().At(0).Spans().At(0).TraceID().String() == id {
				n++
			}
		}
	}
	return n
}

func TestReplayKeepsTheSealAsStoredByDefault(t *testing.T) {
	f := newFixture(t)
	c := collectortest.Start(t)
	exp, err := NewExporter(ExporterConfig{Endpoint: c.Endpoint + "/v1/traces"})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := Select(context.Background(), openDB(t, f.root), f.root, Filter{TraceIDs: []string{f.ids[0]}})
	if err != nil || len(sel) != 1 {
		t.Fatalf("select one trace: %v, %d", err, len(sel))
	}
	if _, err := Replay(context.Background(), trail.NewLocal(f.root), sel, exp, Options{}); err != nil {
		t.Fatal(err)
	}
	got := c.WaitSpans(t, 1, collectorTimeout)
	res := got[0].ResourceSpans().At(0).Resource().Attributes()
	for _, k := range []string{seal.AttrChain, seal.AttrSeq, seal.AttrSig} {
		if _, ok := res.Get(k); !ok {
			t.Errorf("the resource arrived without %s", k)
		}
	}
}

// firstSpanOf returns the ID of a span of trace id in want.
func firstSpanOf(t *testing.T, want map[string]storedSpan, id string) string {
	t.Helper()
	for key := range want {
		if trace, span, _ := strings.Cut(key, "/"); trace == id {
			return span
		}
	}
	t.Fatalf("no span of trace %s is stored", id)
	return ""
}
