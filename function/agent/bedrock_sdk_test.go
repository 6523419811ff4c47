package agent

// The reference BedrockModel is held to: the model as it shipped on the SDK's bedrockruntime client, kept here
// (test-only) so the differential test in bedrock_wire_test.go can send the same Request through both.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// sdkModel is BedrockModel on the SDK's client, as it was before awsjson.BedrockRuntime replaced it.
type sdkModel struct {
	client     *bedrockruntime.Client
	profileARN string
}

// Converse implements Model with one Converse call (plus the client's own retries). AWS errors keep their
// chain (smithy.APIError, the SDK's typed exceptions, the request id), so ErrorType finds their code. It blocks
// until the call returns or ctx ends.
func (m *sdkModel) Converse(ctx context.Context, req Request) (Response, error) {
	in, err := m.input(req)
	if err != nil {
		return Response{}, fmt.Errorf("bedrock converse: build request: %w", err)
	}
	out, err := m.client.Converse(ctx, in)
	if err != nil {
		return Response{}, fmt.Errorf("bedrock converse: %w", err)
	}
	msgOut, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok {
		return Response{}, fmt.Errorf("bedrock converse: response carries no message (output %T)", out.Output)
	}
	msg, err := fromSDKMessage(msgOut.Value)
	if err != nil {
		return Response{}, fmt.Errorf("bedrock converse: read response: %w", err)
	}
	resp := Response{Message: msg, FinishReason: finishReason(string(out.StopReason))}
	resp.RequestID, _ = awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if out.Usage != nil {
		resp.Usage = Usage{InputTokens: int(aws.ToInt32(out.Usage.InputTokens)), OutputTokens: int(aws.ToInt32(out.Usage.OutputTokens))}
	}
	return resp, nil
}

// input translates a Request into Converse's shapes: system prompt as a SystemContentBlock, tools as
// ToolSpecifications with the JSON schema as a document, tool calls and results as toolUse/toolResult blocks.
func (m *sdkModel) input(req Request) (*bedrockruntime.ConverseInput, error) {
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(m.profileARN)}
	if req.System != "" {
		in.System = []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: req.System}}
	}
	in.InferenceConfig = sdkInferenceConfig(req)
	if req.ReasoningBudgetTokens > 0 {
		// Claude's extended thinking has no Converse field of its own: it travels as a model-specific field.
		in.AdditionalModelRequestFields = document.NewLazyDocument(map[string]any{
			"thinking": map[string]any{"type": "enabled", "budget_tokens": req.ReasoningBudgetTokens},
		})
	}
	for _, msg := range req.Messages {
		bm, err := sdkMessage(msg)
		if err != nil {
			return nil, err
		}
		in.Messages = append(in.Messages, bm)
	}
	if len(req.Tools) > 0 {
		cfg := &types.ToolConfiguration{}
		for _, t := range req.Tools {
			schema, err := sdkDocument(t.InputSchema)
			if err != nil {
				return nil, fmt.Errorf("tool %s: input schema: %w", t.Name, err)
			}
			cfg.Tools = append(cfg.Tools, &types.ToolMemberToolSpec{Value: types.ToolSpecification{
				Name:        aws.String(t.Name),
				Description: aws.String(t.Description),
				InputSchema: &types.ToolInputSchemaMemberJson{Value: schema},
			}})
		}
		in.ToolConfig = cfg
	}
	return in, nil
}

// sdkInferenceConfig is Converse's inferenceConfig for req, nil when req sets none of its fields.
func sdkInferenceConfig(req Request) *types.InferenceConfiguration {
	if req.MaxTokens <= 0 && req.Temperature == nil && req.TopP == nil && len(req.StopSequences) == 0 {
		return nil
	}
	c := &types.InferenceConfiguration{StopSequences: req.StopSequences}
	if req.MaxTokens > 0 {
		c.MaxTokens = aws.Int32(int32(req.MaxTokens))
	}
	if req.Temperature != nil {
		c.Temperature = aws.Float32(float32(*req.Temperature))
	}
	if req.TopP != nil {
		c.TopP = aws.Float32(float32(*req.TopP))
	}
	return c
}

// sdkMessage translates one message; tool results travel as JSON documents with status success or error,
// reasoning exactly as it was received.
func sdkMessage(m Message) (types.Message, error) {
	out := types.Message{Role: types.ConversationRole(m.Role)}
	for _, p := range m.Parts {
		switch {
		case p.Reasoning != nil:
			out.Content = append(out.Content, &types.ContentBlockMemberReasoningContent{Value: sdkReasoning(*p.Reasoning)})
		case p.ToolCall != nil:
			args, err := sdkDocument(p.ToolCall.Arguments)
			if err != nil {
				return out, fmt.Errorf("tool call %s arguments: %w", p.ToolCall.ID, err)
			}
			out.Content = append(out.Content, &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
				ToolUseId: aws.String(p.ToolCall.ID), Name: aws.String(p.ToolCall.Name), Input: args,
			}})
		case p.ToolResult != nil:
			content, err := sdkDocument(p.ToolResult.Content)
			if err != nil {
				return out, fmt.Errorf("tool result %s: %w", p.ToolResult.ID, err)
			}
			status := types.ToolResultStatusSuccess
			if p.ToolResult.IsError {
				status = types.ToolResultStatusError
			}
			out.Content = append(out.Content, &types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{
				ToolUseId: aws.String(p.ToolResult.ID),
				Content:   []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberJson{Value: content}},
				Status:    status,
			}})
		default:
			out.Content = append(out.Content, &types.ContentBlockMemberText{Value: p.Text})
		}
	}
	return out, nil
}

// sdkReasoning is a reasoningContent block: redactedContent, or reasoningText with its signature.
func sdkReasoning(r Reasoning) types.ReasoningContentBlock {
	if r.Redacted != nil {
		return &types.ReasoningContentBlockMemberRedactedContent{Value: r.Redacted}
	}
	text := types.ReasoningTextBlock{Text: aws.String(r.Text)}
	if r.Signature != "" {
		text.Signature = aws.String(r.Signature)
	}
	return &types.ReasoningContentBlockMemberReasoningText{Value: text}
}

// fromSDKMessage translates the assistant's answer, keeping text, toolUse and reasoningContent blocks in
// their order.
func fromSDKMessage(m types.Message) (Message, error) {
	out := Message{Role: Role(m.Role)}
	for _, block := range m.Content {
		switch b := block.(type) {
		case *types.ContentBlockMemberText:
			out.Parts = append(out.Parts, Part{Text: b.Value})
		case *types.ContentBlockMemberToolUse:
			args := json.RawMessage("{}")
			if b.Value.Input != nil {
				raw, err := b.Value.Input.MarshalSmithyDocument()
				if err != nil {
					return out, fmt.Errorf("tool use %s input: %w", aws.ToString(b.Value.ToolUseId), err)
				}
				args = raw
			}
			out.Parts = append(out.Parts, Part{ToolCall: &ToolCall{ID: aws.ToString(b.Value.ToolUseId), Name: aws.ToString(b.Value.Name), Arguments: args}})
		case *types.ContentBlockMemberReasoningContent:
			switch r := b.Value.(type) {
			case *types.ReasoningContentBlockMemberReasoningText:
				out.Parts = append(out.Parts, Part{Reasoning: &Reasoning{Text: aws.ToString(r.Value.Text), Signature: aws.ToString(r.Value.Signature)}})
			case *types.ReasoningContentBlockMemberRedactedContent:
				out.Parts = append(out.Parts, Part{Reasoning: &Reasoning{Redacted: append([]byte{}, r.Value...)}})
			}
		default:
			// Citations and other blocks carry nothing the loop acts on; they are not part of the conversation
			// this agent continues.
		}
	}
	return out, nil
}

// sdkDocument turns JSON into a smithy document.
func sdkDocument(raw json.RawMessage) (document.Interface, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return document.NewLazyDocument(v), nil
}
