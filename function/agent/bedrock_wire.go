package agent

import "encoding/json"

// The JSON shapes of Converse's request and answer that BedrockModel uses: written here instead of linking the
// SDK's bedrockruntime package, whose schemas and endpoint tables initialise on every cold start (see
// docs/performance.md). Member names and encodings are Converse's (Bedrock API reference, "Converse"); the tests
// hold every shape to the SDK client's.
type (
	converseRequest struct {
		Messages        []wireMessage    `json:"messages,omitempty"`
		System          []systemBlock    `json:"system,omitempty"`
		InferenceConfig *inferenceConfig `json:"inferenceConfig,omitempty"`
		ToolConfig      *toolConfig      `json:"toolConfig,omitempty"`
		// AdditionalModelRequestFields are model-specific settings (Claude's thinking).
		AdditionalModelRequestFields map[string]any `json:"additionalModelRequestFields,omitempty"`
	}
	systemBlock struct {
		Text string `json:"text"`
	}
	// wireMessage is a Message, in a request and in the answer's output.message.
	wireMessage struct {
		Role    string         `json:"role"`
		Content []contentBlock `json:"content,omitempty"`
	}
	// contentBlock is a union: exactly one member is set (an answer's block of another kind has none of these).
	contentBlock struct {
		Text             *string          `json:"text,omitempty"`
		ToolUse          *toolUseBlock    `json:"toolUse,omitempty"`
		ToolResult       *toolResultBlock `json:"toolResult,omitempty"`
		ReasoningContent *reasoningBlock  `json:"reasoningContent,omitempty"`
	}
	toolUseBlock struct {
		ToolUseID string          `json:"toolUseId"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	}
	toolResultBlock struct {
		ToolUseID string       `json:"toolUseId"`
		Content   []jsonMember `json:"content"`
		Status    string       `json:"status"`
	}
	// jsonMember is a union with its json member set: a tool result's content block, a tool's input schema.
	jsonMember struct {
		JSON json.RawMessage `json:"json"`
	}
	// reasoningBlock is a union: reasoningText, or redactedContent (bytes, base64 in JSON).
	reasoningBlock struct {
		ReasoningText   *reasoningText `json:"reasoningText,omitempty"`
		RedactedContent []byte         `json:"redactedContent,omitempty"`
	}
	reasoningText struct {
		Text      string `json:"text"`
		Signature string `json:"signature,omitempty"`
	}
	inferenceConfig struct {
		MaxTokens     *int     `json:"maxTokens,omitempty"`
		Temperature   *float32 `json:"temperature,omitempty"`
		TopP          *float32 `json:"topP,omitempty"`
		StopSequences []string `json:"stopSequences,omitempty"`
	}
	toolConfig struct {
		Tools []tool `json:"tools"`
	}
	// tool is a union with its toolSpec member set.
	tool struct {
		ToolSpec toolSpec `json:"toolSpec"`
	}
	toolSpec struct {
		Name        string     `json:"name"`
		Description string     `json:"description"`
		InputSchema jsonMember `json:"inputSchema"`
	}

	// converseOutput is the answer: output is a union whose message member BedrockModel reads.
	converseOutput struct {
		Output struct {
			Message *wireMessage `json:"message"`
		} `json:"output"`
		StopReason string      `json:"stopReason"`
		Usage      *tokenUsage `json:"usage"`
	}
	tokenUsage struct {
		InputTokens  int `json:"inputTokens"`
		OutputTokens int `json:"outputTokens"`
	}
)
