package telemetry

import (
	"encoding/json"
)

// The GenAI semantic conventions record messages as JSON following their input/output message schemas: a
// message is {"role", "parts", ["finish_reason"]}, a part is one of the typed shapes below. The schemas are small
// and no Go library publishes them, so they are written out here.

// Part types of the GenAI message schema.
const (
	PartText             = "text"
	PartToolCall         = "tool_call"
	PartToolCallResponse = "tool_call_response"
)

// MessagePart is one part of a GenAI message: text (Content), a tool call (ID, Name, Arguments) or a tool call
// response (ID, Response).
type MessagePart struct {
	Type      string          `json:"type"`
	Content   string          `json:"content,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Response  json.RawMessage `json:"response,omitempty"`
}

// ChatMessage is one GenAI message. FinishReason is set on output messages only.
type ChatMessage struct {
	Role         string        `json:"role"`
	Parts        []MessagePart `json:"parts"`
	FinishReason string        `json:"finish_reason,omitempty"`
}

// MessagesJSON encodes messages for gen_ai.input.messages / gen_ai.output.messages.
func MessagesJSON(msgs []ChatMessage) string {
	return mustJSON(msgs)
}

// PartsJSON encodes parts for gen_ai.system_instructions.
func PartsJSON(parts []MessagePart) string {
	return mustJSON(parts)
}

// mustJSON encodes v. The types above hold only strings and json.RawMessage values that came out of
// encoding/json or were validated as JSON, so encoding cannot fail; if it ever does, the error text is recorded
// instead of content.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return `{"error":"encode GenAI messages failed"}`
	}
	return string(b)
}
