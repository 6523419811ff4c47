package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit/agentaudittest"
	"github.com/agent-audit/agent-audit/function/awsjson"
	"github.com/agent-audit/agent-audit/internal/audittest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
)

// setup returns a tracer whose spans go through a Processor into a memory sink.
func setup(t *testing.T, opts ...Option) (trace.Tracer, *Processor, *agentaudittest.MemorySink) {
	t.Helper()
	sink := &agentaudittest.MemorySink{}
	tracer, p, _ := setupWith(t, sink, opts...)
	return tracer, p, sink
}

// setupWith returns a tracer whose spans go through a Processor into sink.
func setupWith(t *testing.T, sink Sink, opts ...Option) (trace.Tracer, *Processor, Sink) {
	t.Helper()
	p := NewProcessor(sink, opts...)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp.Tracer("test"), p, sink
}

func handlerCtx() context.Context {
	return ContextWithDeliveryDeadline(context.Background(), time.Now().Add(10*time.Second))
}

func TestAnOpenChildHoldsTheTraceBack(t *testing.T) {
	tracer, p, sink := setup(t)
	ctx, root := tracer.Start(handlerCtx(), "root")
	_, child := tracer.Start(ctx, "child")
	root.End()
	if sink.Calls() != 0 {
		t.Fatal("the trace shipped while a child was still open (logfire#2273)")
	}
	child.End()
	spans := audittest.Decode(t, sink.Records())
	if len(spans) != 2 || sink.Calls() != 1 {
		t.Fatalf("got %d spans in %d deliveries, want both spans in one", len(spans), sink.Calls())
	}
	if err := p.FlushTrace(context.Background(), root.SpanContext().TraceID()); err != nil {
		t.Fatal(err)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d traces pending after the outcome was collected", p.Pending())
	}
}

func TestLateSpansShipAsFollowUps(t *testing.T) {
	t.Run("a span still open at FlushTrace ships when it ends", func(t *testing.T) {
		tracer, p, sink := setup(t)
		ctx, root := tracer.Start(handlerCtx(), "root")
		_, straggler := tracer.Start(ctx, "background")
		root.End()
		id := root.SpanContext().TraceID()
		if err := p.FlushTrace(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		first := audittest.Decode(t, sink.Records())
		if len(first) != 1 || first[0].Name != "root" || first[0].Resource[AttrFollowup] != false {
			t.Fatalf("partial shipment %+v", first)
		}
		straggler.End()
		all := audittest.Decode(t, sink.Records())
		if len(all) != 2 || all[1].Name != "background" || all[1].TraceID != id.String() || all[1].Resource[AttrFollowup] != true {
			t.Fatalf("follow-up %+v", all)
		}
		if all[0].Resource[AttrBatchKey] == all[1].Resource[AttrBatchKey] {
			t.Fatal("the follow-up reuses the first shipment's batch key")
		}
		if p.Pending() != 0 {
			t.Fatalf("%d traces pending", p.Pending())
		}
	})
	t.Run("a span started under a shipped trace ships on its own", func(t *testing.T) {
		tracer, p, sink := setup(t)
		ctx, root := tracer.Start(handlerCtx(), "root")
		root.End()
		_ = p.FlushTrace(context.Background(), root.SpanContext().TraceID())
		_, late := tracer.Start(ctx, "late")
		late.End()
		spans := audittest.Decode(t, sink.Records())
		if len(spans) != 2 || spans[1].Name != "late" || spans[1].Resource[AttrFollowup] != true || spans[1].ParentSpanID != spans[0].SpanID {
			t.Fatalf("spans %+v", spans)
		}
		if p.Pending() != 0 {
			t.Fatalf("%d traces pending", p.Pending())
		}
	})
}

func TestSuppressedSpansAreNotAudited(t *testing.T) {
	tracer, _, sink := setup(t)
	ctx, root := tracer.Start(handlerCtx(), "root")
	_, sinkCall := tracer.Start(Suppress(ctx), "firehose.PutRecordBatch")
	sinkCall.End()
	root.End()
	spans := audittest.Decode(t, sink.Records())
	if len(spans) != 1 || spans[0].Name != "root" {
		t.Fatalf("spans %v", spans)
	}
}

func TestDeliveryFailures(t *testing.T) {
	t.Run("FlushTrace returns the failure of the shipment at root end", func(t *testing.T) {
		tracer, p, sink := setup(t)
		sink.FailWith(errors.New("stream down"))
		_, root := tracer.Start(handlerCtx(), "root")
		root.End()
		err := p.FlushTrace(context.Background(), root.SpanContext().TraceID())
		if err == nil || !strings.Contains(err.Error(), "stream down") {
			t.Fatalf("err %v", err)
		}
		if p.FlushTrace(context.Background(), root.SpanContext().TraceID()) != nil || p.Pending() != 0 {
			t.Fatal("the outcome was kept after it was collected")
		}
	})
	t.Run("a failure nobody collects is logged", func(t *testing.T) {
		var logs bytes.Buffer
		tracer, p, sink := setup(t, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		sink.FailWith(errors.New("stream down"))
		_, root := tracer.Start(context.Background(), "unmanaged")
		root.End()
		if !strings.Contains(logs.String(), "audit delivery failed") || !strings.Contains(logs.String(), root.SpanContext().TraceID().String()) {
			t.Fatalf("log %q", logs.String())
		}
		if p.Pending() != 0 {
			t.Fatalf("%d pending", p.Pending())
		}
	})
}

func TestForceFlushShipsEverythingBuffered(t *testing.T) {
	tracer, p, sink := setup(t)
	var open []trace.Span
	for i := 0; i < 3; i++ {
		ctx, root := tracer.Start(handlerCtx(), "root")
		_, done := tracer.Start(ctx, "finished child")
		done.End()
		open = append(open, root)
	}
	if sink.Calls() != 0 {
		t.Fatal("shipped before completion")
	}
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(audittest.ByTrace(audittest.Decode(t, sink.Records()))); got != 3 {
		t.Fatalf("%d traces flushed, want 3", got)
	}
	for _, s := range open {
		s.End() // the roots now ship as follow-ups
	}
	spans := audittest.Decode(t, sink.Records())
	if len(spans) != 6 || p.Pending() != 0 {
		t.Fatalf("%d spans delivered, %d traces pending", len(spans), p.Pending())
	}
}

func TestASIGTERMFlushMidInvocationKeepsItFailingClosed(t *testing.T) {
	// Lambda's SIGTERM arrives while an invocation is still running: the last-chance flush ships what is
	// buffered, and the rest of the trace then fails to ship. The handler must still learn of it.
	tracer, p, sink := setup(t)
	ctx, root := tracer.Start(handlerCtx(), "root")
	_, first := tracer.Start(ctx, "first model call")
	first.End()
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink.FailWith(errors.New("stream down"))
	_, second := tracer.Start(ctx, "second model call")
	second.End()
	root.End()
	err := p.FlushTrace(context.Background(), root.SpanContext().TraceID())
	if err == nil || !strings.Contains(err.Error(), "stream down") {
		t.Fatalf("FlushTrace = %v after the rest of the trace failed to ship, want the failure", err)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d traces pending after the outcome was collected", p.Pending())
	}

	t.Run("a failure of the flush itself reaches the handler too", func(t *testing.T) {
		tracer, p, sink := setup(t)
		ctx, root := tracer.Start(handlerCtx(), "root")
		_, first := tracer.Start(ctx, "first model call")
		first.End()
		sink.FailWith(errors.New("stream down"))
		if err := p.ForceFlush(context.Background()); err == nil {
			t.Fatal("ForceFlush hid the failure")
		}
		sink.FailWith(nil)
		root.End()
		if err := p.FlushTrace(context.Background(), root.SpanContext().TraceID()); err == nil || !strings.Contains(err.Error(), "stream down") {
			t.Fatalf("FlushTrace = %v, want the flush's failure", err)
		}
	})
}

func TestConcurrentTracesShipExactlyOnceAndUnmixed(t *testing.T) {
	const traces, children = 200, 4
	tracer, p, sink := setup(t)
	var wg sync.WaitGroup
	for i := range traces {
		wg.Go(func() {
			ctx, root := tracer.Start(handlerCtx(), fmt.Sprintf("root %d", i))
			var spans []trace.Span
			for c := range children {
				_, s := tracer.Start(ctx, fmt.Sprintf("child %d.%d", i, c))
				spans = append(spans, s)
			}
			root.End() // before its children: the trace must wait for them
			for _, s := range spans {
				s.End()
			}
		})
	}
	wg.Wait()

	spans := audittest.Decode(t, sink.Records())
	perRecord := map[int]map[string]bool{}
	for _, s := range spans {
		if perRecord[s.Record] == nil {
			perRecord[s.Record] = map[string]bool{}
		}
		perRecord[s.Record][s.TraceID] = true
		if s.Resource[AttrFollowup] != false {
			t.Fatalf("span %s shipped as a follow-up", s.Name)
		}
	}
	if len(perRecord) != traces {
		t.Fatalf("%d records for %d traces, want one each", len(perRecord), traces)
	}
	for rec, ids := range perRecord {
		if len(ids) != 1 {
			t.Fatalf("record %d mixes %d traces", rec, len(ids))
		}
	}
	for id, ts := range audittest.ByTrace(spans) {
		names := map[string]int{}
		n := -1
		for _, s := range ts {
			names[s.Name]++
			if s.ParentSpanID == "" {
				if _, err := fmt.Sscanf(s.Name, "root %d", &n); err != nil {
					t.Fatalf("trace %s: root named %q", id, s.Name)
				}
			}
		}
		if n < 0 || len(names) != children+1 || len(ts) != children+1 {
			t.Fatalf("trace %s holds %v, want its root and %d children once each", id, names, children)
		}
		for c := range children {
			if names[fmt.Sprintf("child %d.%d", n, c)] != 1 {
				t.Fatalf("trace %s (root %d) holds %v", id, n, names)
			}
		}
	}
	if p.Pending() != 0 {
		t.Fatalf("%d traces pending after all completed", p.Pending())
	}
}

func TestWarmContainerKeepsNoStateBetweenTraces(t *testing.T) {
	tracer, p, sink := setup(t)
	for i := range 5 {
		ctx, root := tracer.Start(handlerCtx(), "invocation")
		_, child := tracer.Start(ctx, "chat")
		child.End()
		root.End()
		if p.Pending() != 0 {
			t.Fatalf("invocation %d: %d traces held after its trace shipped", i, p.Pending())
		}
		if err := p.FlushTrace(context.Background(), root.SpanContext().TraceID()); err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
	}
	if got := len(audittest.ByTrace(audittest.Decode(t, sink.Records()))); got != 5 {
		t.Fatalf("%d traces delivered, want 5", got)
	}
}

// gateSink blocks every delivery whose records contain block until release is closed; others pass at once.
type gateSink struct {
	agentaudittest.MemorySink
	block   string
	entered chan struct{}
	release chan struct{}
	err     error
}

func (g *gateSink) Deliver(ctx context.Context, records [][]byte) error {
	if bytes.Contains(bytes.Join(records, nil), []byte(g.block)) {
		close(g.entered)
		<-g.release
		return g.err
	}
	return g.MemorySink.Deliver(ctx, records)
}

func TestASlowDeliveryHoldsUpOnlyItsOwnTrace(t *testing.T) {
	sink := &gateSink{block: "slow trace", entered: make(chan struct{}), release: make(chan struct{}), err: errors.New("stream down")}
	p := NewProcessor(sink)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	tracer := tp.Tracer("test")

	_, slow := tracer.Start(handlerCtx(), "slow trace")
	go slow.End() // delivers synchronously inside End, and blocks in the sink
	<-sink.entered

	_, fast := tracer.Start(handlerCtx(), "fast trace")
	fast.End()
	if got := audittest.Decode(t, sink.Records()); len(got) != 1 || got[0].Name != "fast trace" {
		t.Fatalf("the fast trace did not ship while the slow one was delivering: %v", got)
	}

	flushed := make(chan error)
	go func() { flushed <- p.FlushTrace(context.Background(), slow.SpanContext().TraceID()) }()
	select {
	case err := <-flushed:
		t.Fatalf("FlushTrace returned %v before the delivery in flight finished", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(sink.release)
	if err := <-flushed; err == nil || !strings.Contains(err.Error(), "stream down") {
		t.Fatalf("FlushTrace returned %v, want the in-flight delivery's failure", err)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d traces pending", p.Pending())
	}
}

func TestDeliveryErrorFromFirehoseSurfacesFromFlushTrace(t *testing.T) {
	srv := firehosetest.New(t, "some-other-stream")
	tracer, p, _ := setupWith(t, NewFirehoseSink(awsjson.NewFirehose(srv.Config(), nil), stream))
	_, root := tracer.Start(handlerCtx(), "root")
	root.End()
	err := p.FlushTrace(context.Background(), root.SpanContext().TraceID())
	if code(err) != "ResourceNotFoundException" || !strings.Contains(err.Error(), root.SpanContext().TraceID().String()) {
		t.Fatalf("FlushTrace = %v, want ResourceNotFoundException naming the trace", err)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d traces pending after the failure was collected", p.Pending())
	}
}

func TestALateFollowUpFailureIsLogged(t *testing.T) {
	var logs bytes.Buffer
	tracer, p, sink := setup(t, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	ctx, root := tracer.Start(handlerCtx(), "root")
	_, straggler := tracer.Start(ctx, "background")
	root.End()
	id := root.SpanContext().TraceID()
	if err := p.FlushTrace(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	sink.FailWith(errors.New("stream down"))
	straggler.End()
	var entry struct {
		TraceID  string `json:"trace_id"`
		Spans    int    `json:"spans"`
		Followup bool   `json:"followup"`
		Error    string `json:"error"`
	}
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if entry.TraceID != id.String() || entry.Spans != 1 || !entry.Followup || !strings.Contains(entry.Error, "stream down") {
		t.Fatalf("log entry %+v", entry)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d traces pending", p.Pending())
	}
}

func TestASpanTooLargeSurfacesFromFlushTrace(t *testing.T) {
	tracer, p, sink := setup(t, WithMaxRecordBytes(4000))
	_, root := tracer.Start(handlerCtx(), "root")
	root.SetAttributes(attribute.String("gen_ai.output.messages", strings.Repeat("x", 5000)))
	root.End()
	err := p.FlushTrace(context.Background(), root.SpanContext().TraceID())
	if !errors.Is(err, ErrSpanTooLarge) || sink.Calls() != 0 {
		t.Fatalf("FlushTrace = %v after %d deliveries, want ErrSpanTooLarge and nothing sent", err, sink.Calls())
	}
}

func TestShutdownShipsWhatIsBufferedAndRefusesNewTraces(t *testing.T) {
	tracer, p, sink := setup(t)
	ctx, root := tracer.Start(handlerCtx(), "root")
	_, done := tracer.Start(ctx, "done")
	done.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := audittest.Decode(t, sink.Records()); len(got) != 1 || got[0].Name != "done" {
		t.Fatalf("Shutdown shipped %v, want the buffered span", got)
	}
	_, after := tracer.Start(handlerCtx(), "after shutdown")
	after.End()
	root.End() // open before Shutdown: still delivered, as a follow-up
	got := audittest.Decode(t, sink.Records())
	if len(got) != 2 || got[1].Name != "root" || got[1].Resource[AttrFollowup] != true {
		t.Fatalf("after Shutdown: %v, want only the open root as a follow-up", got)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d traces pending", p.Pending())
	}
}

func TestFlushTraceRefusesATraceThatNeverReachedTheProcessor(t *testing.T) {
	tracer, p, sink := setup(t) // the SDK's default sampler: ParentBased(AlwaysSample)
	unsampled := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 1}, SpanID: trace.SpanID{0x00, 0xf0, 1}, Remote: true, // flags 00: not sampled
	})
	tests := []struct {
		name  string
		start func(ctx context.Context) trace.TraceID
	}{
		{"an unsampled traceparent under a ParentBased sampler", func(ctx context.Context) trace.TraceID {
			_, s := tracer.Start(trace.ContextWithRemoteSpanContext(ctx, unsampled), "invoke_agent a")
			s.End()
			return s.SpanContext().TraceID()
		}},
		{"a root started from a suppressed context", func(ctx context.Context) trace.TraceID {
			_, s := tracer.Start(Suppress(ctx), "invoke_agent a")
			s.End()
			return s.SpanContext().TraceID()
		}},
		{"a trace id no span was started for", func(context.Context) trace.TraceID { return trace.TraceID{9} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := handlerCtx()
			id := tt.start(ctx)
			if err := p.FlushTrace(ctx, id); !errors.Is(err, ErrTraceNotRecorded) || !strings.Contains(err.Error(), id.String()) {
				t.Fatalf("FlushTrace = %v, want ErrTraceNotRecorded naming the trace", err)
			}
		})
	}
	if sink.Calls() != 0 {
		t.Fatalf("%d deliveries of traces that were not recorded", sink.Calls())
	}

	t.Run("a delivered trace is not confused with one never seen", func(t *testing.T) {
		ctx := handlerCtx()
		_, s := tracer.Start(ctx, "invoke_agent a")
		s.End()
		if err := p.FlushTrace(ctx, s.SpanContext().TraceID()); err != nil || sink.Calls() != 1 {
			t.Fatalf("FlushTrace = %v after %d deliveries", err, sink.Calls())
		}
	})
}
