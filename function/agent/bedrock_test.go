package agent

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// fakeConverse records the model id and the request body (decoded) of one call and answers with the JSON out.
type fakeConverse struct {
	modelID string
	in      any
	out     string
}

func (f *fakeConverse) Converse(_ context.Context, modelID string, in, out any) (string, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	f.modelID, f.in = modelID, nil
	if err := json.Unmarshal(body, &f.in); err != nil {
		return "", err
	}
	return "req-1", json.Unmarshal([]byte(f.out), out)
}

func textOutput(stop string) string {
	return `{"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},"stopReason":"` + stop +
		`","usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7},"metrics":{"latencyMs":9}}`
}

// decoded is JSON text as encoding/json decodes it, for comparing bodies member by member.
func decoded(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return v
}

func TestBedrockStopReasonsMapToFinishReasons(t *testing.T) {
	tests := []struct {
		stop string
		want string
	}{
		{"end_turn", FinishStop},
		{"stop_sequence", FinishStop},
		{"tool_use", FinishToolCall},
		{"max_tokens", FinishLength},
		{"model_context_window_exceeded", FinishLength},
		{"guardrail_intervened", FinishContentFilter},
		{"content_filtered", FinishContentFilter},
		{"malformed_tool_use", FinishError},
	}
	for _, tt := range tests {
		t.Run(tt.stop+" is "+tt.want, func(t *testing.T) {
			m, _ := NewBedrockModel(&fakeConverse{out: textOutput(tt.stop)}, profileARN, "m")
			resp, err := m.Converse(context.Background(), Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Text: "hi"}}}}})
			if err != nil || resp.FinishReason != tt.want || resp.Usage != (Usage{3, 4}) || resp.RequestID != "req-1" {
				t.Fatalf("resp %+v err %v", resp, err)
			}
		})
	}
}

func TestBedrockRequestCarriesTheConversation(t *testing.T) {
	fake := &fakeConverse{out: textOutput("end_turn")}
	m, err := NewBedrockModel(fake, profileARN, "m")
	if err != nil {
		t.Fatal(err)
	}
	req := Request{
		System:    "Be brief.",
		Messages:  conversation,
		Tools:     []ToolSpec{{Name: "calculator", Description: "Evaluates arithmetic.", InputSchema: json.RawMessage(`{"type": "object", "required": ["expression"]}`)}},
		MaxTokens: 256,
	}
	if _, err := m.Converse(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	want := decoded(t, `{
		"system": [{"text": "Be brief."}],
		"inferenceConfig": {"maxTokens": 256},
		"toolConfig": {"tools": [{"toolSpec": {"name": "calculator", "description": "Evaluates arithmetic.",
			"inputSchema": {"json": {"type": "object", "required": ["expression"]}}}}]},
		"messages": [
			{"role": "user", "content": [{"text": "What is 6 * 7, and what time is it in Tokyo?"}]},
			{"role": "assistant", "content": [
				{"text": "Let me use the tools."},
				{"toolUse": {"toolUseId": "tooluse_a", "name": "calculator", "input": {"expression": "6 * 7"}}},
				{"toolUse": {"toolUseId": "tooluse_b", "name": "clock", "input": {"timezone": "Asia/Tokio"}}}]},
			{"role": "user", "content": [
				{"toolResult": {"toolUseId": "tooluse_a", "status": "success", "content": [{"json": {"expression": "6 * 7", "value": "42"}}]}},
				{"toolResult": {"toolUseId": "tooluse_b", "status": "error",
					"content": [{"json": {"error": "argument \"timezone\": \"Asia/Tokio\" is not an IANA time zone"}}]}}]}]}`)
	if fake.modelID != profileARN || !reflect.DeepEqual(fake.in, want) {
		t.Fatalf("model id %q, body %v\nwant %v", fake.modelID, fake.in, want)
	}
}

func TestBedrockResponsesBecomeMessages(t *testing.T) {
	out := `{"output":{"message":{"role":"assistant","content":[
		{"reasoningContent":{"reasoningText":{"text":"thinking"}}},
		{"text":"Checking."},
		{"citationsContent":{"citations":[]}},
		{"toolUse":{"toolUseId":"t1","name":"clock","input":{ "timezone" : "UTC" }}}]}},
		"stopReason":"tool_use","usage":{"inputTokens":3,"outputTokens":4}}`
	m, _ := NewBedrockModel(&fakeConverse{out: out}, profileARN, "m")
	resp, err := m.Converse(context.Background(), Request{Messages: conversation[:1]})
	if err != nil {
		t.Fatal(err)
	}
	want := Message{Role: RoleAssistant, Parts: []Part{
		{Reasoning: &Reasoning{Text: "thinking"}},
		{Text: "Checking."},
		{ToolCall: &ToolCall{ID: "t1", Name: "clock", Arguments: json.RawMessage(`{"timezone":"UTC"}`)}},
	}}
	if !reflect.DeepEqual(resp.Message, want) || resp.FinishReason != FinishToolCall {
		t.Fatalf("message %+v, finish %s", resp.Message, resp.FinishReason)
	}
}

func TestBedrockAnswersWithoutAMessageAreErrors(t *testing.T) {
	m, _ := NewBedrockModel(&fakeConverse{out: `{"output":{},"stopReason":"end_turn"}`}, profileARN, "m")
	if _, err := m.Converse(context.Background(), Request{Messages: conversation[:1]}); err == nil || !strings.Contains(err.Error(), "no message") {
		t.Fatalf("err %v", err)
	}
}

func TestBedrockRequestsWithArgumentsThatAreNotJSONAreRefused(t *testing.T) {
	m, _ := NewBedrockModel(&fakeConverse{out: textOutput("end_turn")}, profileARN, "m")
	bad := []Message{conversation[0], {Role: RoleAssistant, Parts: []Part{{ToolCall: &ToolCall{ID: "t9", Name: "clock", Arguments: json.RawMessage(`{"timezone":`)}}}}}
	if _, err := m.Converse(context.Background(), Request{Messages: bad}); err == nil || !strings.Contains(err.Error(), "tool call t9 arguments: not JSON") {
		t.Fatalf("err %v", err)
	}
}

func TestNewBedrockModelNamesEveryMissingArgument(t *testing.T) {
	_, err := NewBedrockModel(nil, "", "")
	for _, want := range []string{"client", "inference profile ARN", "model name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestBedrockRequestCarriesTheInferenceSettings(t *testing.T) {
	fake := &fakeConverse{out: textOutput("end_turn")}
	m, _ := NewBedrockModel(fake, profileARN, "m")
	temp, topP := 0.2, 0.9
	req := Request{Messages: conversation[:1], MaxTokens: 300, Temperature: &temp, TopP: &topP, StopSequences: []string{"END"}, ReasoningBudgetTokens: 2048}
	if _, err := m.Converse(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	body := fake.in.(map[string]any)
	want := decoded(t, `{"maxTokens": 300, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]}`)
	if !reflect.DeepEqual(body["inferenceConfig"], want) {
		t.Fatalf("inference config %v", body["inferenceConfig"])
	}
	if th := decoded(t, `{"thinking": {"type": "enabled", "budget_tokens": 2048}}`); !reflect.DeepEqual(body["additionalModelRequestFields"], th) {
		t.Fatalf("additional fields %v", body["additionalModelRequestFields"])
	}
	if _, err := m.Converse(context.Background(), Request{Messages: conversation[:1]}); err != nil || fake.in.(map[string]any)["inferenceConfig"] != nil {
		t.Fatalf("a request without settings sent inference config %v (err %v)", fake.in, err)
	}
}
