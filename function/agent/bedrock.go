package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
)

// ConverseAPI is the part of the Bedrock Runtime client the model uses; *bedrockruntime.Client implements it.
type ConverseAPI interface {
	Converse(ctx context.Context, in *bedrockruntime.ConverseInput, opts ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error)
}

// BedrockModel calls Amazon Bedrock's Converse API with an application inference profile ARN as model id.
// Safe for concurrent use.
type BedrockModel struct {
	client     ConverseAPI
	profileARN string
	name       string
	callOpts   []func(*bedrockruntime.Options)
}

var _ Model = (*BedrockModel)(nil)

// BedrockOption configures a BedrockModel.
type BedrockOption func(*BedrockModel)

// WithCallOptions applies opts to every Converse call, for example to change the retryer or add middleware for
// this model only.
func WithCallOptions(opts ...func(*bedrockruntime.Options)) BedrockOption {
	return func(m *BedrockModel) { m.callOpts = append(m.callOpts, opts...) }
}

// NewBedrockModel returns a model calling client with inferenceProfileARN (an application inference profile)
// as model id; modelName is the logical name the spans record (span "chat {modelName}", gen_ai.request.model),
// since the ARN says nothing a reader recognises. The error names every missing argument.
func NewBedrockModel(client ConverseAPI, inferenceProfileARN, modelName string, opts ...BedrockOption) (*BedrockModel, error) {
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
	m := &BedrockModel{client: client, profileARN: inferenceProfileARN, name: modelName}
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

// Name implements Model.
func (m *BedrockModel) Name() string { return m.name }

// Provider implements Model.
func (m *BedrockModel) Provider() string { return providerAWSBedrock }

// Converse implements Model with one Converse call (plus the client's own retries). AWS errors keep their
// chain (smithy.APIError, the SDK's typed exceptions, the request id), so ErrorType finds their code. It blocks
// until the call returns or ctx ends.
func (m *BedrockModel) Converse(ctx context.Context, req Request) (Response, error) {
	in, err := m.input(req)
	if err != nil {
		return Response{}, fmt.Errorf("bedrock converse: build request: %w", err)
	}
	out, err := m.client.Converse(ctx, in, m.callOpts...)
	if err != nil {
		return Response{}, fmt.Errorf("bedrock converse: %w", err)
	}
	msgOut, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok {
		return Response{}, fmt.Errorf("bedrock converse: response carries no message (output %T)", out.Output)
	}
	msg, err := fromBedrockMessage(msgOut.Value)
	if err != nil {
		return Response{}, fmt.Errorf("bedrock converse: read response: %w", err)
	}
	resp := Response{Message: msg, FinishReason: finishReason(out.StopReason)}
	resp.RequestID, _ = awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if out.Usage != nil {
		resp.Usage = Usage{InputTokens: int(aws.ToInt32(out.Usage.InputTokens)), OutputTokens: int(aws.ToInt32(out.Usage.OutputTokens))}
	}
	return resp, nil
}

// input translates a Request into Converse's shapes: system prompt as a SystemContentBlock, tools as
// ToolSpecifications with the JSON schema as a document, tool calls and results as toolUse/toolResult blocks.
func (m *BedrockModel) input(req Request) (*bedrockruntime.ConverseInput, error) {
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(m.profileARN)}
	if req.System != "" {
		in.System = []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: req.System}}
	}
	in.InferenceConfig = inferenceConfig(req)
	if req.ReasoningBudgetTokens > 0 {
		// Claude's extended thinking has no Converse field of its own: it travels as a model-specific field.
		in.AdditionalModelRequestFields = document.NewLazyDocument(map[string]any{
			"thinking": map[string]any{"type": "enabled", "budget_tokens": req.ReasoningBudgetTokens},
		})
	}
	for _, msg := range req.Messages {
		bm, err := toBedrockMessage(msg)
		if err != nil {
			return nil, err
		}
		in.Messages = append(in.Messages, bm)
	}
	if len(req.Tools) > 0 {
		cfg := &types.ToolConfiguration{}
		for _, t := range req.Tools {
			schema, err := jsonDocument(t.InputSchema)
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

// inferenceConfig is Converse's inferenceConfig for req, nil when req sets none of its fields.
func inferenceConfig(req Request) *types.InferenceConfiguration {
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

// toBedrockMessage translates one message; tool results travel as JSON documents with status success or error,
// reasoning exactly as it was received.
func toBedrockMessage(m Message) (types.Message, error) {
	out := types.Message{Role: types.ConversationRole(m.Role)}
	for _, p := range m.Parts {
		switch {
		case p.Reasoning != nil:
			out.Content = append(out.Content, &types.ContentBlockMemberReasoningContent{Value: toBedrockReasoning(*p.Reasoning)})
		case p.ToolCall != nil:
			args, err := jsonDocument(p.ToolCall.Arguments)
			if err != nil {
				return out, fmt.Errorf("tool call %s arguments: %w", p.ToolCall.ID, err)
			}
			out.Content = append(out.Content, &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
				ToolUseId: aws.String(p.ToolCall.ID), Name: aws.String(p.ToolCall.Name), Input: args,
			}})
		case p.ToolResult != nil:
			content, err := jsonDocument(p.ToolResult.Content)
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

// toBedrockReasoning is a reasoningContent block: redactedContent, or reasoningText with its signature.
func toBedrockReasoning(r Reasoning) types.ReasoningContentBlock {
	if r.Redacted != nil {
		return &types.ReasoningContentBlockMemberRedactedContent{Value: r.Redacted}
	}
	text := types.ReasoningTextBlock{Text: aws.String(r.Text)}
	if r.Signature != "" {
		text.Signature = aws.String(r.Signature)
	}
	return &types.ReasoningContentBlockMemberReasoningText{Value: text}
}

// fromBedrockMessage translates the assistant's answer, keeping text, toolUse and reasoningContent blocks in
// their order.
func fromBedrockMessage(m types.Message) (Message, error) {
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

// jsonDocument turns JSON into a smithy document.
func jsonDocument(raw json.RawMessage) (document.Interface, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return document.NewLazyDocument(v), nil
}

// finishReason maps Bedrock's stop reasons to the GenAI conventions' finish reasons.
func finishReason(r types.StopReason) string {
	switch r {
	case types.StopReasonEndTurn, types.StopReasonStopSequence:
		return FinishStop
	case types.StopReasonToolUse:
		return FinishToolCall
	case types.StopReasonMaxTokens, types.StopReasonModelContextWindowExceeded:
		return FinishLength
	case types.StopReasonGuardrailIntervened, types.StopReasonContentFiltered:
		return FinishContentFilter
	case "":
		return FinishStop
	default:
		return FinishError
	}
}
