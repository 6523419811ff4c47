package telemetry

import (
	"encoding/json"
)

// The GenAI semantic conventions record messages as JSON strings following their input/output message schemas
// (docs/gen-ai/gen-ai-{input,output}-messages.json and gen-ai-system-instructions.json in
// open-telemetry/semantic-conventions): a message is {"role", "parts", "finish_reason" (output only)}, a part is
// one of the typed shapes below. No Go library publishes these types, so they are written out here.

// Roles of the GenAI message schema. RoleTool marks a message that carries only tool results.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Part types of the GenAI message schema. PartRedactedReasoning is not one of the schema's named parts: it is
// encoded as the schema's generic part, {"type"} alone, for reasoning the provider encrypted.
const (
	PartText              = "text"
	PartToolCall          = "tool_call"
	PartToolCallResponse  = "tool_call_response"
	PartReasoning         = "reasoning"
	PartRedactedReasoning = "redacted_reasoning"
)

// MessagePart is one part of a GenAI message: text or reasoning (Content), a tool call (ID, Name, Arguments) or a
// tool call response (ID, Response). Marshalled, it carries exactly the fields its Type defines, each required field
// present even when empty, so every encoded part validates against the schema.
type MessagePart struct {
	Type      string
	Content   string
	ID        string
	Name      string
	Arguments json.RawMessage
	Response  json.RawMessage
}

// Wire shapes of the parts; the field sets and their required members follow the schema.
type (
	textPart struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	}
	toolCallPart struct {
		Type      string          `json:"type"`
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	toolCallResponsePart struct {
		Type     string          `json:"type"`
		ID       string          `json:"id"`
		Response json.RawMessage `json:"response"`
	}
	genericPart struct {
		Type string `json:"type"`
	}
)

// MarshalJSON encodes the part in the shape of its Type. Empty or invalid Arguments/Response become JSON null
// (the schema allows any value there) rather than failing the whole attribute. Unknown types encode as the
// schema's generic part, {"type"} alone.
func (p MessagePart) MarshalJSON() ([]byte, error) {
	switch p.Type {
	case PartText, PartReasoning: // the schema's TextPart and ReasoningPart have the same fields
		return json.Marshal(textPart{p.Type, p.Content})
	case PartToolCall:
		return json.Marshal(toolCallPart{p.Type, p.ID, p.Name, jsonOrNull(p.Arguments)})
	case PartToolCallResponse:
		return json.Marshal(toolCallResponsePart{p.Type, p.ID, jsonOrNull(p.Response)})
	default:
		return json.Marshal(genericPart{p.Type})
	}
}

// ChatMessage is one GenAI message. FinishReason is required on output messages and absent on input messages.
type ChatMessage struct {
	Role         string        `json:"role"`
	Parts        []MessagePart `json:"parts"`
	FinishReason string        `json:"finish_reason,omitempty"`
}

// MessagesJSON encodes messages for gen_ai.input.messages and gen_ai.output.messages. It never fails: every
// field is a string or JSON made valid by MarshalJSON.
func MessagesJSON(msgs []ChatMessage) string {
	out := make([]ChatMessage, len(msgs))
	for i, m := range msgs {
		if m.Parts == nil {
			m.Parts = []MessagePart{} // the schema wants an array, never null
		}
		out[i] = m
	}
	return mustJSON(out)
}

// PartsJSON encodes parts for gen_ai.system_instructions (an array of parts, no message wrapper).
func PartsJSON(parts []MessagePart) string {
	if parts == nil {
		parts = []MessagePart{}
	}
	return mustJSON(parts)
}

func jsonOrNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || !json.Valid(raw) {
		return json.RawMessage("null")
	}
	return raw
}

// mustJSON encodes v, which holds only strings and valid JSON (see jsonOrNull), so encoding cannot fail; if it
// ever does, a fixed marker is recorded instead of content.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return `[{"role":"system","parts":[{"type":"error_encoding_messages"}]}]`
	}
	return string(b)
}
