package logfire

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit/internal/otlptest"
	"github.com/agent-audit/agent-audit/internal/ssmtest"
)

const (
	param = "/agent-audit-dev/logfire-token"
	token = "pylf_v1_eu_TOKENVALUE-must-never-be-logged-0123456789"
)

// fixture is a tracer provider with an audit-like recorder and the Logfire leg, the receiver standing in for
// Logfire, the SSM peer, and the captured logs.
type fixture struct {
	leg      *Leg
	tracer   trace.Tracer
	audit    *tracetest.SpanRecorder
	receiver *otlptest.Receiver
	ssm      *ssmtest.Server
	logs     *syncBuffer
	clock    *fakeClock
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// seqIDs generates deterministic, well-spread trace IDs, so sampling outcomes can be computed exactly.
type seqIDs struct {
	mu sync.Mutex
	n  uint64
}

func (g *seqIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	g.mu.Lock()
	g.n++
	n := g.n
	g.mu.Unlock()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	sum := sha256.Sum256(b[:])
	var tid trace.TraceID
	copy(tid[:], sum[:16])
	var sid trace.SpanID
	copy(sid[:], sum[16:24])
	return tid, sid
}

func (g *seqIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	_, s := g.NewIDs(context.Background())
	return s
}

func newFixture(t *testing.T, mutate func(*Config)) *fixture {
	t.Helper()
	f := &fixture{
		audit:    tracetest.NewSpanRecorder(),
		receiver: otlptest.New(t),
		ssm:      ssmtest.New(t, map[string]string{param: token}),
		logs:     &syncBuffer{},
		clock:    &fakeClock{t: time.Date(2026, 6, 8, 20, 0, 0, 0, time.UTC)},
	}
	cfg := Config{TokenParameter: param, BaseURL: f.receiver.URL, SampleRatio: 1, FlushTimeout: 300 * time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	leg, err := New(cfg, NewSSMClient(f.ssm.AWSConfig(), f.ssm.Server.Client()), WithLogger(slog.New(slog.NewTextHandler(f.logs, nil))), WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.leg = leg
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(f.audit), sdktrace.WithSpanProcessor(leg), sdktrace.WithIDGenerator(&seqIDs{}))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		if strings.Contains(f.logs.String(), token) {
			t.Errorf("the token appears in the logs:\n%s", f.logs.String())
		}
	})
	f.tracer = tp.Tracer("test")
	return f
}

// run makes one trace: a root with two children.
func (f *fixture) run(attrs ...attribute.KeyValue) trace.TraceID {
	ctx, root := f.tracer.Start(context.Background(), "invoke_agent agent", trace.WithAttributes(attrs...))
	_, c1 := f.tracer.Start(ctx, "chat offline", trace.WithAttributes(attrs...))
	c1.End()
	_, c2 := f.tracer.Start(ctx, "execute_tool calculator")
	c2.End()
	root.End()
	return root.SpanContext().TraceID()
}

func received(r *otlptest.Receiver) map[string][]ptrace.Span {
	out := map[string][]ptrace.Span{}
	for _, td := range r.Traces() {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			ss := td.ResourceSpans().At(i).ScopeSpans()
			for j := 0; j < ss.Len(); j++ {
				for k := 0; k < ss.At(j).Spans().Len(); k++ {
					s := ss.At(j).Spans().At(k)
					out[s.TraceID().String()] = append(out[s.TraceID().String()], s)
				}
			}
		}
	}
	return out
}

func TestLogfireGetsTheSameSpanTreeAsTheAuditCopy(t *testing.T) {
	f := newFixture(t, nil)
	f.leg.Prepare(context.Background())
	id := f.run()
	f.leg.Flush(context.Background())

	got := received(f.receiver)[id.String()]
	audit := f.audit.Ended()
	if len(got) != 3 || len(audit) != 3 {
		t.Fatalf("Logfire got %d spans, the audit copy %d; want 3 and 3", len(got), len(audit))
	}
	want := map[string]string{} // span id → name|parent
	for _, s := range audit {
		want[s.SpanContext().SpanID().String()] = s.Name() + "|" + s.Parent().SpanID().String()
	}
	for _, s := range got {
		parent := s.ParentSpanID().String()
		if s.ParentSpanID().IsEmpty() {
			parent = trace.SpanID{}.String()
		}
		if want[s.SpanID().String()] != s.Name()+"|"+parent {
			t.Errorf("span %s %s (parent %s) is not in the audit copy", s.SpanID(), s.Name(), parent)
		}
	}
	h := f.receiver.Headers()
	if len(h) == 0 || h[0].Get("Authorization") != token {
		t.Fatalf("Authorization header %q", h[0].Get("Authorization"))
	}
	if n, decrypted := f.ssm.Calls(); n != 1 || !decrypted[0] {
		t.Fatalf("SSM calls %d, WithDecryption %v", n, decrypted)
	}
	f.leg.Prepare(context.Background())
	if n, _ := f.ssm.Calls(); n != 1 {
		t.Fatalf("the token was fetched again on a warm container (%d calls)", n)
	}
}

func TestSamplingSendsWholeTracesOrNone(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.SampleRatio = 0.1 })
	f.leg.Prepare(context.Background())
	sampler := sdktrace.TraceIDRatioBased(0.1)
	want := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := f.run()
		if sampler.ShouldSample(sdktrace.SamplingParameters{TraceID: id}).Decision == sdktrace.RecordAndSample {
			want[id.String()] = true
		}
	}
	f.leg.Flush(context.Background())
	got := received(f.receiver)
	if len(f.audit.Ended()) != 3000 {
		t.Fatalf("the audit copy holds %d spans, want all 3000", len(f.audit.Ended()))
	}
	if len(got) != len(want) {
		t.Fatalf("Logfire got %d traces, the ratio rule selects %d of 1000", len(got), len(want))
	}
	if len(want) < 60 || len(want) > 140 {
		t.Fatalf("the rule selected %d of 1000 at ratio 0.1", len(want))
	}
	for id, spans := range got {
		if !want[id] || len(spans) != 3 {
			t.Fatalf("trace %s: %d spans in Logfire, selected %v; want whole selected traces only", id, len(spans), want[id])
		}
	}
}

func TestATokenFetchFailureIsRetriedWithBackoff(t *testing.T) {
	f := newFixture(t, nil)
	f.ssm.FailNext("ThrottlingException")
	f.leg.Prepare(context.Background())
	f.run()
	f.leg.Flush(context.Background())
	if len(f.receiver.Traces()) != 0 || len(f.audit.Ended()) != 3 {
		t.Fatal("without a token nothing may go to Logfire, and the audit copy must be whole")
	}
	if !strings.Contains(f.logs.String(), "ThrottlingException") {
		t.Fatalf("the failure was not logged: %s", f.logs.String())
	}
	f.leg.Prepare(context.Background())
	if n, _ := f.ssm.Calls(); n != 1 {
		t.Fatalf("retried before the backoff passed (%d calls)", n)
	}
	f.clock.Advance(2 * time.Second)
	f.leg.Prepare(context.Background())
	id := f.run()
	f.leg.Flush(context.Background())
	if n, _ := f.ssm.Calls(); n != 2 || len(received(f.receiver)[id.String()]) != 3 {
		t.Fatalf("after the backoff: %d SSM calls, %d spans in Logfire", n, len(received(f.receiver)[id.String()]))
	}
}

func TestTheRetryBackoffDoublesUpToItsCapAndStopsAtTheFirstSuccess(t *testing.T) {
	f := newFixture(t, nil)
	failures := 0
	for wait := firstRetryBackoff; ; wait = min(2*wait, maxRetryBackoff) {
		f.ssm.FailNext("InternalServerError")
		f.leg.Prepare(context.Background())
		failures++
		if n, _ := f.ssm.Calls(); n != failures {
			t.Fatalf("attempt %d was not made (%d calls)", failures, n)
		}
		f.clock.Advance(wait - time.Nanosecond)
		f.leg.Prepare(context.Background())
		if n, _ := f.ssm.Calls(); n != failures {
			t.Fatalf("after failure %d a fetch came %v early (backoff %v)", failures, time.Nanosecond, wait)
		}
		f.clock.Advance(time.Nanosecond)
		if wait == maxRetryBackoff && failures > 12 {
			break // the cap has held for several attempts
		}
	}
	f.leg.Prepare(context.Background()) // succeeds
	f.clock.Advance(time.Hour)
	f.leg.Prepare(context.Background())
	if n, _ := f.ssm.Calls(); n != failures+1 || f.leg.active() == nil {
		t.Fatalf("after the success: %d calls, active %v; want %d and true", n, f.leg.active() != nil, failures+1)
	}
	if strings.Count(f.logs.String(), "Logfire live view unavailable") != failures {
		t.Fatalf("want one log line per failed fetch (%d)", failures)
	}
}

func TestTheExtensionPathEncodesTheNameAndAuthenticates(t *testing.T) {
	ext := ssmtest.NewExtension(t, map[string]string{param: token}, "session-token-1")
	receiver := otlptest.New(t)
	var logs syncBuffer
	for _, tc := range []struct {
		session string
		active  bool
	}{{"wrong-session", false}, {"session-token-1", true}} {
		leg, err := New(Config{TokenParameter: param, ExtensionPort: ext.Port, BaseURL: receiver.URL, SampleRatio: 1, FlushTimeout: time.Second}, nil,
			WithSessionToken(func() string { return tc.session }), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err != nil {
			t.Fatal(err)
		}
		leg.Prepare(context.Background())
		if (leg.active() != nil) != tc.active {
			t.Fatalf("session %q: active %v, want %v (logs: %s)", tc.session, leg.active() != nil, tc.active, logs.String())
		}
	}
	for _, q := range ext.RawQueries() {
		if q != "name=%2Fagent-audit-dev%2Flogfire-token&withDecryption=true" {
			t.Fatalf("raw query %q", q)
		}
	}
	if !strings.Contains(logs.String(), "HTTP 403") || strings.Contains(logs.String(), token) {
		t.Fatalf("logs: %s", logs.String())
	}
}

func TestAHungExtensionCostsPrepareNoMoreThanItsContext(t *testing.T) {
	ext := ssmtest.NewExtension(t, map[string]string{param: token}, "session-token-1")
	ext.Stall()
	var logs syncBuffer
	leg, err := New(Config{TokenParameter: param, ExtensionPort: ext.Port, BaseURL: "http://127.0.0.1:1", SampleRatio: 1}, nil,
		WithSessionToken(func() string { return "session-token-1" }), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	leg.Prepare(ctx) // returns while the extension still holds the request
	if leg.active() != nil || len(ext.RawQueries()) != 1 {
		t.Fatalf("active %v after %d requests; want inactive after 1", leg.active() != nil, len(ext.RawQueries()))
	}
	if !strings.Contains(logs.String(), "Logfire live view unavailable") || strings.Contains(logs.String(), token) {
		t.Fatalf("logs: %s", logs.String())
	}
}

func TestASlowOrDownLogfireNeverHoldsTheInvocation(t *testing.T) {
	t.Run("down", func(t *testing.T) {
		f := newFixture(t, nil)
		f.receiver.FailWith(http.StatusInternalServerError)
		f.leg.Prepare(context.Background())
		f.run()
		f.leg.Flush(context.Background())
		if !strings.Contains(f.logs.String(), "Logfire export did not complete") || len(f.audit.Ended()) != 3 {
			t.Fatalf("logs %s", f.logs.String())
		}
	})
	t.Run("slow", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.FlushTimeout = 100 * time.Millisecond })
		f.receiver.Stall()
		f.leg.Prepare(context.Background())
		f.run()
		done := make(chan struct{})
		go func() { f.leg.Flush(context.Background()); close(done) }()
		<-done // Flush came back while Logfire still holds the request
		if len(f.receiver.Traces()) != 0 {
			t.Fatal("the stalled receiver answered; the test proves nothing")
		}
		f.receiver.Release()
		if len(f.audit.Ended()) != 3 {
			t.Fatal("the audit copy is incomplete")
		}
	})
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if _, wired, err := ConfigFromEnv(env(map[string]string{EnvSampleRatio: "nonsense"})); wired || err != nil {
		t.Fatalf("without a parameter: wired %v err %v", wired, err)
	}
	cfg, wired, err := ConfigFromEnv(env(map[string]string{EnvTokenParameter: param, EnvExtensionPort: "2773", EnvSampleRatio: "0.25", EnvScrub: "true"}))
	if !wired || err != nil || cfg.ExtensionPort != 2773 || cfg.SampleRatio != 0.25 || !cfg.Scrub || cfg.FlushTimeout != DefaultFlushTimeout {
		t.Fatalf("cfg %+v wired %v err %v", cfg, wired, err)
	}
	_, _, err = ConfigFromEnv(env(map[string]string{EnvTokenParameter: param, EnvExtensionPort: "x", EnvBaseURL: "ftp://x", EnvSampleRatio: "2", EnvScrub: "maybe", EnvFlushTimeout: "5"}))
	for _, name := range []string{EnvExtensionPort, EnvBaseURL, EnvSampleRatio, EnvScrub, EnvFlushTimeout} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

func TestBaseURLFollowsTheTokensRegion(t *testing.T) {
	for tok, want := range map[string]string{
		"pylf_v1_eu_abc":  "https://logfire-eu.pydantic.dev",
		"pylf_v1_us_abc":  "https://logfire-us.pydantic.dev",
		"pylf_v2_eu_abc":  "https://logfire-eu.pydantic.dev",
		"legacy-token-42": "https://logfire-us.pydantic.dev",
	} {
		if got := BaseURL(tok); got != want {
			t.Errorf("%s → %s, want %s", tok, got, want)
		}
	}
}
