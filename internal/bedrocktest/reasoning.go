package bedrocktest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// minThinkingBudget is the smallest budget_tokens Claude's extended thinking accepts.
const minThinkingBudget = 1024

// Reasoning is one extended-thinking block of a scripted reply, written as Converse's reasoningContent:
// {"reasoningText": {"text", "signature"}}, or {"redactedContent": base64} when Redacted is set.
type Reasoning struct {
	Text, Signature string
	Redacted        []byte
}

// wire is the block's JSON shape.
func (r Reasoning) wire() map[string]any {
	if r.Redacted != nil {
		return map[string]any{"reasoningContent": map[string]any{"redactedContent": base64.StdEncoding.EncodeToString(r.Redacted)}}
	}
	return map[string]any{"reasoningContent": map[string]any{"reasoningText": map[string]any{"text": r.Text, "signature": r.Signature}}}
}

// key identifies a block the server handed out, so a block sent back can be checked unchanged.
func (r Reasoning) key() string {
	if r.Redacted != nil {
		return "redacted:" + base64.StdEncoding.EncodeToString(r.Redacted)
	}
	return fmt.Sprintf("text:%q signature:%q", r.Text, r.Signature)
}

// thinking is the Claude-specific thinking setting in additionalModelRequestFields.
type thinking struct {
	Type         string `json:"type"`
	BudgetTokens *int   `json:"budget_tokens"`
}

// thinkingOf reads additionalModelRequestFields.thinking; nil when absent.
func thinkingOf(b ConverseBody) *thinking {
	var fields struct {
		Thinking *thinking `json:"thinking"`
	}
	if len(b.AdditionalModelRequestFields) == 0 || json.Unmarshal(b.AdditionalModelRequestFields, &fields) != nil {
		return nil
	}
	return fields.Thinking
}

// validateThinking applies Claude's rules for extended thinking, as Bedrock passes them on: a budget of at least
// 1,024 tokens below maxTokens, no temperature or top_p, and, after a tool call, the assistant message with the
// tool use must start with its reasoning block.
func validateThinking(b ConverseBody) string {
	th := thinkingOf(b)
	if th == nil || th.Type != "enabled" {
		return ""
	}
	switch {
	case th.BudgetTokens == nil:
		return "thinking.enabled.budget_tokens: Field required"
	case *th.BudgetTokens < minThinkingBudget:
		return fmt.Sprintf("thinking.enabled.budget_tokens: Input should be greater than or equal to %d", minThinkingBudget)
	case b.InferenceConfig == nil || b.InferenceConfig.MaxTokens == nil || *b.InferenceConfig.MaxTokens <= *th.BudgetTokens:
		return "`max_tokens` must be greater than `thinking.budget_tokens`."
	case b.InferenceConfig.Temperature != nil || b.InferenceConfig.TopP != nil:
		return "`temperature` and `top_p` may not be set when thinking is enabled."
	}
	n := len(b.Messages)
	if n < 2 || !hasBlock(b.Messages[n-1], "toolResult") {
		return ""
	}
	last := b.Messages[n-2]
	if len(last.Content) > 0 && last.Content[0]["reasoningContent"] == nil {
		return fmt.Sprintf("messages.%d.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, "+
			"a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks).", n-2)
	}
	return ""
}

// reasoningSentBack lists the reasoning blocks of the request's assistant messages with where they are.
func reasoningSentBack(b ConverseBody) (keys, where []string) {
	for i, m := range b.Messages {
		for j, block := range m.Content {
			rc, ok := block["reasoningContent"].(map[string]any)
			if !ok {
				continue
			}
			var r Reasoning
			if red, ok := rc["redactedContent"].(string); ok {
				r.Redacted, _ = base64.StdEncoding.DecodeString(red)
				if r.Redacted == nil {
					r.Redacted = []byte{}
				}
			} else if rt, ok := rc["reasoningText"].(map[string]any); ok {
				r.Text, _ = rt["text"].(string)
				r.Signature, _ = rt["signature"].(string)
			}
			keys, where = append(keys, r.key()), append(where, fmt.Sprintf("messages.%d.content.%d", i, j))
		}
	}
	return keys, where
}

func hasBlock(m Message, member string) bool {
	for _, block := range m.Content {
		if block[member] != nil {
			return true
		}
	}
	return false
}
