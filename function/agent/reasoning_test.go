package agent

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/internal/bedrocktest"
)

// thinkingAgent runs against the Bedrock peer with extended thinking on.
func thinkingAgent(t *testing.T, capture bool) (*Agent, *bedrocktest.Server, func() []string) {
	t.Helper()
	srv := bedrocktest.New(t, profileARN)
	model, err := NewBedrockModel(srv.Client(), profileARN, "claude-sonnet-4-5")
	if err != nil {
		t.Fatal(err)
	}
	rec, tracer := recorder(t)
	reg, err := NewRegistry(DefaultTools()...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(model, reg, Config{Name: "auditor", MaxTurns: 4, MaxTokens: 4096, ReasoningBudgetTokens: 2048, CaptureContent: capture, Tracer: tracer})
	if err != nil {
		t.Fatal(err)
	}
	dumps := func() []string {
		var out []string
		for _, s := range rec.Ended() {
			out = append(out, dump(s))
		}
		return out
	}
	return a, srv, dumps
}

// The shapes of the Converse API reference: a reasoningText block with its signature before the tool use, then
// a redactedContent block before the answer.
var (
	thought  = bedrocktest.Reasoning{Text: "The user wants 17 * 23; the calculator is exact.", Signature: "EqoBCkgIARABGAIiQL2Zsig"}
	redacted = bedrocktest.Reasoning{Redacted: []byte("\x00encrypted thinking\xff")}
)

func TestReasoningGoesBackUnchangedAndIsRecordedOnlyWithContent(t *testing.T) {
	for _, capture := range []bool{true, false} {
		name := map[bool]string{true: "content capture on", false: "content capture off"}[capture]
		t.Run(name, func(t *testing.T) {
			a, srv, dumps := thinkingAgent(t, capture)
			srv.Enqueue(
				bedrocktest.Reply{Reasoning: []bedrocktest.Reasoning{thought}, ToolUses: []bedrocktest.ToolUse{{ID: "tooluse_1", Name: "calculator", Input: json.RawMessage(`{"expression":"17 * 23"}`)}},
					InputTokens: 100, OutputTokens: 300},
				bedrocktest.Reply{Reasoning: []bedrocktest.Reasoning{redacted}, Text: "17 * 23 = 391", InputTokens: 450, OutputTokens: 200},
			)
			res, err := a.Run(context.Background(), Input{Prompt: "What is 17 * 23?"})
			if err != nil {
				t.Fatalf("the run failed (Bedrock refuses a turn whose assistant message lost its reasoning): %v", err)
			}
			if res.Output != "17 * 23 = 391" || res.Usage != (Usage{InputTokens: 550, OutputTokens: 500}) {
				t.Fatalf("output %q usage %+v, want the answer and both calls' usage, reasoning tokens in the output", res.Output, res.Usage)
			}

			reqs := srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d Converse calls", len(reqs))
			}
			for i, r := range reqs {
				if got := string(r.Body.AdditionalModelRequestFields); got != `{"thinking":{"budget_tokens":2048,"type":"enabled"}}` {
					t.Errorf("call %d: additionalModelRequestFields %s", i+1, got)
				}
			}
			assistant := reqs[1].Body.Messages[1]
			first, _ := json.Marshal(assistant.Content[0])
			if assistant.Role != "assistant" || string(first) != `{"reasoningContent":{"reasoningText":{"signature":"`+thought.Signature+`","text":"`+thought.Text+`"}}}` {
				t.Fatalf("the second call's assistant message starts with %s, want the reasoning block unchanged", first)
			}

			all := strings.Join(dumps(), "\n")
			if strings.Contains(all, thought.Signature) || strings.Contains(all, "encrypted thinking") {
				t.Error("a span carries the signature or the redacted bytes, which are opaque tokens for the model")
			}
			hasThought := strings.Contains(all, `{"type":"reasoning","content":"`+thought.Text+`"}`)
			hasRedacted := strings.Contains(all, `{"type":"redacted_reasoning"}`)
			if capture && (!hasThought || !hasRedacted) {
				t.Errorf("content on: reasoning part recorded %v, redacted part %v:\n%s", hasThought, hasRedacted, all)
			}
			if !capture && (strings.Contains(all, thought.Text) || hasRedacted) {
				t.Errorf("content off, yet reasoning reached a span:\n%s", all)
			}
		})
	}
}

func TestChangedReasoningIsRefusedByThePeer(t *testing.T) {
	a, srv, _ := thinkingAgent(t, false)
	srv.Enqueue(bedrocktest.Reply{Reasoning: []bedrocktest.Reasoning{thought}, ToolUses: []bedrocktest.ToolUse{{ID: "tooluse_1", Name: "calculator", Input: json.RawMessage(`{"expression":"1 + 1"}`)}}})
	model := a.model.(*BedrockModel)
	tampered := Request{
		MaxTokens: 4096, ReasoningBudgetTokens: 2048, Tools: a.tools.Specs(),
		Messages: []Message{
			{Role: RoleUser, Parts: []Part{{Text: "1 + 1?"}}},
			{Role: RoleAssistant, Parts: []Part{{Reasoning: &Reasoning{Text: thought.Text + " (edited)", Signature: thought.Signature}},
				{ToolCall: &ToolCall{ID: "tooluse_1", Name: "calculator", Arguments: json.RawMessage(`{"expression":"1 + 1"}`)}}}},
			{Role: RoleUser, Parts: []Part{{ToolResult: &ToolResult{ID: "tooluse_1", Content: json.RawMessage(`{"value":2}`)}}}},
		},
	}
	if _, err := model.Converse(context.Background(), Request{Messages: tampered.Messages[:1], MaxTokens: 4096, ReasoningBudgetTokens: 2048, Tools: a.tools.Specs()}); err != nil {
		t.Fatal(err)
	}
	if _, err := model.Converse(context.Background(), tampered); err == nil || ErrorType(err) != "ValidationException" {
		t.Fatalf("an edited reasoning block was accepted: %v", err)
	}
}

func TestReasoningSettingsAreChecked(t *testing.T) {
	_, tracer := recorder(t)
	temp := 0.5
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"a budget under Claude's minimum", Config{ReasoningBudgetTokens: 512, MaxTokens: 4096}},
		{"a budget not below MaxTokens", Config{ReasoningBudgetTokens: 2048}},
		{"thinking with a temperature", Config{ReasoningBudgetTokens: 2048, MaxTokens: 4096, Temperature: &temp}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Name, tt.cfg.MaxTurns, tt.cfg.Tracer = "a", 1, tracer
			if _, err := New(NewOfflineModel(), nil, tt.cfg); err == nil || !strings.Contains(err.Error(), "ReasoningBudgetTokens") {
				t.Fatalf("accepted: %v", err)
			}
		})
	}
}
