package agent

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go"

	"github.com/agent-audit/agent-audit/function/awsjson"
	"github.com/agent-audit/agent-audit/internal/awsjsontest"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
)

// TestBedrockModelCallsConverseAsTheSDKClient sends the same Request through BedrockModel on awsjson's Converse
// and through the model as it shipped on the SDK's bedrockruntime client (sdkModel), to the same Bedrock peer, and
// requires the same calls (method, escaped path of the profile ARN, content type, request JSON decoded, a
// Signature V4 for service bedrock that verifies) and the same outcome: the Response, or the error's type, code
// and HTTP status, after as many attempts (the standard retryer's: throttling, 5xx and reset connections are
// retried).
func TestBedrockModelCallsConverseAsTheSDKClient(t *testing.T) {
	user := func(text string) Message { return Message{Role: RoleUser, Parts: []Part{{Text: text}}} }
	thought := bedrocktest.Reasoning{Text: "17 * 23 needs the calculator.", Signature: "EqoBCkgIARABGAIiQL2Zsig"}
	redacted := bedrocktest.Reasoning{Redacted: []byte("\x00encrypted thinking\xff")}
	var tools []ToolSpec
	for _, tool := range DefaultTools() {
		tools = append(tools, tool.Spec())
	}
	temp, topP := 0.3, 0.85
	thinkingRound := []Message{
		user("What is 17 * 23?"),
		{Role: RoleAssistant, Parts: []Part{
			{Reasoning: &Reasoning{Text: thought.Text, Signature: thought.Signature}},
			{Reasoning: &Reasoning{Redacted: redacted.Redacted}},
			{ToolCall: &ToolCall{ID: "tooluse_1", Name: "calculator", Arguments: json.RawMessage(`{"expression":"17 * 23"}`)}},
		}},
		{Role: RoleUser, Parts: []Part{{ToolResult: &ToolResult{ID: "tooluse_1", Content: json.RawMessage(`{"expression":"17 * 23","value":"391"}`)}}}},
	}
	cases := []struct {
		name string
		// handOut are reasoning blocks the peer answers with before the case, so that its request may send them
		// back.
		handOut []bedrocktest.Reasoning
		req     Request
		// replies answer each of the two runs.
		replies []bedrocktest.Reply
	}{
		{name: "a system prompt, tools, and tool results of success and error", req: Request{System: "Be brief.", Messages: conversation, Tools: tools, MaxTokens: 512},
			replies: []bedrocktest.Reply{{Text: "6 * 7 = 42.", InputTokens: 120, OutputTokens: 9}}},
		{name: "the inference settings", req: Request{Messages: []Message{user("Count to ten.")}, MaxTokens: 64, Temperature: &temp, TopP: &topP, StopSequences: []string{"7", "END"}},
			replies: []bedrocktest.Reply{{Text: "1 2 3 4 5 6", StopReason: "stop_sequence"}}},
		{name: "an answer of reasoning, text and tool calls", req: Request{Messages: []Message{user("What is 17 * 23?")}, Tools: tools, MaxTokens: 4096, ReasoningBudgetTokens: 1024},
			replies: []bedrocktest.Reply{{Reasoning: []bedrocktest.Reasoning{thought}, Text: "Let me calculate.", ToolUses: []bedrocktest.ToolUse{
				{ID: "tooluse_1", Name: "calculator", Input: json.RawMessage(`{"expression":"17 * 23"}`)},
				{ID: "tooluse_2", Name: "clock"}}}}},
		{name: "reasoning sent back with its signature and redacted bytes", handOut: []bedrocktest.Reasoning{thought, redacted},
			req:     Request{Messages: thinkingRound, Tools: tools, MaxTokens: 4096, ReasoningBudgetTokens: 2048},
			replies: []bedrocktest.Reply{{Reasoning: []bedrocktest.Reasoning{redacted}, Text: "17 * 23 = 391", StopReason: "max_tokens"}}},
		{name: "throttling is retried to a success", req: Request{Messages: []Message{user("hi")}},
			replies: []bedrocktest.Reply{bedrocktest.Fault("ThrottlingException", "Too many requests, please wait before trying again."), {Text: "hello"}}},
		{name: "a request Bedrock refuses is a ValidationException, not retried",
			req: Request{Messages: []Message{user("hi")}, MaxTokens: 4096, ReasoningBudgetTokens: 1024, Temperature: &temp}},
		{name: "an internal error is retried until the attempts run out", req: Request{Messages: []Message{user("hi")}},
			replies: []bedrocktest.Reply{bedrocktest.Fault("InternalServerException", "boom"), bedrocktest.Fault("InternalServerException", "boom"), bedrocktest.Fault("InternalServerException", "boom")}},
		{name: "a reset connection is retried to a success", req: Request{Messages: []Message{user("hi")}},
			replies: []bedrocktest.Reply{{Reset: true}, {Text: "hello"}}},
		{name: "reset connections are retried until the attempts run out", req: Request{Messages: []Message{user("hi")}},
			replies: []bedrocktest.Reply{{Reset: true}, {Reset: true}, {Reset: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := bedrocktest.New(t, profileARN)
			rec := awsjsontest.NewRecorder(t, srv.URL)
			cfg := awsjsontest.Config(rec.URL)
			ours, err := NewBedrockModel(awsjson.NewBedrockRuntime(cfg, nil), profileARN, "m")
			if err != nil {
				t.Fatal(err)
			}
			if tc.handOut != nil {
				srv.Enqueue(bedrocktest.Reply{Reasoning: tc.handOut, Text: "primed"})
				if _, err := ours.Converse(context.Background(), Request{Messages: []Message{user("prime")}}); err != nil {
					t.Fatal(err)
				}
				rec.Taken()
			}
			run := func(converse func(context.Context, Request) (Response, error)) (converseOutcome, []awsjsontest.Request) {
				srv.Enqueue(tc.replies...)
				before := len(srv.Requests())
				resp, err := converse(context.Background(), tc.req)
				reqs := rec.Taken()
				seen := srv.Requests()[before:]
				o := converseOutcome{Response: normalized(t, resp), ErrorType: ErrorType(err), Attempts: len(reqs)}
				if err == nil && (len(seen) == 0 || resp.RequestID != seen[len(seen)-1].RequestID) {
					t.Fatalf("request ID %q, the server answered %+v", resp.RequestID, seen)
				}
				o.Response.RequestID = ""
				var apiErr smithy.APIError
				if errors.As(err, &apiErr) {
					o.Code = apiErr.ErrorCode()
				}
				var status interface{ HTTPStatusCode() int }
				if errors.As(err, &status) {
					o.Status = status.HTTPStatusCode()
				}
				if id := awsRequestID(err); id != "" {
					o.RequestID = len(seen) > 0 && id == seen[len(seen)-1].RequestID
				}
				return o, reqs
			}
			want, sdkReqs := run((&sdkModel{client: bedrockruntime.NewFromConfig(cfg), profileARN: profileARN}).Converse)
			got, ourReqs := run(ours.Converse)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("on awsjson's Converse: %+v\non the SDK's client:    %+v", got, want)
			}
			if len(ourReqs) != len(sdkReqs) {
				t.Fatalf("%d requests, the SDK client %d", len(ourReqs), len(sdkReqs))
			}
			for i := range ourReqs {
				awsjsontest.SameRequest(t, sdkReqs[i], ourReqs[i])
				awsjsontest.VerifySignature(t, sdkReqs[i], "bedrock")
				awsjsontest.VerifySignature(t, ourReqs[i], "bedrock")
			}
		})
	}
}

// converseOutcome is what a caller of a Converse call sees of it.
type converseOutcome struct {
	// Response is the answer, without its request ID (each run's differs).
	Response Response
	// ErrorType is agent.ErrorType of the error; Code and Status are its AWS error code and HTTP status.
	ErrorType, Code string
	Status          int
	// RequestID is whether the error carries the request ID of the last answer.
	RequestID bool
	// Attempts counts the requests that reached the peer.
	Attempts int
}

// normalized is resp with its tool calls' arguments re-encoded, so that two encodings of the same JSON compare
// equal.
func normalized(t *testing.T, resp Response) Response {
	t.Helper()
	parts := append([]Part(nil), resp.Message.Parts...)
	for i, p := range parts {
		if p.ToolCall != nil {
			c := *p.ToolCall
			var v any
			if err := json.Unmarshal(c.Arguments, &v); err != nil {
				t.Fatalf("tool call %s arguments %s: %v", c.ID, c.Arguments, err)
			}
			c.Arguments, _ = json.Marshal(v)
			parts[i].ToolCall = &c
		}
	}
	resp.Message.Parts = parts
	return resp
}
