package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ConverseAPI is the Bedrock Runtime call the model makes; *awsjson.BedrockRuntime implements it. Converse sends
// the JSON of in as a Converse request body for modelID, decodes the answer body into out, and returns the
// answer's request ID (x-amzn-RequestId). AWS errors must keep their chain (a smithy.APIError with the code), so
// ErrorType finds it.
type ConverseAPI interface {
	Converse(ctx context.Context, modelID string, in, out any) (requestID string, err error)
}

// BedrockModel calls Amazon Bedrock's Converse API with an application inference profile ARN as model id.
// Safe for concurrent use.
type BedrockModel struct {
	client     ConverseAPI
	profileARN string
	name       string
}

var _ Model = (*BedrockModel)(nil)

// NewBedrockModel returns a model calling client with inferenceProfileARN (an application inference profile)
// as model id; modelName is the logical name the spans record (span "chat {modelName}", gen_ai.request.model),
// since the ARN says nothing a reader recognises. The error names every missing argument.
func NewBedrockModel(client ConverseAPI, inferenceProfileARN, modelName string) (*BedrockModel, error) {
	var errs []error
	if client == nil {
		errs = append(errs, errors.New("client: required"))
	}
	if inferenceProfileARN == "" {
		errs = append(errs, errors.New("inference profile ARN: required"))
	}
	if modelName == "" {
		errs = append(errs, errors.New("model name: required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bedrock model: %w", err)
	}
	return &BedrockModel{client: client, profileARN: inferenceProfileARN, name: modelName}, nil
}

// Name implements Model.
func (m *BedrockModel) Name() string { return m.name }

// Provider implements Model.
func (m *BedrockModel) Provider() string { return providerAWSBedrock }

// Converse implements Model with one Converse call (plus the client's own retries). AWS errors keep their
// chain (smithy.APIError, the request id), so ErrorType finds their code. It blocks until the call returns or ctx
// ends.
func (m *BedrockModel) Converse(ctx context.Context, req Request) (Response, error) {
	in, err := converseInput(req)
	if err != nil {
		return Response{}, fmt.Errorf("bedrock converse: build request: %w", err)
	}
	var out converseOutput
	requestID, err := m.client.Converse(ctx, m.profileARN, in, &out)
	if err != nil {
		return Response{}, fmt.Errorf("bedrock converse: %w", err)
	}
	if out.Output.Message == nil {
		return Response{}, errors.New("bedrock converse: response carries no message")
	}
	resp := Response{Message: fromBedrockMessage(*out.Output.Message), FinishReason: finishReason(out.StopReason), RequestID: requestID}
	if out.Usage != nil {
		resp.Usage = Usage{InputTokens: out.Usage.InputTokens, OutputTokens: out.Usage.OutputTokens}
	}
	return resp, nil
}

// converseInput translates a Request into Converse's shapes: system prompt as a text block, tools as tool
// specifications with their JSON schemas, tool calls and results as toolUse/toolResult blocks.
func converseInput(req Request) (*converseRequest, error) {
	in := &converseRequest{InferenceConfig: inferenceSettings(req)}
	if req.System != "" {
		in.System = []systemBlock{{Text: req.System}}
	}
	if req.ReasoningBudgetTokens > 0 {
		// Claude's extended thinking has no Converse field of its own: it travels as a model-specific field.
		in.AdditionalModelRequestFields = map[string]any{
			"thinking": map[string]any{"type": "enabled", "budget_tokens": req.ReasoningBudgetTokens},
		}
	}
	in.Messages = make([]wireMessage, len(req.Messages))
	for i, msg := range req.Messages {
		var err error
		if in.Messages[i], err = toBedrockMessage(msg); err != nil {
			return nil, err
		}
	}
	if len(req.Tools) > 0 {
		in.ToolConfig = &toolConfig{Tools: make([]tool, len(req.Tools))}
		for i, t := range req.Tools {
			spec := &in.ToolConfig.Tools[i].ToolSpec
			spec.Name, spec.Description = t.Name, t.Description
			var err error
			if spec.InputSchema.JSON, err = jsonValue(t.InputSchema); err != nil {
				return nil, fmt.Errorf("tool %s: input schema: %w", t.Name, err)
			}
		}
	}
	return in, nil
}

// inferenceSettings is Converse's inferenceConfig for req, nil when req sets none of its fields.
func inferenceSettings(req Request) *inferenceConfig {
	if req.MaxTokens <= 0 && req.Temperature == nil && req.TopP == nil && len(req.StopSequences) == 0 {
		return nil
	}
	c := &inferenceConfig{StopSequences: req.StopSequences}
	if req.MaxTokens > 0 {
		c.MaxTokens = &req.MaxTokens
	}
	// Converse's temperature and topP are 32-bit floats: sent as the SDK sends them.
	if req.Temperature != nil {
		t := float32(*req.Temperature)
		c.Temperature = &t
	}
	if req.TopP != nil {
		p := float32(*req.TopP)
		c.TopP = &p
	}
	return c
}

// toBedrockMessage translates one message; tool results travel as JSON with status success or error, reasoning
// exactly as it was received.
func toBedrockMessage(m Message) (wireMessage, error) {
	out := wireMessage{Role: string(m.Role)}
	for _, p := range m.Parts {
		switch {
		case p.Reasoning != nil:
			out.Content = append(out.Content, contentBlock{ReasoningContent: toBedrockReasoning(*p.Reasoning)})
		case p.ToolCall != nil:
			args, err := jsonValue(p.ToolCall.Arguments)
			if err != nil {
				return out, fmt.Errorf("tool call %s arguments: %w", p.ToolCall.ID, err)
			}
			out.Content = append(out.Content, contentBlock{ToolUse: &toolUseBlock{ToolUseID: p.ToolCall.ID, Name: p.ToolCall.Name, Input: args}})
		case p.ToolResult != nil:
			content, err := jsonValue(p.ToolResult.Content)
			if err != nil {
				return out, fmt.Errorf("tool result %s: %w", p.ToolResult.ID, err)
			}
			status := "success"
			if p.ToolResult.IsError {
				status = "error"
			}
			out.Content = append(out.Content, contentBlock{ToolResult: &toolResultBlock{
				ToolUseID: p.ToolResult.ID, Content: []jsonMember{{JSON: content}}, Status: status,
			}})
		default:
			out.Content = append(out.Content, contentBlock{Text: &p.Text})
		}
	}
	return out, nil
}

// toBedrockReasoning is a reasoningContent block: redactedContent, or reasoningText with its signature.
func toBedrockReasoning(r Reasoning) *reasoningBlock {
	if r.Redacted != nil {
		return &reasoningBlock{RedactedContent: r.Redacted}
	}
	return &reasoningBlock{ReasoningText: &reasoningText{Text: r.Text, Signature: r.Signature}}
}

// fromBedrockMessage translates the assistant's answer, keeping text, toolUse and reasoningContent blocks in
// their order.
func fromBedrockMessage(m wireMessage) Message {
	out := Message{Role: Role(m.Role)}
	for _, b := range m.Content {
		switch {
		case b.Text != nil:
			out.Parts = append(out.Parts, Part{Text: *b.Text})
		case b.ToolUse != nil:
			args := json.RawMessage("{}")
			if string(b.ToolUse.Input) != "null" {
				args, _ = jsonValue(b.ToolUse.Input) // valid: it was decoded from the answer
			}
			out.Parts = append(out.Parts, Part{ToolCall: &ToolCall{ID: b.ToolUse.ToolUseID, Name: b.ToolUse.Name, Arguments: args}})
		case b.ReasoningContent != nil && b.ReasoningContent.ReasoningText != nil:
			t := b.ReasoningContent.ReasoningText
			out.Parts = append(out.Parts, Part{Reasoning: &Reasoning{Text: t.Text, Signature: t.Signature}})
		case b.ReasoningContent != nil && b.ReasoningContent.RedactedContent != nil:
			out.Parts = append(out.Parts, Part{Reasoning: &Reasoning{Redacted: b.ReasoningContent.RedactedContent}})
		default:
			// Citations and other blocks carry nothing the loop acts on; they are not part of the conversation
			// this agent continues.
		}
	}
	return out
}

// jsonValue checks that raw is one JSON value and compacts it; empty means {}.
func jsonValue(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}"), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return b.Bytes(), nil
}

// finishReason maps Bedrock's stop reasons to the GenAI conventions' finish reasons.
func finishReason(r string) string {
	switch r {
	case "end_turn", "stop_sequence", "":
		return FinishStop
	case "tool_use":
		return FinishToolCall
	case "max_tokens", "model_context_window_exceeded":
		return FinishLength
	case "guardrail_intervened", "content_filtered":
		return FinishContentFilter
	default:
		return FinishError
	}
}
