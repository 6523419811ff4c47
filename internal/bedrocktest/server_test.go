package bedrocktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
)

const profileARN = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123"

func userText(text string) types.Message {
	return types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: text}}}
}

func hello() *bedrockruntime.ConverseInput {
	return &bedrockruntime.ConverseInput{ModelId: aws.String(profileARN), Messages: []types.Message{userText("hello")}}
}

func TestFaultsDecodeIntoTheSDKsTypedErrors(t *testing.T) {
	tests := []struct {
		name       string
		code       string
		wantStatus int
		wantType   any
	}{
		{"throttling is a 429 ThrottlingException", "ThrottlingException", 429, new(*types.ThrottlingException)},
		{"a bad request is a 400 ValidationException", "ValidationException", 400, new(*types.ValidationException)},
		{"an outage is a 503 ServiceUnavailableException", "ServiceUnavailableException", 503, new(*types.ServiceUnavailableException)},
		{"a slow model is a 408 ModelTimeoutException", "ModelTimeoutException", 408, new(*types.ModelTimeoutException)},
		{"a missing permission is a 403 AccessDeniedException", "AccessDeniedException", 403, new(*types.AccessDeniedException)},
		{"a server fault is a 500 InternalServerException", "InternalServerException", 500, new(*types.InternalServerException)},
		{"a model failure is a 424 ModelErrorException", "ModelErrorException", 424, new(*types.ModelErrorException)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := New(t, profileARN)
			srv.Enqueue(Fault(tt.code, "message for "+tt.code))
			_, err := srv.SDKClient().Converse(context.Background(), hello())
			if !errors.As(err, tt.wantType) {
				t.Fatalf("error %v (%T) is not a %T", err, err, tt.wantType)
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code || apiErr.ErrorMessage() != "message for "+tt.code {
				t.Fatalf("API error %v, want code %s with the body's message", apiErr, tt.code)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != tt.wantStatus || respErr.ServiceRequestID() == "" {
				t.Fatalf("response error %v, want status %d and a request id", respErr, tt.wantStatus)
			}
		})
	}
	t.Run("an unknown model id is a 404 ResourceNotFoundException", func(t *testing.T) {
		srv := New(t, profileARN)
		in := hello()
		in.ModelId = aws.String(profileARN + "-gone")
		_, err := srv.SDKClient().Converse(context.Background(), in)
		var nf *types.ResourceNotFoundException
		var respErr *awshttp.ResponseError
		if !errors.As(err, &nf) || !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusNotFound {
			t.Fatalf("error %v, want a 404 ResourceNotFoundException", err)
		}
	})
	t.Run("an explicit status overrides Bedrock's", func(t *testing.T) {
		srv := New(t, profileARN)
		srv.Enqueue(Reply{ErrCode: "ThrottlingException", ErrStatus: 400})
		_, err := srv.SDKClient().Converse(context.Background(), hello())
		var respErr *awshttp.ResponseError
		var th *types.ThrottlingException
		if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != 400 || !errors.As(err, &th) {
			t.Fatalf("error %v", err)
		}
	})
}

func TestRepliesDecodeInTheSDK(t *testing.T) {
	srv := New(t, profileARN)
	srv.Enqueue(Reply{
		Text:        "Let me check.",
		ToolUses:    []ToolUse{{ID: "tooluse_1", Name: "clock", Input: json.RawMessage(`{"timezone":"Asia/Tokyo"}`)}},
		InputTokens: 120, OutputTokens: 30,
	})
	out, err := srv.SDKClient().Converse(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok || msg.Value.Role != types.ConversationRoleAssistant || len(msg.Value.Content) != 2 {
		t.Fatalf("output %#v", out.Output)
	}
	if text, ok := msg.Value.Content[0].(*types.ContentBlockMemberText); !ok || text.Value != "Let me check." {
		t.Fatalf("first block %#v", msg.Value.Content[0])
	}
	use, ok := msg.Value.Content[1].(*types.ContentBlockMemberToolUse)
	if !ok || aws.ToString(use.Value.ToolUseId) != "tooluse_1" || aws.ToString(use.Value.Name) != "clock" {
		t.Fatalf("second block %#v", msg.Value.Content[1])
	}
	args, err := use.Value.Input.MarshalSmithyDocument()
	if err != nil || string(args) != `{"timezone":"Asia/Tokyo"}` {
		t.Fatalf("tool input %s %v", args, err)
	}
	if out.StopReason != types.StopReasonToolUse {
		t.Errorf("stop reason %q, want tool_use by default for a tool call", out.StopReason)
	}
	if aws.ToInt32(out.Usage.InputTokens) != 120 || aws.ToInt32(out.Usage.OutputTokens) != 30 || aws.ToInt32(out.Usage.TotalTokens) != 150 {
		t.Errorf("usage %+v", out.Usage)
	}
	if out.Metrics == nil || aws.ToInt64(out.Metrics.LatencyMs) != replyLatencyMs {
		t.Errorf("metrics %+v", out.Metrics)
	}
	id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if reqs := srv.Requests(); !ok || len(reqs) != 1 || id != reqs[0].RequestID {
		t.Errorf("request id %q, recorded %+v", id, reqs)
	}
}

func TestTheModelIDIsOnePercentEncodedPathSegment(t *testing.T) {
	srv := New(t, profileARN)
	srv.Enqueue(Reply{Text: "hi"})
	if _, err := srv.SDKClient().Converse(context.Background(), hello()); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests()[0].ModelID; got != profileARN {
		t.Fatalf("model id %q, want the ARN unescaped", got)
	}

	// A raw slash splits the ARN into two segments: that is no Converse route.
	resp, err := srv.Server.Client().Post(srv.URL+"/model/"+profileARN+"/converse", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("X-Amzn-ErrorType"), "UnknownOperationException:") {
		t.Fatalf("unescaped ARN: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

func TestUnsignedRequestsAreRefused(t *testing.T) {
	srv := New(t, profileARN)
	srv.Enqueue(Reply{Text: "hi"})
	resp, err := srv.Server.Client().Post(srv.URL+"/model/m/converse", "application/json", strings.NewReader(`{"messages":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(srv.Requests()) != 0 {
		t.Fatalf("status %d, %d requests recorded", resp.StatusCode, len(srv.Requests()))
	}
}

func TestConversationsAreValidatedLikeBedrock(t *testing.T) {
	toolUse := func(id string) types.ContentBlock {
		return &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{ToolUseId: aws.String(id), Name: aws.String("clock"), Input: document.NewLazyDocument(map[string]any{})}}
	}
	toolResult := func(id string) types.ContentBlock {
		return &types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{ToolUseId: aws.String(id), Content: []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: "12:00"}}}}
	}
	assistant := func(blocks ...types.ContentBlock) types.Message {
		return types.Message{Role: types.ConversationRoleAssistant, Content: blocks}
	}
	user := func(blocks ...types.ContentBlock) types.Message {
		return types.Message{Role: types.ConversationRoleUser, Content: blocks}
	}
	tools := &types.ToolConfiguration{Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
		Name: aws.String("clock"), InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{"type": "object"})},
	}}}}
	tests := []struct {
		name     string
		messages []types.Message
		tools    *types.ToolConfiguration
		maxTok   *int32
		wantErr  string // "" for a valid request
	}{
		{"a tool round trip is valid", []types.Message{userText("time?"), assistant(toolUse("t1")), user(toolResult("t1"))}, tools, nil, ""},
		{"a conversation must start with the user", []types.Message{assistant(&types.ContentBlockMemberText{Value: "hi"})}, nil, nil, "must start with a user message"},
		{"roles must alternate", []types.Message{userText("a"), userText("b")}, nil, nil, "must alternate between user and assistant"},
		{"a tool result must answer a tool use of the previous turn", []types.Message{userText("time?"), assistant(toolUse("t1")), user(toolResult("t2"))}, tools, nil, "toolUseId t2 with no corresponding toolUse"},
		{"every tool use must be answered", []types.Message{userText("time?"), assistant(toolUse("t1"), toolUse("t2")), user(toolResult("t1"))}, tools, nil, "Expected toolResult blocks at messages.2.content for the following Ids: t2"},
		{"tool blocks need a tool configuration", []types.Message{userText("time?"), assistant(toolUse("t1")), user(toolResult("t1"))}, nil, nil, "toolConfig field must be defined"},
		{"text must not be blank", []types.Message{userText("  ")}, nil, nil, "messages.0.content.0 is blank"},
		{"a message must have content", []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{}}}, nil, nil, "messages.0 is empty"},
		{"maxTokens must be positive", []types.Message{userText("a")}, nil, aws.Int32(0), "inferenceConfig.maxTokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := New(t, profileARN)
			srv.Enqueue(Reply{Text: "ok"})
			in := &bedrockruntime.ConverseInput{ModelId: aws.String(profileARN), Messages: tt.messages, ToolConfig: tt.tools}
			if tt.maxTok != nil {
				in.InferenceConfig = &types.InferenceConfiguration{MaxTokens: tt.maxTok}
			}
			_, err := srv.SDKClient().Converse(context.Background(), in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("valid request refused: %v", err)
				}
				return
			}
			var ve *types.ValidationException
			if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), tt.wantErr) {
				t.Fatalf("error %v, want a ValidationException containing %q", err, tt.wantErr)
			}
			if len(srv.Requests()) != 1 {
				t.Fatalf("the refused request was not recorded")
			}
		})
	}
}

func TestConcurrentCallsAreAnsweredAndRecorded(t *testing.T) {
	const calls = 16
	srv := New(t, profileARN)
	srv.Respond(func(r Request) Reply {
		return Reply{Text: "echo " + r.Body.Messages[0].Content[0]["text"].(string)}
	})
	client := srv.SDKClient()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Go(func() {
			in := hello()
			in.Messages = []types.Message{userText(fmt.Sprint("call ", i))}
			out, err := client.Converse(context.Background(), in)
			if err != nil {
				errs <- err
				return
			}
			text := out.Output.(*types.ConverseOutputMemberMessage).Value.Content[0].(*types.ContentBlockMemberText).Value
			if text != fmt.Sprint("echo call ", i) {
				errs <- fmt.Errorf("call %d answered %q", i, text)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ids := map[string]bool{}
	for _, r := range srv.Requests() {
		ids[r.RequestID] = true
	}
	if len(ids) != calls {
		t.Fatalf("%d distinct recorded requests, want %d", len(ids), calls)
	}
}

func TestADelayedReplyLetsTheClientTimeOut(t *testing.T) {
	srv := New(t, profileARN)
	srv.Enqueue(Reply{Text: "late", Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := srv.SDKClient().Converse(ctx, hello())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context deadline", err)
	}
}

func TestAnEmptyScriptFailsLoudly(t *testing.T) {
	srv := New(t, profileARN)
	_, err := srv.SDKClient().Converse(context.Background(), hello())
	var ise *types.InternalServerException
	if !errors.As(err, &ise) || !strings.Contains(ise.ErrorMessage(), "no scripted reply") {
		t.Fatalf("error %v", err)
	}
}
