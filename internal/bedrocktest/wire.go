package bedrocktest

import (
	"encoding/json"
	"net/http"
	"time"
)

// ConverseBody is the part of the Converse request body the server reads. Content blocks stay generic maps so a
// test can look at any member ({"text"}, {"toolUse"}, {"toolResult"}, ...).
type ConverseBody struct {
	Messages        []Message        `json:"messages"`
	System          []map[string]any `json:"system"`
	ToolConfig      *ToolConfig      `json:"toolConfig"`
	InferenceConfig *InferenceConfig `json:"inferenceConfig"`
	// AdditionalModelRequestFields are model-specific settings, as sent (Claude's thinking, for example).
	AdditionalModelRequestFields json.RawMessage `json:"additionalModelRequestFields"`
}

// Message is one message of a Converse request.
type Message struct {
	Role    string           `json:"role"`
	Content []map[string]any `json:"content"`
}

// ToolConfig is the request's tool configuration.
type ToolConfig struct {
	Tools []struct {
		ToolSpec *ToolSpec `json:"toolSpec"`
	} `json:"tools"`
}

// ToolSpec is one tool offered to the model; InputSchema.JSON is the JSON Schema as sent.
type ToolSpec struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	InputSchema struct {
		JSON json.RawMessage `json:"json"`
	} `json:"inputSchema"`
}

// InferenceConfig is the request's inference configuration.
type InferenceConfig struct {
	MaxTokens     *int     `json:"maxTokens"`
	Temperature   *float64 `json:"temperature"`
	TopP          *float64 `json:"topP"`
	StopSequences []string `json:"stopSequences"`
}

// ToolUse is a tool call in a scripted reply.
type ToolUse struct {
	ID, Name string
	// Input is the arguments object; empty means {}.
	Input json.RawMessage
}

// Reply is one scripted answer: an assistant message (Reasoning, Text and/or ToolUses, in that order) or, with
// ErrCode set, a fault.
type Reply struct {
	// Reasoning leads the message with extended-thinking blocks. The server remembers them: a request that sends
	// one back changed fails with ValidationException, as Bedrock checks the signature.
	Reasoning []Reasoning
	Text      string
	ToolUses  []ToolUse
	// StopReason defaults to tool_use when ToolUses is set, else end_turn.
	StopReason string
	// InputTokens and OutputTokens are the usage reported; both zero means 10 and 5.
	InputTokens, OutputTokens int

	// ErrCode makes the call fail with that error code (ThrottlingException, ValidationException, ...).
	ErrCode string
	// ErrStatus is the HTTP status of the fault; zero means Bedrock's status for ErrCode (see StatusFor).
	ErrStatus int
	// ErrMessage is the fault's message.
	ErrMessage string

	// Reset answers with no answer: the connection is reset (TCP RST), as a load balancer's failure does.
	Reset bool

	// Delay holds the answer back (for timeouts); a client that gives up ends the wait.
	Delay time.Duration
}

// Fault returns a reply failing with code and message at Bedrock's HTTP status for code.
func Fault(code, message string) Reply {
	return Reply{ErrCode: code, ErrMessage: message}
}

// StatusFor is the HTTP status Bedrock Runtime answers an error code with; 400 for codes it does not list.
func StatusFor(code string) int {
	switch code {
	case "AccessDeniedException", "MissingAuthenticationTokenException":
		return http.StatusForbidden
	case "ResourceNotFoundException", "UnknownOperationException":
		return http.StatusNotFound
	case "ModelTimeoutException":
		return http.StatusRequestTimeout
	case "ModelErrorException":
		return http.StatusFailedDependency
	case "ThrottlingException", "ModelNotReadyException":
		return http.StatusTooManyRequests
	case "InternalServerException":
		return http.StatusInternalServerError
	case "ServiceUnavailableException":
		return http.StatusServiceUnavailable
	default: // ValidationException, ServiceQuotaExceededException, SerializationException, ...
		return http.StatusBadRequest
	}
}

// Wire shapes of the Converse response.
type (
	converseResponse struct {
		Output     converseOutput `json:"output"`
		StopReason string         `json:"stopReason"`
		Usage      tokenUsage     `json:"usage"`
		Metrics    metrics        `json:"metrics"`
	}
	converseOutput struct {
		Message Message `json:"message"`
	}
	tokenUsage struct {
		InputTokens  int `json:"inputTokens"`
		OutputTokens int `json:"outputTokens"`
		TotalTokens  int `json:"totalTokens"`
	}
	metrics struct {
		LatencyMs int `json:"latencyMs"`
	}
)

// replyLatencyMs is the latency every reply reports, in milliseconds.
const replyLatencyMs = 42

func writeReply(w http.ResponseWriter, requestID string, r Reply) {
	content := []map[string]any{}
	for _, rb := range r.Reasoning {
		content = append(content, rb.wire())
	}
	if r.Text != "" {
		content = append(content, map[string]any{"text": r.Text})
	}
	for _, tu := range r.ToolUses {
		input := tu.Input
		if len(input) == 0 {
			input = json.RawMessage("{}")
		}
		content = append(content, map[string]any{"toolUse": map[string]any{"toolUseId": tu.ID, "name": tu.Name, "input": input}})
	}
	stop := r.StopReason
	if stop == "" {
		stop = "end_turn"
		if len(r.ToolUses) > 0 {
			stop = "tool_use"
		}
	}
	in, out := r.InputTokens, r.OutputTokens
	if in == 0 && out == 0 {
		in, out = 10, 5
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", requestID)
	_ = json.NewEncoder(w).Encode(converseResponse{
		Output:     converseOutput{Message: Message{Role: "assistant", Content: content}},
		StopReason: stop,
		Usage:      tokenUsage{InputTokens: in, OutputTokens: out, TotalTokens: in + out},
		Metrics:    metrics{LatencyMs: replyLatencyMs},
	})
}

// writeError answers in restJson1's error shape, as Bedrock does: the code in X-Amzn-ErrorType with Bedrock's
// namespace suffix (the SDK strips it) and the message in the body. status 0 means StatusFor(code).
func writeError(w http.ResponseWriter, requestID string, status int, code, message string) {
	if status == 0 {
		status = StatusFor(code)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	if requestID != "" {
		w.Header().Set("X-Amzn-Requestid", requestID)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}
