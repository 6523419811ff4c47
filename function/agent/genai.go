package agent

import (
	"github.com/agent-audit/agent-audit/function/telemetry"
)

// roleTool is the GenAI role of a message that carries only tool results (Bedrock sends those as user messages).
const roleTool = "tool"

// messagesJSON renders messages in the GenAI message schema. finish, when set, is the finish_reason of every
// message (output messages).
func messagesJSON(msgs []Message, finish string) string {
	out := make([]telemetry.ChatMessage, 0, len(msgs))
	for _, m := range msgs {
		cm := telemetry.ChatMessage{Role: string(m.Role), Parts: make([]telemetry.MessagePart, 0, len(m.Parts)), FinishReason: finish}
		onlyResults := len(m.Parts) > 0
		for _, p := range m.Parts {
			switch {
			case p.ToolCall != nil:
				onlyResults = false
				cm.Parts = append(cm.Parts, telemetry.MessagePart{Type: telemetry.PartToolCall, ID: p.ToolCall.ID, Name: p.ToolCall.Name, Arguments: p.ToolCall.Arguments})
			case p.ToolResult != nil:
				cm.Parts = append(cm.Parts, telemetry.MessagePart{Type: telemetry.PartToolCallResponse, ID: p.ToolResult.ID, Response: p.ToolResult.Content})
			case p.Reasoning != nil:
				onlyResults = false
				// The signature and redacted bytes are opaque tokens for the model, not content a reader can use.
				if p.Reasoning.Redacted != nil {
					cm.Parts = append(cm.Parts, telemetry.MessagePart{Type: telemetry.PartRedactedReasoning})
				} else {
					cm.Parts = append(cm.Parts, telemetry.MessagePart{Type: telemetry.PartReasoning, Content: p.Reasoning.Text})
				}
			default:
				onlyResults = false
				cm.Parts = append(cm.Parts, telemetry.MessagePart{Type: telemetry.PartText, Content: p.Text})
			}
		}
		if onlyResults {
			cm.Role = roleTool
		}
		out = append(out, cm)
	}
	return telemetry.MessagesJSON(out)
}

// systemJSON renders the system prompt as gen_ai.system_instructions: an array of parts.
func systemJSON(system string) string {
	return telemetry.PartsJSON([]telemetry.MessagePart{{Type: telemetry.PartText, Content: system}})
}
