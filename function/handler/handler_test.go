package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit/function/agent"
)

var (
	testTraceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	rejectID    = trace.TraceID{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10}
)

// fakeRunner records what the handler asks of the agent. Safe for concurrent use.
type fakeRunner struct {
	mu       sync.Mutex
	result   agent.Result
	err      error
	events   *[]string
	runCtx   context.Context
	input    agent.Input
	rejected error
	attrs    []attribute.KeyValue
}

func (r *fakeRunner) Run(ctx context.Context, in agent.Input) (agent.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.events = append(*r.events, "run")
	r.runCtx, r.input = ctx, in
	res := r.result
	res.TraceID = testTraceID
	return res, r.err
}

func (r *fakeRunner) Reject(_ context.Context, _ agent.Input, cause error, attrs ...attribute.KeyValue) trace.TraceID {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.events = append(*r.events, "reject")
	r.rejected, r.attrs = cause, attrs
	return rejectID
}

// fakeFlusher records FlushTrace calls and returns a configured error.
type fakeFlusher struct {
	err     error
	events  *[]string
	flushed []trace.TraceID
	ctxErr  error
}

func (f *fakeFlusher) FlushTrace(ctx context.Context, id trace.TraceID) error {
	*f.events = append(*f.events, "flush "+id.String())
	f.flushed = append(f.flushed, id)
	f.ctxErr = ctx.Err()
	return f.err
}

type fakeLeg struct{ events *[]string }

func (l fakeLeg) Prepare(context.Context) { *l.events = append(*l.events, "leg prepare") }
func (l fakeLeg) Flush(context.Context)   { *l.events = append(*l.events, "leg flush") }

type fixture struct {
	h      *Handler
	runner *fakeRunner
	audit  *fakeFlusher
	events *[]string
	logs   *bytes.Buffer
}

func newFixture(cfg Config) fixture {
	events := &[]string{}
	logs := &bytes.Buffer{}
	r := &fakeRunner{events: events, result: agent.Result{Output: "391", Turns: 2, ToolCalls: 1}}
	f := &fakeFlusher{events: events}
	cfg.Legs = append(cfg.Legs, fakeLeg{events: events})
	h := New(r, f, cfg, slog.New(slog.NewTextHandler(logs, nil)))
	return fixture{h: h, runner: r, audit: f, events: events, logs: logs}
}

func TestHandleAnswersOnlyAfterTheTraceIsDelivered(t *testing.T) {
	fx := newFixture(Config{CaptureContent: true})
	out, err := fx.h.Invoke(context.Background(), []byte(`{"prompt":"What is 17*23?","conversation_id":"c-1"}`))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp Response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	want := Response{Status: "ok", Output: "391", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
	if resp != want {
		t.Fatalf("response %+v, want %+v", resp, want)
	}
	if fx.runner.input != (agent.Input{Prompt: "What is 17*23?", ConversationID: "c-1"}) {
		t.Fatalf("agent input %+v", fx.runner.input)
	}
	wantEvents := []string{"leg prepare", "run", "flush " + testTraceID.String(), "leg flush"}
	if strings.Join(*fx.events, "|") != strings.Join(wantEvents, "|") {
		t.Fatalf("order %v, want %v", *fx.events, wantEvents)
	}
}

func TestHandleKeepsTheShipReserveBeforeTheDeadline(t *testing.T) {
	tests := []struct {
		name      string
		timeout   time.Duration
		reserve   time.Duration
		wantSlack time.Duration // the agent's deadline is this long before the invocation's
	}{
		{"the full reserve when time allows", 60 * time.Second, 5 * time.Second, 5 * time.Second},
		{"half the time when the reserve would eat it", 4 * time.Second, 5 * time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(Config{ShipReserve: tt.reserve})
			deadline := time.Now().Add(tt.timeout)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			if _, err := fx.h.Handle(ctx, nil); err != nil {
				t.Fatal(err)
			}
			runDeadline, ok := fx.runner.runCtx.Deadline()
			if !ok {
				t.Fatal("the agent ran without a deadline")
			}
			slack := deadline.Sub(runDeadline)
			// The handler reads the clock itself, so allow the few milliseconds between the two readings.
			if slack < tt.wantSlack-50*time.Millisecond || slack > tt.wantSlack+50*time.Millisecond {
				t.Fatalf("agent deadline %v before the invocation's, want %v", slack, tt.wantSlack)
			}
			if fx.audit.ctxErr != nil {
				t.Fatalf("the trace was flushed with a cancelled context: %v", fx.audit.ctxErr)
			}
		})
	}
}

func TestHandleMakesTheRunAChildOfTheCallersTrace(t *testing.T) {
	fx := newFixture(Config{})
	_, err := fx.h.Handle(context.Background(), []byte(`{"traceparent":"00-11111111111111111111111111111111-2222222222222222-01"}`))
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.SpanContextFromContext(fx.runner.runCtx)
	if sc.TraceID().String() != "11111111111111111111111111111111" || sc.SpanID().String() != "2222222222222222" || !sc.IsRemote() {
		t.Fatalf("agent context carries %v/%v remote=%v", sc.TraceID(), sc.SpanID(), sc.IsRemote())
	}
	if fx.runner.input.Prompt != DefaultPrompt {
		t.Fatalf("prompt %q, want the default", fx.runner.input.Prompt)
	}
}

func TestHandleAuditsARejectedEvent(t *testing.T) {
	big := `{"prompt":"` + strings.Repeat("p", 70*1024) + `"}`
	tests := []struct {
		name        string
		payload     string
		content     bool
		wantPayload bool
		wantOmitted bool
	}{
		{"content on records the payload", `{"prompt":42}`, true, true, false},
		{"content off records size and hash only", `{"prompt":42}`, false, false, false},
		{"a payload over 64 KiB is recorded by hash and flagged", big, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(Config{CaptureContent: tt.content, MaxPromptBytes: 100 * 1024})
			if tt.payload == big {
				fx.h.cfg.MaxPromptBytes = 1024
			}
			_, err := fx.h.Handle(context.Background(), []byte(tt.payload))
			var ie *InvocationError
			if !errors.As(err, &ie) || ie.Kind != KindInvalidEvent {
				t.Fatalf("error %v, want an invalid_event InvocationError", err)
			}
			if ie.TraceID != rejectID.String() || !strings.HasSuffix(err.Error(), "(trace_id="+rejectID.String()+")") {
				t.Fatalf("error %q does not carry the rejected trace's id", err)
			}
			var ee *EventError
			if !errors.As(fx.runner.rejected, &ee) || !errors.As(err, &ee) {
				t.Fatalf("Reject got cause %v; the caller got %v; want the EventError in both", fx.runner.rejected, err)
			}
			if len(fx.audit.flushed) != 1 || fx.audit.flushed[0] != rejectID {
				t.Fatalf("flushed %v, want exactly the rejected trace", fx.audit.flushed)
			}
			got := map[attribute.Key]attribute.Value{}
			for _, kv := range fx.runner.attrs {
				got[kv.Key] = kv.Value
			}
			if got[attrRequestBytes].AsInt64() != int64(len(tt.payload)) {
				t.Errorf("request bytes %v, want %d", got[attrRequestBytes], len(tt.payload))
			}
			if len(got[attrRequestSHA256].AsString()) != 64 {
				t.Errorf("request sha256 %q is not a hex SHA-256", got[attrRequestSHA256].AsString())
			}
			_, hasPayload := got[attrRequestPayload]
			if hasPayload != tt.wantPayload {
				t.Errorf("payload recorded = %v, want %v", hasPayload, tt.wantPayload)
			}
			if hasPayload && got[attrRequestPayload].AsString() != tt.payload {
				t.Errorf("recorded payload differs from the one received")
			}
			if got[attrRequestPayloadOmitted].AsBool() != tt.wantOmitted {
				t.Errorf("payload_omitted = %v, want %v", got[attrRequestPayloadOmitted].AsBool(), tt.wantOmitted)
			}
			if strings.Contains(strings.Join(*fx.events, "|"), "run") {
				t.Errorf("the agent ran on a rejected event: %v", *fx.events)
			}
		})
	}
}

func TestHandleFailsClosedWhenTheAuditRecordIsNotDelivered(t *testing.T) {
	deliveryErr := errors.New("firehose PutRecordBatch: 1 of 1 records not delivered: ServiceUnavailableException")

	t.Run("fail-closed returns an audit_delivery error", func(t *testing.T) {
		fx := newFixture(Config{})
		fx.audit.err = deliveryErr
		_, err := fx.h.Handle(context.Background(), []byte(`{}`))
		var ie *InvocationError
		if !errors.As(err, &ie) || ie.Kind != KindAuditDelivery || !errors.Is(err, deliveryErr) {
			t.Fatalf("error %v, want an audit_delivery InvocationError wrapping the delivery error", err)
		}
		if !strings.HasPrefix(err.Error(), "audit record not delivered: ") {
			t.Fatalf("message %q", err)
		}
	})
	t.Run("fail-open answers ok and logs loudly", func(t *testing.T) {
		fx := newFixture(Config{FailOpen: true})
		fx.audit.err = deliveryErr
		resp, err := fx.h.Handle(context.Background(), []byte(`{}`))
		if err != nil || resp.Status != StatusOK {
			t.Fatalf("resp %+v err %v, want ok", resp, err)
		}
		if !strings.Contains(fx.logs.String(), "AUDIT RECORD NOT DELIVERED") || !strings.Contains(fx.logs.String(), "level=ERROR") {
			t.Fatalf("no loud error log: %s", fx.logs)
		}
	})
	t.Run("a rejected event whose record is lost says so", func(t *testing.T) {
		fx := newFixture(Config{})
		fx.audit.err = deliveryErr
		_, err := fx.h.Handle(context.Background(), []byte(`{"nope":1}`))
		if !errors.Is(err, deliveryErr) || !strings.Contains(err.Error(), "invalid event: nope") {
			t.Fatalf("error %v, want both the rejection and the delivery failure", err)
		}
	})
}

func TestHandleHidesRunErrorTextWithContentOff(t *testing.T) {
	const marker = "PROMPT-ECHO-MARKER"
	runErr := errors.New("model said: " + marker)
	for _, content := range []bool{true, false} {
		fx := newFixture(Config{CaptureContent: content})
		fx.runner.err = runErr
		_, err := fx.h.Handle(context.Background(), []byte(`{}`))
		var ie *InvocationError
		if !errors.As(err, &ie) || ie.Kind != KindAgentRun {
			t.Fatalf("error %v, want an agent_run InvocationError", err)
		}
		if ie.Type != agent.ErrorType(runErr) {
			t.Errorf("type %q, want %q", ie.Type, agent.ErrorType(runErr))
		}
		if got := strings.Contains(err.Error(), marker); got != content {
			t.Errorf("content=%v: message %q contains the run error text = %v", content, err, got)
		}
		if strings.Contains(fx.logs.String(), marker) {
			t.Errorf("content=%v: the log line repeats the run error text: %s", content, fx.logs)
		}
		if len(fx.audit.flushed) != 1 || fx.audit.flushed[0] != testTraceID {
			t.Errorf("flushed %v, want the failed run's trace", fx.audit.flushed)
		}
	}
}
