package agent

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// fakeConverse records the input and call options of one call and answers with out.
type fakeConverse struct {
	in   *bedrockruntime.ConverseInput
	opts int
	out  *bedrockruntime.ConverseOutput
}

func (f *fakeConverse) Converse(_ context.Context, in *bedrockruntime.ConverseInput, opts ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error) {
	f.in, f.opts = in, len(opts)
	return f.out, nil
}

func textOutput(stop types.StopReason) *bedrockruntime.ConverseOutput {
	return &bedrockruntime.ConverseOutput{
		Output:     &types.ConverseOutputMemberMessage{Value: types.Message{Role: types.ConversationRoleAssistant, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "ok"}}}},
		StopReason: stop,
		Usage:      &types.TokenUsage{InputTokens: aws.Int32(3), OutputTokens: aws.Int32(4), TotalTokens: aws.Int32(7)},
	}
}

func TestBedrockStopReasonsMapToFinishReasons(t *testing.T) {
	tests := []struct {
		stop types.StopReason
		want string
	}{
		{types.StopReasonEndTurn, FinishStop},
		{types.StopReasonStopSequence, FinishStop},
		{types.StopReasonToolUse, FinishToolCall},
		{types.StopReasonMaxTokens, FinishLength},
		{types.StopReasonModelContextWindowExceeded, FinishLength},
		{types.StopReasonGuardrailIntervened, FinishContentFilter},
		{types.StopReasonContentFiltered, FinishContentFilter},
		{types.StopReasonMalformedToolUse, FinishError},
	}
	for _, tt := range tests {
		t.Run(string(tt.stop)+" is "+tt.want, func(t *testing.T) {
			m, _ := NewBedrockModel(&fakeConverse{out: textOutput(tt.stop)}, profileARN, "m")
			resp, err := m.Converse(context.Background(), Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Text: "hi"}}}}})
			if err != nil || resp.FinishReason != tt.want || resp.Usage != (Usage{3, 4}) {
				t.Fatalf("resp %+v err %v", resp, err)
			}
		})
	}
}

func TestBedrockRequestCarriesTheConversation(t *testing.T) {
	fake := &fakeConverse{out: textOutput(types.StopReasonEndTurn)}
	m, err := NewBedrockModel(fake, profileARN, "m", WithCallOptions(func(*bedrockruntime.Options) {}))
	if err != nil {
		t.Fatal(err)
	}
	req := Request{
		System:    "Be brief.",
		Messages:  conversation,
		Tools:     []ToolSpec{Calculator{}.Spec()},
		MaxTokens: 256,
	}
	if _, err := m.Converse(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	in := fake.in
	if aws.ToString(in.ModelId) != profileARN || fake.opts != 1 {
		t.Fatalf("model id %q, %d call options", aws.ToString(in.ModelId), fake.opts)
	}
	if sys, ok := in.System[0].(*types.SystemContentBlockMemberText); len(in.System) != 1 || !ok || sys.Value != "Be brief." {
		t.Errorf("system %#v", in.System)
	}
	if aws.ToInt32(in.InferenceConfig.MaxTokens) != 256 {
		t.Errorf("max tokens %v", in.InferenceConfig.MaxTokens)
	}
	spec := in.ToolConfig.Tools[0].(*types.ToolMemberToolSpec).Value
	schema, _ := spec.InputSchema.(*types.ToolInputSchemaMemberJson).Value.MarshalSmithyDocument()
	if aws.ToString(spec.Name) != "calculator" || !strings.Contains(string(schema), `"required":["expression"]`) {
		t.Errorf("tool %s schema %s", aws.ToString(spec.Name), schema)
	}

	// messages: user text; assistant text + two toolUse; user with a success and an error toolResult.
	if len(in.Messages) != 3 || in.Messages[1].Role != types.ConversationRoleAssistant || len(in.Messages[1].Content) != 3 {
		t.Fatalf("messages %#v", in.Messages)
	}
	use := in.Messages[1].Content[1].(*types.ContentBlockMemberToolUse).Value
	args, _ := use.Input.MarshalSmithyDocument()
	if aws.ToString(use.ToolUseId) != "tooluse_a" || aws.ToString(use.Name) != "calculator" || string(args) != `{"expression":"6 * 7"}` {
		t.Errorf("tool use %s %s %s", aws.ToString(use.ToolUseId), aws.ToString(use.Name), args)
	}
	results := in.Messages[2].Content
	ok := results[0].(*types.ContentBlockMemberToolResult).Value
	failed := results[1].(*types.ContentBlockMemberToolResult).Value
	if ok.Status != types.ToolResultStatusSuccess || failed.Status != types.ToolResultStatusError || aws.ToString(failed.ToolUseId) != "tooluse_b" {
		t.Errorf("tool results %+v %+v", ok, failed)
	}
	body, _ := failed.Content[0].(*types.ToolResultContentBlockMemberJson).Value.MarshalSmithyDocument()
	if !strings.Contains(string(body), "not an IANA time zone") {
		t.Errorf("error result %s", body)
	}
}

func TestBedrockResponsesBecomeMessages(t *testing.T) {
	out := textOutput(types.StopReasonToolUse)
	out.Output = &types.ConverseOutputMemberMessage{Value: types.Message{Role: types.ConversationRoleAssistant, Content: []types.ContentBlock{
		&types.ContentBlockMemberReasoningContent{Value: &types.ReasoningContentBlockMemberReasoningText{Value: types.ReasoningTextBlock{Text: aws.String("thinking")}}},
		&types.ContentBlockMemberText{Value: "Checking."},
		&types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{ToolUseId: aws.String("t1"), Name: aws.String("clock"), Input: document.NewLazyDocument(map[string]any{"timezone": "UTC"})}},
	}}}
	m, _ := NewBedrockModel(&fakeConverse{out: out}, profileARN, "m")
	resp, err := m.Converse(context.Background(), Request{Messages: conversation[:1]})
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Message.ToolCalls()
	if resp.Message.Role != RoleAssistant || resp.Message.Text() != "Checking." || len(calls) != 1 ||
		calls[0].ID != "t1" || calls[0].Name != "clock" || string(calls[0].Arguments) != `{"timezone":"UTC"}` {
		t.Fatalf("message %+v calls %+v", resp.Message, calls)
	}
	var v map[string]string
	if json.Unmarshal(calls[0].Arguments, &v) != nil || v["timezone"] != "UTC" {
		t.Fatalf("arguments are not a JSON object: %s", calls[0].Arguments)
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
	fake := &fakeConverse{out: textOutput(types.StopReasonEndTurn)}
	m, _ := NewBedrockModel(fake, profileARN, "m")
	temp, topP := 0.2, 0.9
	req := Request{Messages: conversation, MaxTokens: 300, Temperature: &temp, TopP: &topP, StopSequences: []string{"END"}}
	if _, err := m.Converse(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	ic := fake.in.InferenceConfig
	if ic == nil || aws.ToInt32(ic.MaxTokens) != 300 || aws.ToFloat32(ic.Temperature) != float32(temp) || aws.ToFloat32(ic.TopP) != float32(topP) ||
		len(ic.StopSequences) != 1 || ic.StopSequences[0] != "END" {
		t.Fatalf("inference config %+v", ic)
	}
	if _, err := m.Converse(context.Background(), Request{Messages: conversation}); err != nil || fake.in.InferenceConfig != nil {
		t.Fatalf("a request without settings sent inference config %+v (err %v)", fake.in.InferenceConfig, err)
	}
}
