// Package bedrocktest is a local Amazon Bedrock Runtime for tests: an httptest server speaking the Converse
// operation's restJson1 wire protocol (POST /model/{modelId}/converse), validating conversations the way Bedrock
// does, answering with scripted replies and Bedrock's error shapes. Tests talk to it with the real aws-sdk-go-v2
// client (Client).
package bedrocktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
)

// ToolUse is a tool call in a scripted reply.
type ToolUse struct {
	ID, Name string
	Input    json.RawMessage
}

// Reply is one scripted answer. With ErrCode set the call fails with that code and ErrStatus (default 400).
type Reply struct {
	Text       string
	ToolUses   []ToolUse
	StopReason string // default: tool_use when ToolUses, else end_turn
	Usage      [2]int // input, output tokens; default 10, 5
	ErrCode    string
	ErrStatus  int
	ErrMessage string
	Delay      time.Duration
}

// Request is a Converse request as the server received it.
type Request struct {
	ModelID string
	Body    ConverseBody
}

// ConverseBody is the subset of the Converse request body the server reads.
type ConverseBody struct {
	Messages []struct {
		Role    string           `json:"role"`
		Content []map[string]any `json:"content"`
	} `json:"messages"`
	System          []map[string]any `json:"system"`
	ToolConfig      *json.RawMessage `json:"toolConfig"`
	InferenceConfig *json.RawMessage `json:"inferenceConfig"`
}

// Server is the fake Bedrock Runtime. Safe for concurrent use.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	models   map[string]bool
	replies  []Reply
	requests []Request
}

// New starts a server that knows the given model ids (inference profile ARNs) and stops it when the test ends.
func New(t testing.TB, modelIDs ...string) *Server {
	s := &Server{models: map[string]bool{}}
	for _, id := range modelIDs {
		s.models[id] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Client returns a real Bedrock Runtime client pointed at the server, with the SDK's retries off.
func (s *Server) Client() *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-a-secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       s.Server.Client(),
	})
}

// Enqueue adds replies, used one per call in order. A call with none left fails with a 500 naming the problem.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, replies...)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	escaped := r.URL.EscapedPath()
	if r.Method != http.MethodPost || !strings.HasPrefix(escaped, "/model/") || !strings.HasSuffix(escaped, "/converse") {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+r.Method+" "+escaped)
		return
	}
	modelID, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(escaped, "/model/"), "/converse"))
	if err != nil || strings.Contains(strings.TrimSuffix(strings.TrimPrefix(escaped, "/model/"), "/converse"), "/") {
		writeError(w, http.StatusBadRequest, "ValidationException", "model id is not a single path segment")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeError(w, http.StatusForbidden, "AccessDeniedException", "request is not signed")
		return
	}
	var body ConverseBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "ValidationException", "malformed request body")
		return
	}

	s.mu.Lock()
	s.requests = append(s.requests, Request{ModelID: modelID, Body: body})
	known := s.models[modelID]
	var reply Reply
	haveReply := len(s.replies) > 0
	if known && haveReply {
		reply, s.replies = s.replies[0], s.replies[1:]
	}
	s.mu.Unlock()

	switch {
	case !known:
		writeError(w, http.StatusNotFound, "ResourceNotFoundException", "The provided model identifier is invalid.")
		return
	case validate(body) != "":
		writeError(w, http.StatusBadRequest, "ValidationException", validate(body))
		return
	case !haveReply:
		writeError(w, http.StatusInternalServerError, "InternalServerException", "bedrocktest: no scripted reply left")
		return
	}
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if reply.ErrCode != "" {
		status := reply.ErrStatus
		if status == 0 {
			status = http.StatusBadRequest
		}
		writeError(w, status, reply.ErrCode, reply.ErrMessage)
		return
	}
	writeReply(w, reply)
}

// validate applies Bedrock's conversation rules: roles alternate starting with the user, and every toolResult
// answers a toolUse of the assistant turn just before it.
func validate(body ConverseBody) string {
	if len(body.Messages) == 0 {
		return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
	}
	var lastToolUses map[string]bool
	for i, m := range body.Messages {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if m.Role != want {
			return fmt.Sprintf("A conversation must alternate between user and assistant roles. Message %d has role %q.", i, m.Role)
		}
		uses := map[string]bool{}
		for _, block := range m.Content {
			if tu, ok := block["toolUse"].(map[string]any); ok {
				id, _ := tu["toolUseId"].(string)
				uses[id] = true
			}
			if tr, ok := block["toolResult"].(map[string]any); ok {
				id, _ := tr["toolUseId"].(string)
				if !lastToolUses[id] {
					return fmt.Sprintf("The toolResult blocks at messages.%d.content contain a toolUseId %q with no corresponding toolUse in the previous turn.", i, id)
				}
			}
		}
		lastToolUses = uses
	}
	return ""
}

func writeReply(w http.ResponseWriter, r Reply) {
	var content []map[string]any
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
	in, out := r.Usage[0], r.Usage[1]
	if in == 0 && out == 0 {
		in, out = 10, 5
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", "00000000-0000-0000-0000-000000000000")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": stop,
		"usage":      map[string]int{"inputTokens": in, "outputTokens": out, "totalTokens": in + out},
		"metrics":    map[string]int{"latencyMs": 42},
	})
}

// writeError answers in restJson1's error shape, as Bedrock does: the code in X-Amzn-ErrorType (with Bedrock's
// namespace suffix, which clients strip) and the message in the body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}
