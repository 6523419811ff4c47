package agent

import (
	"encoding/json"
	"strings"
)

// Role is who a message comes from. Tool results travel in user messages, as Bedrock's Converse API wants them.
type Role string

// Roles of a conversation.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Finish reasons, as the GenAI semantic conventions name them.
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCall      = "tool_call"
	FinishContentFilter = "content_filter"
	FinishError         = "error"
)

// ToolCall is the model asking for a tool to run.
type ToolCall struct {
	// ID correlates the call with its result (Bedrock's toolUseId).
	ID   string
	Name string
	// Arguments is the JSON object of arguments.
	Arguments json.RawMessage
}

// ToolResult is a tool's answer to a ToolCall.
type ToolResult struct {
	ID string
	// Content is the JSON result, or {"error": "..."} when IsError.
	Content json.RawMessage
	IsError bool
}

// Reasoning is one block of the model's extended thinking (Converse's reasoningContent). It goes back to the
// model unchanged, in the assistant message it came in, on every later turn of the run: with thinking on, Converse
// refuses a turn after a tool call whose assistant message lost its reasoning, and a changed block fails its
// signature.
type Reasoning struct {
	// Text is the reasoning the model shows; Signature vouches for it (opaque: sent back as received).
	Text, Signature string
	// Redacted is reasoning the provider encrypted for safety (opaque: sent back as received); Text and
	// Signature are then empty.
	Redacted []byte
}

// Part is one piece of a message: exactly one of Text, ToolCall, ToolResult, Reasoning is set.
type Part struct {
	Text string
	// ToolCall is set on assistant messages asking for a tool.
	ToolCall *ToolCall
	// ToolResult is set on user messages answering a ToolCall.
	ToolResult *ToolResult
	// Reasoning is set on assistant messages carrying the model's extended thinking.
	Reasoning *Reasoning
}

// Message is one turn of the conversation.
type Message struct {
	Role  Role
	Parts []Part
}

// Text joins the message's text parts (never its reasoning).
func (m Message) Text() string {
	var b strings.Builder
	for _, p := range m.Parts {
		if p.ToolCall == nil && p.ToolResult == nil && p.Reasoning == nil {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// ToolCalls lists the tool calls the message asks for, in order.
func (m Message) ToolCalls() []ToolCall {
	var out []ToolCall
	for _, p := range m.Parts {
		if p.ToolCall != nil {
			out = append(out, *p.ToolCall)
		}
	}
	return out
}

// ToolSpec describes a tool to the model.
type ToolSpec struct {
	Name, Description string
	// InputSchema is the JSON Schema of the arguments object.
	InputSchema json.RawMessage
}

// Request is one model call.
type Request struct {
	// System is the system prompt ("" for none).
	System string
	// Messages is the conversation so far, starting with the user and alternating roles.
	Messages []Message
	// Tools are offered to the model (none: the model cannot call tools).
	Tools []ToolSpec
	// MaxTokens bounds the answer's length in tokens (0: the provider's default).
	MaxTokens int
	// Temperature and TopP are the sampling settings (nil: the provider's default).
	Temperature, TopP *float64
	// StopSequences end the answer at any of them (none: only the model's own end).
	StopSequences []string
	// ReasoningBudgetTokens turns the model's extended thinking on with this many tokens for it (0: off).
	ReasoningBudgetTokens int
}

// Usage counts tokens. OutputTokens includes reasoning tokens: Converse bills and counts extended thinking as
// output, and reports no separate figure.
type Usage struct {
	InputTokens, OutputTokens int
}

// Add returns the sum of two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{InputTokens: u.InputTokens + o.InputTokens, OutputTokens: u.OutputTokens + o.OutputTokens}
}

// Response is a model's answer.
type Response struct {
	// Message is the assistant's message: text and/or tool calls.
	Message Message
	// FinishReason is one of the Finish constants.
	FinishReason string
	// Usage is what the provider reports for this call.
	Usage Usage
	// ResponseID and ResponseModel are recorded as gen_ai.response.id and gen_ai.response.model when the
	// provider reports them (Bedrock Converse reports neither).
	ResponseID, ResponseModel string
	// RequestID is the provider's request id (AWS x-amzn-RequestId), recorded as aws.request_id when set.
	RequestID string
}
