package agent

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit/internal/bedrocktest"
)

// calcRun is one model setup answering "What is 17 * 23?" with one calculator call and a final text.
type calcRun struct {
	name  string
	model func(t *testing.T) (Model, *bedrocktest.Server)
	// modelName is the logical model name the spans carry.
	modelName string
	// responseModel is gen_ai.response.model, "" when the provider does not report it.
	responseModel string
	// provider is gen_ai.provider.name: aws.bedrock for Bedrock only.
	provider string
}

var calcRuns = []calcRun{
	{
		name: "the real Bedrock client against the Converse peer",
		model: func(t *testing.T) (Model, *bedrocktest.Server) {
			srv := bedrocktest.New(t, profileARN)
			srv.Enqueue(
				bedrocktest.Reply{ToolUses: []bedrocktest.ToolUse{{ID: "tooluse_1", Name: "calculator", Input: json.RawMessage(`{"expression":"17 * 23"}`)}}, InputTokens: 100, OutputTokens: 20},
				bedrocktest.Reply{Text: "17 * 23 = 391", InputTokens: 140, OutputTokens: 12},
			)
			m, err := NewBedrockModel(srv.Client(), profileARN, "claude-haiku-4-5")
			if err != nil {
				t.Fatal(err)
			}
			return m, srv
		},
		modelName: "claude-haiku-4-5",
		provider:  "aws.bedrock",
	},
	{
		name:          "the offline model",
		model:         func(*testing.T) (Model, *bedrocktest.Server) { return NewOfflineModel(), nil },
		modelName:     OfflineModelName,
		responseModel: OfflineModelName,
		provider:      "agent_audit.offline",
	},
}

func TestARunWithOneToolCallIsOneTraceOfFourSpans(t *testing.T) {
	for _, tt := range calcRuns {
		t.Run(tt.name, func(t *testing.T) {
			model, srv := tt.model(t)
			rec, tracer := recorder(t)
			res, err := newAgent(t, model, DefaultTools(), true, tracer).Run(context.Background(), Input{Prompt: "What is 17 * 23?", ConversationID: "conv-1"})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			spans := rec.Ended()
			want := "invoke_agent auditor (internal)\n" +
				"  chat " + tt.modelName + " (client)\n" +
				"  execute_tool calculator (internal)\n" +
				"  chat " + tt.modelName + " (client)\n"
			if got := tree(t, spans); got != want {
				t.Fatalf("span tree\n%s\nwant\n%s", got, want)
			}
			root := byName(spans, "invoke_agent auditor")[0]
			chats := byName(spans, "chat "+tt.modelName)
			tool := byName(spans, "execute_tool calculator")[0]
			for _, s := range spans {
				if s.SpanContext().TraceID() != res.TraceID || s.Status().Code != codes.Unset {
					t.Errorf("%s: trace %s status %v, want trace %s and no error", s.Name(), s.SpanContext().TraceID(), s.Status(), res.TraceID)
				}
			}
			if root.Parent().IsValid() {
				t.Errorf("root has parent %v without a caller's context", root.Parent())
			}

			c0, c1, ta := attrs(chats[0]), attrs(chats[1]), attrs(tool)
			callID := ta["gen_ai.tool.call.id"].AsString()
			if callID == "" {
				t.Fatal("the tool span has no call id")
			}
			u0 := Usage{int(c0["gen_ai.usage.input_tokens"].AsInt64()), int(c0["gen_ai.usage.output_tokens"].AsInt64())}
			u1 := Usage{int(c1["gen_ai.usage.input_tokens"].AsInt64()), int(c1["gen_ai.usage.output_tokens"].AsInt64())}
			if u0.InputTokens == 0 || u1.OutputTokens == 0 {
				t.Fatalf("chat spans without usage: %+v %+v", u0, u1)
			}
			total := u0.Add(u1)
			if res.Output != "17 * 23 = 391" || res.Turns != 2 || res.ToolCalls != 1 || res.Usage != total {
				t.Fatalf("result %+v, want the answer, 2 turns, 1 tool call and usage %+v", res, total)
			}

			common := map[string]any{"gen_ai.provider.name": tt.provider, "gen_ai.request.model": tt.modelName, "gen_ai.conversation.id": "conv-1"}
			for _, s := range spans {
				assertAttrs(t, s.Name(), attrs(s), common)
			}
			ra := attrs(root)
			assertAttrs(t, "root", ra, map[string]any{
				"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "auditor",
				"agent_audit.usage.input_tokens": int64(total.InputTokens), "agent_audit.usage.output_tokens": int64(total.OutputTokens),
				"agent_audit.run.turns": int64(2), "agent_audit.run.tool_calls": int64(1),
				"gen_ai.input.messages":      `[{"role":"user","parts":[{"type":"text","content":"What is 17 * 23?"}]}]`,
				"gen_ai.output.messages":     `[{"role":"assistant","parts":[{"type":"text","content":"17 * 23 = 391"}],"finish_reason":"stop"}]`,
				"gen_ai.system_instructions": `[{"type":"text","content":"Be brief."}]`,
			})
			// Summing gen_ai.usage.* over the trace must count each call once.
			assertAbsent(t, "root", ra, "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "error.type")

			toolCall := `{"type":"tool_call","id":"` + callID + `","name":"calculator","arguments":{"expression":"17 * 23"}}`
			assertAttrs(t, "chat 1", c0, map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.request.max_tokens": int64(DefaultMaxTokens),
				"gen_ai.input.messages":      `[{"role":"user","parts":[{"type":"text","content":"What is 17 * 23?"}]}]`,
				"gen_ai.output.messages":     `[{"role":"assistant","parts":[` + toolCall + `],"finish_reason":"tool_call"}]`,
				"gen_ai.system_instructions": `[{"type":"text","content":"Be brief."}]`,
			})
			assertAttrs(t, "chat 2", c1, map[string]any{
				"gen_ai.input.messages": `[{"role":"user","parts":[{"type":"text","content":"What is 17 * 23?"}]},` +
					`{"role":"assistant","parts":[` + toolCall + `]},` +
					`{"role":"tool","parts":[{"type":"tool_call_response","id":"` + callID + `","response":{"expression":"17 * 23","value":"391"}}]}]`,
				"gen_ai.output.messages": `[{"role":"assistant","parts":[{"type":"text","content":"17 * 23 = 391"}],"finish_reason":"stop"}]`,
			})
			for i, want := range []string{"tool_call", "stop"} {
				if got := attrs(chats[i])["gen_ai.response.finish_reasons"].AsStringSlice(); len(got) != 1 || got[0] != want {
					t.Errorf("chat %d finish reasons %v, want [%s]", i+1, got, want)
				}
			}
			assertAttrs(t, "tool", ta, map[string]any{
				"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "calculator", "gen_ai.tool.type": "function",
				"gen_ai.tool.call.arguments": `{"expression":"17 * 23"}`,
				"gen_ai.tool.call.result":    `{"expression":"17 * 23","value":"391"}`,
			})
			assertAbsent(t, "tool", ta, "gen_ai.usage.input_tokens", "error.type")

			if tt.responseModel == "" {
				assertAbsent(t, "chat 1", c0, "gen_ai.response.model")
			} else {
				assertAttrs(t, "chat 1", c0, map[string]any{"gen_ai.response.model": tt.responseModel})
			}
			if srv != nil {
				assertBedrockSaw(t, srv, chats)
			}
		})
	}
}

// assertBedrockSaw checks what Bedrock was sent: the profile ARN as model id, the system prompt, the tools, the
// tool result answering the previous turn's tool use; and that each chat span names its AWS request id.
func assertBedrockSaw(t *testing.T, srv *bedrocktest.Server, chats []sdktrace.ReadOnlySpan) {
	t.Helper()
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	first := reqs[0].Body
	if reqs[0].ModelID != profileARN || len(first.System) != 1 || first.System[0]["text"] != "Be brief." {
		t.Errorf("first request: model %q system %v", reqs[0].ModelID, first.System)
	}
	var names []string
	for _, tool := range first.ToolConfig.Tools {
		names = append(names, tool.ToolSpec.Name)
		if !json.Valid(tool.ToolSpec.InputSchema.JSON) {
			t.Errorf("tool %s: schema %s", tool.ToolSpec.Name, tool.ToolSpec.InputSchema.JSON)
		}
	}
	if strings.Join(names, ",") != "calculator,clock,text_stats" {
		t.Errorf("tools offered %v", names)
	}
	if first.InferenceConfig == nil || first.InferenceConfig.MaxTokens == nil || *first.InferenceConfig.MaxTokens != DefaultMaxTokens {
		t.Errorf("inference config %+v", first.InferenceConfig)
	}
	msgs := reqs[1].Body.Messages
	result, _ := msgs[len(msgs)-1].Content[0]["toolResult"].(map[string]any)
	if len(msgs) != 3 || result["toolUseId"] != "tooluse_1" || result["status"] != "success" {
		t.Errorf("second request does not end with the tool result: %+v", msgs)
	}
	for i, c := range chats {
		if got := attrs(c)["aws.request_id"].AsString(); got != reqs[i].RequestID {
			t.Errorf("chat %d aws.request_id %q, want %q", i+1, got, reqs[i].RequestID)
		}
	}
}

func TestTheOfflineModelRecordsTheSameRunTheSameWay(t *testing.T) {
	ids := func() []string {
		rec, tracer := recorder(t)
		if _, err := newAgent(t, NewOfflineModel(), DefaultTools(), true, tracer).Run(context.Background(), Input{Prompt: "What time is it in Tokyo?"}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range rec.Ended() {
			a := attrs(s)
			out = append(out, a["gen_ai.response.id"].Emit()+a["gen_ai.tool.call.id"].Emit()+a["gen_ai.usage.input_tokens"].Emit())
		}
		return out
	}
	first, second := ids(), ids()
	if strings.Join(first, "|") != strings.Join(second, "|") || !strings.Contains(strings.Join(first, ""), "offline-") {
		t.Fatalf("two identical runs differ or lack response ids:\n%v\n%v", first, second)
	}
}

func TestModelFailuresEndTheRun(t *testing.T) {
	t.Run("a Bedrock throttle marks the chat and the root with the AWS code", func(t *testing.T) {
		srv := bedrocktest.New(t, profileARN)
		srv.Enqueue(bedrocktest.Fault("ThrottlingException", "Too many requests, please wait before trying again."))
		model, _ := NewBedrockModel(srv.Client(), profileARN, "claude-haiku-4-5")
		rec, tracer := recorder(t)
		res, err := newAgent(t, model, nil, true, tracer).Run(context.Background(), Input{Prompt: "hi"})
		if ErrorType(err) != "ThrottlingException" || !res.TraceID.IsValid() {
			t.Fatalf("error %v type %q trace %v", err, ErrorType(err), res.TraceID)
		}
		spans := rec.Ended()
		if got := tree(t, spans); got != "invoke_agent auditor (internal)\n  chat claude-haiku-4-5 (client)\n" {
			t.Fatalf("tree\n%s", got)
		}
		for _, s := range spans {
			if s.Status().Code != codes.Error || attrs(s)["error.type"].AsString() != "ThrottlingException" || s.SpanContext().TraceID() != res.TraceID {
				t.Errorf("%s: status %v error.type %v", s.Name(), s.Status(), attrs(s)["error.type"])
			}
			ev := s.Events()
			if len(ev) != 1 || ev[0].Name != "exception" || !strings.Contains(dump(s), "exception.message=") {
				t.Errorf("%s: events %v, want one exception with its message (content is on)", s.Name(), ev)
			}
		}
		chat := byName(spans, "chat claude-haiku-4-5")[0]
		if got := attrs(chat)["aws.request_id"].AsString(); got == "" || got != srv.Requests()[0].RequestID {
			t.Errorf("failed chat aws.request_id %q, want the peer's", got)
		}
	})
	t.Run("an unknown inference profile is ResourceNotFoundException", func(t *testing.T) {
		srv := bedrocktest.New(t, profileARN)
		model, _ := NewBedrockModel(srv.Client(), profileARN+"-other", "m")
		rec, tracer := recorder(t)
		_, err := newAgent(t, model, nil, false, tracer).Run(context.Background(), Input{Prompt: "hi"})
		root := byName(rec.Ended(), "invoke_agent auditor")[0]
		if ErrorType(err) != "ResourceNotFoundException" || attrs(root)["error.type"].AsString() != "ResourceNotFoundException" {
			t.Fatalf("error %v, root error.type %v", err, attrs(root)["error.type"])
		}
	})
	t.Run("a model slower than the deadline is a timeout", func(t *testing.T) {
		srv := bedrocktest.New(t, profileARN)
		srv.Enqueue(bedrocktest.Reply{Text: "late", Delay: time.Minute})
		model, _ := NewBedrockModel(srv.Client(), profileARN, "m")
		rec, tracer := recorder(t)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := newAgent(t, model, nil, false, tracer).Run(ctx, Input{Prompt: "hi"})
		root := byName(rec.Ended(), "invoke_agent auditor")[0]
		if ErrorType(err) != ErrorTypeTimeout || root.Status().Description != ErrorTypeTimeout {
			t.Fatalf("error %v, root status %+v", err, root.Status())
		}
	})
	t.Run("the turn bound ends a model that never stops calling tools", func(t *testing.T) {
		loop := Step{ToolCalls: []ToolCall{{Name: "clock"}}}
		rec, tracer := recorder(t)
		res, err := newAgent(t, NewOfflineModel(WithScript(loop, loop, loop, loop, loop)), DefaultTools(), false, tracer).Run(context.Background(), Input{Prompt: "hi"})
		if !errors.Is(err, ErrMaxTurns) || ErrorType(err) != ErrorTypeMaxTurns || res.Turns != 4 || res.ToolCalls != 4 {
			t.Fatalf("err %v type %q result %+v", err, ErrorType(err), res)
		}
		spans := rec.Ended()
		if n := len(byName(spans, "chat offline")); n != 4 {
			t.Fatalf("%d model calls, want the bound of 4", n)
		}
		root := byName(spans, "invoke_agent auditor")[0]
		if root.Status().Code != codes.Error || attrs(root)["error.type"].AsString() != ErrorTypeMaxTurns {
			t.Fatalf("root status %v error.type %v", root.Status(), attrs(root)["error.type"])
		}
		for _, c := range byName(spans, "chat offline") {
			if c.Status().Code == codes.Error {
				t.Errorf("a chat span is marked failed though every model call succeeded")
			}
		}
	})
}

// panicky is a tool that panics with its arguments in the message.
type panicky struct{}

func (panicky) Spec() ToolSpec {
	return ToolSpec{Name: "panicky", Description: "panics", InputSchema: json.RawMessage(`{"type":"object"}`)}
}

func (panicky) Call(_ context.Context, args json.RawMessage) (json.RawMessage, error) {
	panic("boom with " + string(args))
}

func TestToolFailuresBecomeErrorResultsAndTheRunGoesOn(t *testing.T) {
	tests := []struct {
		name, tool, args string
		wantType         string
		// wantModelSees is part of the error result the model receives.
		wantModelSees string
	}{
		{"a panicking tool is recovered", "panicky", `{"x":1}`, ErrorTypeToolPanic, "the tool failed unexpectedly"},
		{"an unknown tool is named with the tools there are", "nope", `{}`, ErrorTypeUnknownTool, "no such tool; the tools are calculator, clock, panicky, text_stats"},
		{"a tool error reaches the model", "calculator", `{"expression":"1/0"}`, ErrorTypeTool, "division by zero"},
		{"bad arguments name the field", "calculator", `{"expression":5}`, ErrorTypeTool, `argument \"expression\" must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, tracer := recorder(t)
			model := NewOfflineModel(WithScript(
				Step{ToolCalls: []ToolCall{{ID: "call-1", Name: tt.tool, Arguments: json.RawMessage(tt.args)}}},
				Step{Text: "recovered"}))
			res, err := newAgent(t, model, append(DefaultTools(), panicky{}), true, tracer).Run(context.Background(), Input{Prompt: "hi"})
			if err != nil || res.Output != "recovered" || res.ToolCalls != 1 {
				t.Fatalf("res %+v err %v", res, err)
			}
			spans := rec.Ended()
			tool := byName(spans, "execute_tool "+tt.tool)
			if len(tool) != 1 || tool[0].Status().Code != codes.Error || attrs(tool[0])["error.type"].AsString() != tt.wantType {
				t.Fatalf("want one ERROR execute_tool span with error.type %s:\n%s", tt.wantType, tree(t, spans))
			}
			result := attrs(tool[0])["gen_ai.tool.call.result"].AsString()
			if !strings.Contains(result, `"error":`) || !strings.Contains(result, tt.wantModelSees) {
				t.Errorf("tool result %s, want an error containing %q", result, tt.wantModelSees)
			}
			// The second model call saw the failure as an error result.
			second := attrs(byName(spans, "chat offline")[1])["gen_ai.input.messages"].AsString()
			if !strings.Contains(second, `"type":"tool_call_response","id":"call-1"`) {
				t.Errorf("second model call input %s lacks the error result", second)
			}
			root := byName(spans, "invoke_agent auditor")[0]
			if root.Status().Code == codes.Error {
				t.Errorf("a failed tool failed the whole run")
			}
		})
	}
}

func TestARemoteParentMakesTheRunAChild(t *testing.T) {
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	rec, tracer := recorder(t)
	a := newAgent(t, NewOfflineModel(), DefaultTools(), false, tracer)
	res, err := a.Run(trace.ContextWithRemoteSpanContext(context.Background(), parent), Input{Prompt: "What is 2 + 2?"})
	if err != nil {
		t.Fatal(err)
	}
	root := byName(rec.Ended(), "invoke_agent auditor")[0]
	if res.TraceID != parent.TraceID() || root.Parent().SpanID() != parent.SpanID() || !root.Parent().IsRemote() {
		t.Fatalf("run trace %s parent %s, want the caller's %s/%s", res.TraceID, root.Parent().SpanID(), parent.TraceID(), parent.SpanID())
	}
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() != parent.TraceID() {
			t.Errorf("%s is in trace %s, not the caller's", s.Name(), s.SpanContext().TraceID())
		}
	}
}

func TestRejectRecordsAnErrorTrace(t *testing.T) {
	for _, capture := range []bool{false, true} {
		rec, tracer := recorder(t)
		a := newAgent(t, NewOfflineModel(), nil, capture, tracer)
		cause := errors.New("invalid event: prompt: 70000 bytes exceeds the limit of 65536")
		id := a.Reject(context.Background(), Input{ConversationID: "conv-9"}, cause, attribute.Int("agent_audit.request.bytes", 70000))
		spans := rec.Ended()
		if len(spans) != 1 || spans[0].SpanContext().TraceID() != id || !id.IsValid() {
			t.Fatalf("capture=%v: want one span of trace %s, got %d", capture, id, len(spans))
		}
		s := spans[0]
		if s.Name() != "invoke_agent auditor" || s.Status().Code != codes.Error || s.Status().Description != cause.Error() {
			t.Fatalf("capture=%v: span %s status %+v", capture, s.Name(), s.Status())
		}
		assertAttrs(t, "reject", attrs(s), map[string]any{
			"error.type": "invalid_request", "agent_audit.request.bytes": int64(70000), "gen_ai.operation.name": "invoke_agent",
			"gen_ai.agent.name": "auditor", "gen_ai.conversation.id": "conv-9",
		})
		if ev := s.Events(); len(ev) != 1 || !strings.Contains(dump(s), "exception.message="+cause.Error()) {
			t.Errorf("capture=%v: events %v, want the cause recorded", capture, ev)
		}
	}
}

func TestNewNamesEveryBadField(t *testing.T) {
	_, err := New(nil, nil, Config{MaxTurns: 0, MaxTokens: -1})
	for _, field := range []string{"model", "Name", "MaxTurns", "MaxTokens", "Tracer"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
	_, tracer := recorder(t)
	if _, err := New(NewOfflineModel(), nil, Config{Name: "a", MaxTurns: 1, Tracer: tracer}); err != nil {
		t.Errorf("a minimal valid config was refused: %v", err)
	}
}

func TestTheRunsOutputKeepsTheLastFinishReason(t *testing.T) {
	rec, tracer := recorder(t)
	model := NewOfflineModel(WithScript(Step{Text: "I cannot answer that.", FinishReason: FinishContentFilter}))
	res, err := newAgent(t, model, nil, true, tracer).Run(context.Background(), Input{Prompt: "hi"})
	if err != nil || res.Output != "I cannot answer that." {
		t.Fatalf("res %+v err %v", res, err)
	}
	root := byName(rec.Ended(), "invoke_agent auditor")[0]
	want := `[{"role":"assistant","parts":[{"type":"text","content":"I cannot answer that."}],"finish_reason":"content_filter"}]`
	assertAttrs(t, "root", attrs(root), map[string]any{"gen_ai.output.messages": want})
}

// panickingModel panics in Converse, as a broken model client would.
type panickingModel struct{ Model }

func (panickingModel) Converse(context.Context, Request) (Response, error) {
	panic("nil map in the client")
}

func TestAPanicInTheModelEndsTheRunWithAnErrorTrace(t *testing.T) {
	rec, tracer := recorder(t)
	_, err := newAgent(t, panickingModel{NewOfflineModel()}, DefaultTools(), false, tracer).Run(context.Background(), Input{Prompt: "hi"})
	var pe *PanicError
	if !errors.As(err, &pe) || ErrorType(err) != ErrorTypePanic {
		t.Fatalf("Run = %v, want a PanicError", err)
	}
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans ended, want invoke_agent and chat", len(spans))
	}
	for _, s := range spans {
		if s.Status().Code != codes.Error || attrs(s)["error.type"].AsString() != ErrorTypePanic {
			t.Errorf("%s: status %v, error.type %v; a panicked run must not read as a success", s.Name(), s.Status(), attrs(s)["error.type"])
		}
		if strings.Contains(s.Status().Description, "nil map") {
			t.Errorf("%s: content capture is off, yet the panic message was recorded", s.Name())
		}
	}
}
