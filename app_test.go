package agentaudit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/agentaudittest"
	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/internal/audittest"
)

// newOfflineApp assembles the function exactly as main does, with the offline model and an in-memory sink.
func newOfflineApp(t *testing.T, mutate func(*Config), opts ...Option) (*Function, *agentaudittest.MemorySink) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Model = ModelOffline
	cfg.LocalRoot = t.TempDir() // replaced by the sink option; keeps the config valid as main would see it
	if mutate != nil {
		mutate(&cfg)
	}
	sink := &agentaudittest.MemorySink{}
	opts = append([]Option{WithTools(agent.DefaultTools()...), WithSink(sink), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	a, err := New(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a, sink
}

func invoke(t *testing.T, a *Function, payload string) (handler.Response, error) {
	t.Helper()
	out, err := a.Invoke(context.Background(), []byte(payload))
	if err != nil {
		return handler.Response{}, err
	}
	var resp handler.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	return resp, nil
}

func TestARunWithAToolCallIsOneCompleteTrace(t *testing.T) {
	a, sink := newOfflineApp(t, nil)
	resp, err := invoke(t, a, `{"prompt":"What is 17 * 23?","conversation_id":"conv-7"}`)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if resp.Status != "ok" || !strings.Contains(resp.Output, "391") || len(resp.TraceID) != 32 {
		t.Fatalf("response %+v", resp)
	}
	spans := audittest.Decode(t, sink.Records())
	byTrace := audittest.ByTrace(spans)
	if len(byTrace) != 1 || len(byTrace[resp.TraceID]) != len(spans) {
		t.Fatalf("records hold traces %v, want only %s", keys(byTrace), resp.TraceID)
	}

	roots := audittest.Named(spans, "invoke_agent agent-audit")
	chats := audittest.Named(spans, "chat offline")
	tools := audittest.Named(spans, "execute_tool calculator")
	if len(roots) != 1 || len(chats) != 2 || len(tools) != 1 || len(spans) != 4 {
		t.Fatalf("span names %v, want invoke_agent + 2 chat + 1 execute_tool", names(spans))
	}
	root := roots[0]
	if root.ParentSpanID != "" || root.StatusCode == ptrace.StatusCodeError {
		t.Fatalf("root parent %q status %v", root.ParentSpanID, root.StatusCode)
	}
	for _, s := range append(chats, tools...) {
		if s.ParentSpanID != root.SpanID {
			t.Errorf("%s is a child of %s, want the root %s", s.Name, s.ParentSpanID, root.SpanID)
		}
		if s.Attrs["gen_ai.conversation.id"] != "conv-7" {
			t.Errorf("%s conversation id %v", s.Name, s.Attrs["gen_ai.conversation.id"])
		}
	}
	for _, c := range chats {
		if c.Kind != ptrace.SpanKindClient || c.Attrs["gen_ai.operation.name"] != "chat" || c.Attrs["gen_ai.provider.name"] != "aws.bedrock" {
			t.Errorf("chat span kind %v attrs %v", c.Kind, c.Attrs)
		}
		if _, ok := c.Attrs["gen_ai.usage.input_tokens"]; !ok {
			t.Errorf("chat span without usage: %v", c.Attrs)
		}
	}
	if _, ok := root.Attrs["gen_ai.usage.input_tokens"]; ok {
		t.Errorf("the root carries gen_ai.usage.*, which double counts the chat spans")
	}
	if tools[0].Attrs["gen_ai.tool.call.arguments"] == nil || tools[0].Attrs["gen_ai.tool.call.result"] == nil {
		t.Errorf("tool span without arguments/result: %v", tools[0].Attrs)
	}
	for _, key := range []string{"service.name", "cloud.provider", "agent_audit.record.batch_key"} {
		if root.Resource[key] == nil {
			t.Errorf("resource lacks %s: %v", key, root.Resource)
		}
	}
	if a.Processor.Pending() != 0 {
		t.Fatalf("%d traces still buffered after the invocation", a.Processor.Pending())
	}
}

func TestContentOffLeaksNoContentAnywhere(t *testing.T) {
	const marker = "ZEBRA-MARKER-42"
	a, sink := newOfflineApp(t, func(c *Config) { c.CaptureContent = false })
	prompts := []string{
		`{"prompt":"What is 6 * 7? ` + marker + `"}`,
		`{"prompt":"` + marker + `","unknown":"x"}`,
		`{"prompt":"` + strings.Repeat(marker, 4000) + `"}`,
	}
	for _, p := range prompts {
		_, _ = invoke(t, a, p)
	}
	records := sink.Records()
	if len(audittest.ByTrace(audittest.Decode(t, records))) != len(prompts) {
		t.Fatalf("want one trace per invocation, rejected ones included")
	}
	for i, r := range records {
		if strings.Contains(string(r), marker) {
			t.Fatalf("record %d contains prompt content with capture off", i)
		}
	}
}

func TestEveryRejectedEventIsAudited(t *testing.T) {
	a, sink := newOfflineApp(t, func(c *Config) { c.MaxPromptBytes = 64 })
	bad := []string{`{"prompt":1}`, `{"x":1}`, `not json`, `[]`, `{"prompt":"` + strings.Repeat("a", 65) + `"}`, `{"traceparent":"00-zz"}`}
	for _, p := range bad {
		_, err := invoke(t, a, p)
		var ie *handler.InvocationError
		if !errors.As(err, &ie) || ie.Kind != handler.KindInvalidEvent {
			t.Fatalf("payload %q: error %v, want invalid_event", p, err)
		}
		spans := audittest.ByTrace(audittest.Decode(t, sink.Records()))[ie.TraceID]
		if len(spans) != 1 || spans[0].Name != "invoke_agent agent-audit" || spans[0].StatusCode != ptrace.StatusCodeError {
			t.Fatalf("payload %q: trace %s holds %v, want one ERROR invoke_agent span", p, ie.TraceID, names(spans))
		}
		if spans[0].Attrs["error.type"] != "invalid_request" || spans[0].Attrs["agent_audit.request.sha256"] == nil {
			t.Fatalf("payload %q: attrs %v", p, spans[0].Attrs)
		}
	}
}

func TestDeliveryFailureFailsTheInvocation(t *testing.T) {
	a, sink := newOfflineApp(t, nil)
	sink.FailWith(errors.New("stream unavailable"))
	_, err := invoke(t, a, `{}`)
	var ie *handler.InvocationError
	if !errors.As(err, &ie) || ie.Kind != handler.KindAuditDelivery {
		t.Fatalf("error %v, want audit_delivery", err)
	}
	if a.Processor.Pending() != 0 {
		t.Fatalf("a failed delivery left %d traces buffered into the next invocation", a.Processor.Pending())
	}
}

func TestWarmContainerLeaksNothingBetweenInvocations(t *testing.T) {
	a, sink := newOfflineApp(t, nil)
	first, err := invoke(t, a, `{"prompt":"What is 2 + 2? FIRST-RUN-ONLY","conversation_id":"one"}`)
	if err != nil {
		t.Fatal(err)
	}
	n := len(sink.Records())
	second, err := invoke(t, a, `{"prompt":"Say hi","conversation_id":"two"}`)
	if err != nil {
		t.Fatal(err)
	}
	if first.TraceID == second.TraceID {
		t.Fatal("two invocations share a trace id")
	}
	later := sink.Records()[n:]
	for _, s := range audittest.Decode(t, later) {
		if s.TraceID != second.TraceID || s.Attrs["gen_ai.conversation.id"] != "two" {
			t.Fatalf("second invocation's records carry span %s of trace %s conv %v", s.Name, s.TraceID, s.Attrs["gen_ai.conversation.id"])
		}
	}
	for i, r := range later {
		if strings.Contains(string(r), "FIRST-RUN-ONLY") {
			t.Fatalf("record %d of the second invocation carries the first one's prompt", i)
		}
	}
}

func TestConcurrentInvocationsDeliverEveryTraceExactlyOnce(t *testing.T) {
	const n = 200
	a, sink := newOfflineApp(t, nil)
	traceOf := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := a.Handler.Invoke(context.Background(), fmt.Appendf(nil, `{"prompt":"What is %d + 1?","conversation_id":"c%d"}`, i, i))
			var resp handler.Response
			if err == nil {
				err = json.Unmarshal(out, &resp)
			}
			if err != nil {
				errs <- err
				return
			}
			traceOf[i] = resp.TraceID
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	spans := audittest.Decode(t, sink.Records())
	byTrace := audittest.ByTrace(spans)
	if len(byTrace) != n {
		t.Fatalf("%d traces delivered, want %d", len(byTrace), n)
	}
	seen := map[string]bool{}
	for i, id := range traceOf {
		group := byTrace[id]
		if len(group) != 4 {
			t.Fatalf("trace %s has %d spans (%v), want 4 exactly once", id, len(group), names(group))
		}
		for _, s := range group {
			if s.Attrs["gen_ai.conversation.id"] != fmt.Sprintf("c%d", i) {
				t.Fatalf("trace %s mixes in a span of conversation %v", id, s.Attrs["gen_ai.conversation.id"])
			}
			if seen[s.SpanID] {
				t.Fatalf("span %s delivered twice", s.SpanID)
			}
			seen[s.SpanID] = true
		}
	}
	if a.Processor.Pending() != 0 {
		t.Fatalf("%d traces still buffered", a.Processor.Pending())
	}
}

func TestConfigFromEnvNamesEveryBadVariable(t *testing.T) {
	env := map[string]string{
		agentenv.Model:            "bedrock",
		agentenv.MaxTurns:         "many",
		agentenv.CaptureContent:   "perhaps",
		agentenv.ShipReserve:      "5",
		agentenv.LocalRoot:        "/tmp/audit",
		agentenv.OversizeBucket:   "audit-bucket",
		agentenv.SigningKeyID:     "arn:aws:kms:eu-west-1:123456789012:key/k",
		agentenv.SigningKeyFile:   "/tmp/key.pem",
		agentenv.S3ForcePathStyle: "yes please",
	}
	_, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil {
		t.Fatal("accepted a broken environment")
	}
	for _, name := range []string{agentenv.MaxTurns, agentenv.CaptureContent, agentenv.ShipReserve, agentenv.InferenceProfileARN, agentenv.ModelID, agentenv.OversizeBucket, agentenv.SigningKeyID, agentenv.S3ForcePathStyle} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}

	good := map[string]string{
		agentenv.InferenceProfileARN: "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc",
		agentenv.ModelID:             "claude-haiku-4-5",
		agentenv.FirehoseStream:      "agent-audit-dev",
		agentenv.CaptureContent:      "false",
		agentenv.ShipReserve:         "3s",
		agentenv.OversizeBucket:      "audit-bucket",
		agentenv.SigningKeyID:        "arn:aws:kms:eu-west-1:123456789012:key/k",
	}
	cfg, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := good[k]; return v, ok })
	if err != nil {
		t.Fatalf("a good environment was refused: %v", err)
	}
	if cfg.Model != ModelBedrock || cfg.CaptureContent || cfg.ShipReserve.String() != "3s" || cfg.MaxTurns != DefaultMaxTurns || cfg.AgentName != "" ||
		cfg.OversizeBucket != "audit-bucket" || cfg.SigningKeyID != good[agentenv.SigningKeyID] {
		t.Fatalf("config %+v", cfg)
	}
}

func keys(m map[string][]audittest.Span) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func names(spans []audittest.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func TestLastChanceFlushShipsWhatIsStillBuffered(t *testing.T) {
	a, sink := newOfflineApp(t, nil)
	tracer := a.Provider.Tracer("test")
	ctx, root := tracer.Start(context.Background(), "invocation cut short by SIGTERM")
	_, child := tracer.Start(ctx, "finished step")
	child.End()
	if len(sink.Records()) != 0 {
		t.Fatal("shipped before the trace completed")
	}
	a.LastChanceFlush()
	spans := audittest.Decode(t, sink.Records())
	if len(spans) != 1 || spans[0].Name != "finished step" {
		t.Fatalf("flushed %v, want the finished child", names(spans))
	}
	root.End() // ships later as a follow-up: nothing is dropped
	spans = audittest.Decode(t, sink.Records())
	if len(spans) != 2 || spans[1].Resource["agent_audit.record.followup"] != true {
		t.Fatalf("after the root ended: %v", names(spans))
	}
}
