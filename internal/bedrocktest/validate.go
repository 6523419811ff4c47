package bedrocktest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// toolName is Bedrock's constraint on tool names.
var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// validate applies the request rules Bedrock enforces before a model sees the conversation and returns the
// ValidationException message of the first one broken, or "" when the request is valid. The messages follow
// Bedrock's own wording closely enough for a test to recognise them.
func validate(b ConverseBody) string {
	if msg := validateConfig(b); msg != "" {
		return msg
	}
	if msg := validateThinking(b); msg != "" {
		return msg
	}
	if len(b.Messages) == 0 || b.Messages[0].Role != "user" {
		return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
	}
	var pending []string // toolUse ids of the previous assistant turn
	for i, m := range b.Messages {
		if i > 0 && m.Role == b.Messages[i-1].Role {
			return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again."
		}
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("1 validation error detected: Value '%s' at 'messages.%d.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]", m.Role, i+1)
		}
		if len(m.Content) == 0 {
			return fmt.Sprintf("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
		var uses, answered []string
		for j, block := range m.Content {
			if text, ok := block["text"].(string); ok && strings.TrimSpace(text) == "" {
				return fmt.Sprintf("The text field in the ContentBlock object at messages.%d.content.%d is blank. Add text to the text field, and try again.", i, j)
			}
			if tu, ok := block["toolUse"].(map[string]any); ok {
				id, _ := tu["toolUseId"].(string)
				uses = append(uses, id)
			}
			if tr, ok := block["toolResult"].(map[string]any); ok {
				id, _ := tr["toolUseId"].(string)
				if !slices.Contains(pending, id) {
					return fmt.Sprintf("The toolResult blocks at messages.%d.content contain a toolUseId %s with no corresponding toolUse block in the previous turn.", i, id)
				}
				if status, _ := tr["status"].(string); status != "" && status != "success" && status != "error" {
					return fmt.Sprintf("1 validation error detected: Value '%s' at 'messages.%d.member.content.%d.member.toolResult.status' failed to satisfy constraint: Member must satisfy enum value set: [success, error]", status, i+1, j+1)
				}
				answered = append(answered, id)
			}
			if (block["toolUse"] != nil || block["toolResult"] != nil) && b.ToolConfig == nil {
				return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
			}
		}
		var missing []string
		for _, id := range pending {
			if !slices.Contains(answered, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return fmt.Sprintf("Expected toolResult blocks at messages.%d.content for the following Ids: %s", i, strings.Join(missing, ", "))
		}
		pending = uses
	}
	return ""
}

// validateConfig checks the parts of the request outside the conversation.
func validateConfig(b ConverseBody) string {
	if ic := b.InferenceConfig; ic != nil && ic.MaxTokens != nil && *ic.MaxTokens < 1 {
		return fmt.Sprintf("1 validation error detected: Value '%d' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1", *ic.MaxTokens)
	}
	for i, sys := range b.System {
		if text, ok := sys["text"].(string); ok && strings.TrimSpace(text) == "" {
			return fmt.Sprintf("The text field in the SystemContentBlock object at system.%d is blank. Add text to the text field, and try again.", i)
		}
	}
	if b.ToolConfig != nil {
		if len(b.ToolConfig.Tools) == 0 {
			return "1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1"
		}
		for i, t := range b.ToolConfig.Tools {
			switch {
			case t.ToolSpec == nil:
				return fmt.Sprintf("The tool at toolConfig.tools.%d has no toolSpec.", i)
			case !toolName.MatchString(t.ToolSpec.Name):
				return fmt.Sprintf("1 validation error detected: Value '%s' at 'toolConfig.tools.%d.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+", t.ToolSpec.Name, i+1)
			case len(t.ToolSpec.InputSchema.JSON) == 0 || t.ToolSpec.InputSchema.JSON[0] != '{':
				return fmt.Sprintf("The input schema of tool %s at toolConfig.tools.%d must be a JSON object.", t.ToolSpec.Name, i)
			}
		}
	}
	return ""
}
