package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit/internal/bedrocktest"
)

const profileARN = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123"

// recorder runs agents on a tracer provider whose spans a test can read.
func recorder(t *testing.T) (*tracetest.SpanRecorder, trace.Tracer) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, tp.Tracer("test")
}

func newAgent(t *testing.T, m Model, tools []Tool, capture bool, tracer trace.Tracer) *Agent {
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

func TestRunOnBedrockRecordsTwoChatsAndAToolCall(t *testing.T) {
	srv := bedrocktest.New(t, profileARN)
	srv.Enqueue(
		bedrocktest.Reply{ToolUses: []bedrocktest.ToolUse{{ID: "tooluse_1", Name: "calculator", Input: json.RawMessage(`{"expression":"17 * 23"}`)}}, InputTokens: 100, OutputTokens: 20},
		bedrocktest.Reply{Text: "17 * 23 = 391", InputTokens: 140, OutputTokens: 12},
	)
	model, err := NewBedrockModel(srv.Client(), profileARN, "claude-haiku-4-5")
	if err != nil {
		t.Fatal(err)
	}
	rec, tracer := recorder(t)
	a := newAgent(t, model, DefaultTools(), true, tracer)

	res, err := a.Run(context.Background(), Input{Prompt: "What is 17 * 23?", ConversationID: "conv-1"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Output != "17 * 23 = 391" || res.Turns != 2 || res.ToolCalls != 1 || res.Usage != (Usage{240, 32}) {
		t.Fatalf("result %+v", res)
	}

	spans := rec.Ended()
	root := byName(spans, "invoke_agent auditor")
	chats := byName(spans, "chat claude-haiku-4-5")
	tools := byName(spans, "execute_tool calculator")
	if len(spans) != 4 || len(root) != 1 || len(chats) != 2 || len(tools) != 1 {
		t.Fatalf("got %d spans, want invoke_agent, 2 chat, 1 execute_tool", len(spans))
	}
	if root[0].SpanContext().TraceID() != res.TraceID || root[0].Parent().IsValid() || root[0].SpanKind() != trace.SpanKindInternal {
		t.Fatalf("root trace %s parent %v kind %v", root[0].SpanContext().TraceID(), root[0].Parent(), root[0].SpanKind())
	}
	for _, s := range append(chats, tools...) {
		if s.Parent().SpanID() != root[0].SpanContext().SpanID() {
			t.Errorf("%s is not a child of the root", s.Name())
		}
	}
	if chats[0].SpanKind() != trace.SpanKindClient || tools[0].SpanKind() != trace.SpanKindInternal {
		t.Errorf("kinds: chat %v tool %v", chats[0].SpanKind(), tools[0].SpanKind())
	}
	// The tool runs between the two model calls.
	if !tools[0].StartTime().After(chats[0].EndTime()) && !tools[0].StartTime().Equal(chats[0].EndTime()) || tools[0].EndTime().After(chats[1].StartTime()) {
		t.Errorf("execute_tool is not between the two chat spans")
	}

	ra := attrs(root[0])
	wantRoot := map[string]any{
		"gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": "aws.bedrock", "gen_ai.agent.name": "auditor",
		"gen_ai.request.model": "claude-haiku-4-5", "gen_ai.conversation.id": "conv-1",
		"agent_audit.usage.input_tokens": int64(240), "agent_audit.usage.output_tokens": int64(32),
		"agent_audit.run.turns": int64(2), "agent_audit.run.tool_calls": int64(1),
		"gen_ai.input.messages":      `[{"role":"user","parts":[{"type":"text","content":"What is 17 * 23?"}]}]`,
		"gen_ai.output.messages":     `[{"role":"assistant","parts":[{"type":"text","content":"17 * 23 = 391"}],"finish_reason":"stop"}]`,
		"gen_ai.system_instructions": `[{"type":"text","content":"Be brief."}]`,
	}
	assertAttrs(t, "root", ra, wantRoot)
	if _, ok := ra["gen_ai.usage.input_tokens"]; ok {
		t.Error("root carries gen_ai.usage.input_tokens: summing over spans would double count")
	}

	c0, c1 := attrs(chats[0]), attrs(chats[1])
	assertAttrs(t, "chat 1", c0, map[string]any{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "aws.bedrock", "gen_ai.request.model": "claude-haiku-4-5",
		"gen_ai.usage.input_tokens": int64(100), "gen_ai.usage.output_tokens": int64(20), "gen_ai.conversation.id": "conv-1",
		"gen_ai.output.messages": `[{"role":"assistant","parts":[{"type":"tool_call","id":"tooluse_1","name":"calculator","arguments":{"expression":"17 * 23"}}],"finish_reason":"tool_call"}]`,
	})
	if got := c0["gen_ai.response.finish_reasons"].AsStringSlice(); len(got) != 1 || got[0] != "tool_call" {
		t.Errorf("chat 1 finish reasons %v", got)
	}
	if got := c1["gen_ai.response.finish_reasons"].AsStringSlice(); len(got) != 1 || got[0] != "stop" {
		t.Errorf("chat 2 finish reasons %v", got)
	}
	wantSecondInput := `[{"role":"user","parts":[{"type":"text","content":"What is 17 * 23?"}]},` +
		`{"role":"assistant","parts":[{"type":"tool_call","id":"tooluse_1","name":"calculator","arguments":{"expression":"17 * 23"}}]},` +
		`{"role":"tool","parts":[{"type":"tool_call_response","id":"tooluse_1","response":{"expression":"17 * 23","value":"391"}}]}]`
	assertAttrs(t, "chat 2", c1, map[string]any{"gen_ai.input.messages": wantSecondInput})

	assertAttrs(t, "tool", attrs(tools[0]), map[string]any{
		"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "calculator", "gen_ai.tool.call.id": "tooluse_1",
		"gen_ai.tool.type": "function", "gen_ai.tool.call.arguments": `{"expression":"17 * 23"}`,
		"gen_ai.tool.call.result": `{"expression":"17 * 23","value":"391"}`,
	})

	// What Bedrock was sent: the profile ARN as model id, the system prompt, the tools, and the tool result
	// answering the tool use of the previous turn.
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].ModelID != profileARN || reqs[0].Body.ToolConfig == nil || len(reqs[0].Body.System) != 1 {
		t.Fatalf("requests %+v", reqs)
	}
	if n := len(reqs[1].Body.Messages); n != 3 || reqs[1].Body.Messages[2].Content[0]["toolResult"] == nil {
		t.Fatalf("second request does not end with the tool result: %+v", reqs[1].Body.Messages)
	}
}

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

// panicky is a tool that panics with its argument in the message.
type panicky struct{}

func (panicky) Spec() ToolSpec {
	return ToolSpec{Name: "panicky", Description: "panics", InputSchema: json.RawMessage(`{"type":"object"}`)}
}

func (panicky) Call(_ context.Context, args json.RawMessage) (json.RawMessage, error) {
	panic("boom with " + string(args))
}

func TestContentOffKeepsContentOutOfEverySpanField(t *testing.T) {
	const marker = "SECRET-MARKER-7"
	tests := []struct {
		name    string
		script  []Step
		wantErr bool
	}{
		{"a model error that echoes the prompt", []Step{{Err: APIError("ValidationException", "bad input: "+marker)}}, true},
		{"a tool error that echoes its arguments", []Step{
			{ToolCalls: []ToolCall{{Name: "calculator", Arguments: json.RawMessage(`{"expression":"` + marker + `"}`)}}},
			{Text: "done"},
		}, false},
		{"a panicking tool", []Step{
			{ToolCalls: []ToolCall{{Name: "panicky", Arguments: json.RawMessage(`{"x":"` + marker + `"}`)}}},
			{Text: "done"},
		}, false},
		{"an unknown tool", []Step{
			{ToolCalls: []ToolCall{{Name: "nope", Arguments: json.RawMessage(`{"x":"` + marker + `"}`)}}},
			{Text: "done " + marker},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, capture := range []bool{false, true} {
				rec, tracer := recorder(t)
				a := newAgent(t, NewOfflineModel(WithScript(tt.script...)), append(DefaultTools(), panicky{}), capture, tracer)
				_, err := a.Run(context.Background(), Input{Prompt: "please " + marker})
				if (err != nil) != tt.wantErr {
					t.Fatalf("capture=%v: err %v", capture, err)
				}
				leaked := false
				for _, s := range rec.Ended() {
					if strings.Contains(dump(s), marker) {
						leaked = true
						if !capture {
							t.Errorf("content off: span %s carries the marker:\n%s", s.Name(), dump(s))
						}
					}
				}
				if capture && !leaked {
					t.Errorf("content on: the marker is nowhere, so this test could not see a leak")
				}
			}
		})
	}
}

// dump renders every field of a span a reader could see.
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
	return b.String()
}

func TestFailuresAreRecordedOnTheSpans(t *testing.T) {
	t.Run("a Bedrock throttle ends the run with the AWS code as error.type", func(t *testing.T) {
		srv := bedrocktest.New(t, profileARN)
		srv.Enqueue(bedrocktest.Reply{ErrCode: "ThrottlingException", ErrStatus: 429, ErrMessage: "Too many requests, please wait before trying again."})
		model, _ := NewBedrockModel(srv.Client(), profileARN, "claude-haiku-4-5")
		rec, tracer := recorder(t)
		res, err := newAgent(t, model, nil, true, tracer).Run(context.Background(), Input{Prompt: "hi"})
		var throttle *types.ThrottlingException
		if !errors.As(err, &throttle) {
			t.Fatalf("error %v (%T), want *types.ThrottlingException from the SDK", err, err)
		}
		if ErrorType(err) != "ThrottlingException" || !res.TraceID.IsValid() {
			t.Fatalf("type %q trace %v", ErrorType(err), res.TraceID)
		}
		for _, s := range rec.Ended() {
			if s.Status().Code != codes.Error || attrs(s)["error.type"].AsString() != "ThrottlingException" {
				t.Errorf("%s: status %v error.type %v", s.Name(), s.Status(), attrs(s)["error.type"])
			}
			if len(s.Events()) == 0 || s.Events()[0].Name != "exception" {
				t.Errorf("%s: no exception event", s.Name())
			}
		}
	})
	t.Run("an unknown model id is Bedrock's ResourceNotFoundException", func(t *testing.T) {
		srv := bedrocktest.New(t, profileARN)
		model, _ := NewBedrockModel(srv.Client(), profileARN+"-other", "m")
		_, tracer := recorder(t)
		_, err := newAgent(t, model, nil, true, tracer).Run(context.Background(), Input{Prompt: "hi"})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("error %v, want ResourceNotFoundException", err)
		}
	})
	t.Run("the turn bound ends a model that never stops calling tools", func(t *testing.T) {
		loop := Step{ToolCalls: []ToolCall{{Name: "clock"}}}
		rec, tracer := recorder(t)
		res, err := newAgent(t, NewOfflineModel(WithScript(loop, loop, loop, loop, loop)), DefaultTools(), true, tracer).Run(context.Background(), Input{Prompt: "hi"})
		if !errors.Is(err, ErrMaxTurns) || ErrorType(err) != "max_turns_exceeded" || res.Turns != 4 {
			t.Fatalf("err %v type %q turns %d", err, ErrorType(err), res.Turns)
		}
		if n := len(byName(rec.Ended(), "chat offline")); n != 4 {
			t.Fatalf("%d model calls, want the bound of 4", n)
		}
	})
	t.Run("tool failures become error results and the run goes on", func(t *testing.T) {
		rec, tracer := recorder(t)
		script := WithScript(
			Step{ToolCalls: []ToolCall{{Name: "panicky"}, {Name: "nope"}, {Name: "calculator", Arguments: json.RawMessage(`{"expression":"1/0"}`)}}},
			Step{Text: "all failed"})
		model := NewOfflineModel(script)
		res, err := newAgent(t, model, append(DefaultTools(), panicky{}), true, tracer).Run(context.Background(), Input{Prompt: "hi"})
		if err != nil || res.Output != "all failed" || res.ToolCalls != 3 {
			t.Fatalf("res %+v err %v", res, err)
		}
		want := map[string]string{"execute_tool panicky": "tool_panic", "execute_tool nope": "unknown_tool", "execute_tool calculator": "tool_error"}
		for name, typ := range want {
			s := byName(rec.Ended(), name)
			if len(s) != 1 || s[0].Status().Code != codes.Error || attrs(s[0])["error.type"].AsString() != typ {
				t.Errorf("%s: want one ERROR span with error.type %s", name, typ)
				continue
			}
			if !strings.Contains(attrs(s[0])["gen_ai.tool.call.result"].AsString(), `"error"`) {
				t.Errorf("%s: the model was not told about the failure: %v", name, attrs(s[0])["gen_ai.tool.call.result"])
			}
		}
	})
}

func TestARemoteParentMakesTheRunAChild(t *testing.T) {
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	rec, tracer := recorder(t)
	a := newAgent(t, NewOfflineModel(), DefaultTools(), true, tracer)
	res, err := a.Run(trace.ContextWithRemoteSpanContext(context.Background(), parent), Input{Prompt: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	root := byName(rec.Ended(), "invoke_agent auditor")[0]
	if res.TraceID != parent.TraceID() || root.Parent().SpanID() != parent.SpanID() || !root.Parent().IsRemote() {
		t.Fatalf("run trace %s parent %s, want the caller's %s/%s", res.TraceID, root.Parent().SpanID(), parent.TraceID(), parent.SpanID())
	}
}

func TestRejectRecordsAnErrorTrace(t *testing.T) {
	rec, tracer := recorder(t)
	a := newAgent(t, NewOfflineModel(), nil, false, tracer)
	id := a.Reject(context.Background(), Input{}, errors.New("invalid event: prompt: too long"), attribute.Int("agent_audit.request.bytes", 99))
	spans := rec.Ended()
	if len(spans) != 1 || spans[0].SpanContext().TraceID() != id {
		t.Fatalf("want one span of trace %s", id)
	}
	s := spans[0]
	if s.Status().Code != codes.Error || s.Status().Description != "invalid event: prompt: too long" {
		t.Fatalf("status %+v", s.Status())
	}
	assertAttrs(t, "reject", attrs(s), map[string]any{"error.type": "invalid_request", "agent_audit.request.bytes": int64(99), "gen_ai.operation.name": "invoke_agent"})
}

func TestNewNamesEveryBadField(t *testing.T) {
	_, err := New(nil, nil, Config{MaxTurns: 0, MaxTokens: -1})
	for _, field := range []string{"model", "Name", "MaxTurns", "MaxTokens", "Tracer"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
}
