package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit/internal/audittest"
)

// setup returns a tracer whose spans go through a Processor into a memory sink.
func setup(t *testing.T, opts ...Option) (trace.Tracer, *Processor, *audittest.MemorySink) {
	t.Helper()
	sink := &audittest.MemorySink{}
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
