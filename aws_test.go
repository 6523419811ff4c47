package agentaudit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/internal/audittest"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
)

const (
	testProfileARN = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/agent"
	testStream     = "agent-audit-dev"
)

// awsEnv points the function, configured only through its environment as in Lambda, at local Bedrock and
// Firehose peers through the standard AWS_ENDPOINT_URL_<SERVICE> variables.
func awsEnv(t *testing.T) (*Function, *bedrocktest.Server, *firehosetest.Server) {
	t.Helper()
	bedrock := bedrocktest.New(t, testProfileARN)
	fh := firehosetest.New(t, testStream)
	env := map[string]string{
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.URL,
		"AWS_ENDPOINT_URL_FIREHOSE":        fh.URL,
		"AWS_REGION":                       "eu-west-1",
		"AWS_ACCESS_KEY_ID":                "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":            "not-a-secret",
		"AWS_CONFIG_FILE":                  "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":      "/dev/null",
		agentenv.InferenceProfileARN:       testProfileARN,
		agentenv.ModelID:                   "claude-haiku-4-5",
		agentenv.FirehoseStream:            testStream,
		agentenv.AgentName:                 "pr-agent",
	}
	cfg := configFromEnv(t, env)
	a, err := New(context.Background(), cfg, WithTools(agent.DefaultTools()...), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return a, bedrock, fh
}

func TestTheFunctionRunsOnBedrockAndShipsToFirehose(t *testing.T) {
	a, bedrock, fh := awsEnv(t)
	bedrock.Enqueue(
		bedrocktest.Reply{ToolUses: []bedrocktest.ToolUse{{ID: "tooluse_a", Name: "clock", Input: []byte(`{"timezone":"Europe/Dublin"}`)}}},
		bedrocktest.Reply{Text: "It is late."},
	)
	// Firehose throttles the first attempt; the trace still arrives, once.
	fh.Inject(firehosetest.Fault{Status: 503, Code: "ServiceUnavailableException"})

	resp, err := invoke(t, a, `{"prompt":"What time is it in Dublin?"}`)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if resp.Output != "It is late." {
		t.Fatalf("response %+v", resp)
	}
	spans := audittest.Decode(t, fh.Records(testStream))
	if got := audittest.ByTrace(spans); len(got) != 1 || len(got[resp.TraceID]) != 4 {
		t.Fatalf("Firehose holds %v", names(spans))
	}
	if n := len(audittest.Named(spans, "chat claude-haiku-4-5")); n != 2 {
		t.Fatalf("%d chat spans", n)
	}
	if fh.Calls() != 2 {
		t.Fatalf("%d Firehose calls, want the throttled one and its retry", fh.Calls())
	}
	if reqs := bedrock.Requests(); len(reqs) != 2 || reqs[0].ModelID != testProfileARN {
		t.Fatalf("Bedrock saw %+v", reqs)
	}
}

func TestAFailedRunReturnsItsErrorOnlyAfterItsTraceIsDelivered(t *testing.T) {
	a, bedrock, fh := awsEnv(t)
	// The SDK's standard retryer tries a 503 three times before the agent sees it.
	unavailable := bedrocktest.Reply{ErrCode: "ServiceUnavailableException", ErrStatus: 503, ErrMessage: "Bedrock is unable to process your request."}
	bedrock.Enqueue(unavailable, unavailable, unavailable)
	_, err := invoke(t, a, `{"prompt":"hi"}`)
	var ie *handler.InvocationError
	if !errors.As(err, &ie) || ie.Kind != handler.KindAgentRun || ie.Type != "ServiceUnavailableException" {
		t.Fatalf("error %v", err)
	}
	if n := len(bedrock.Requests()); n != 3 {
		t.Fatalf("%d Bedrock attempts, want 3", n)
	}
	spans := audittest.ByTrace(audittest.Decode(t, fh.Records(testStream)))[ie.TraceID]
	if len(spans) != 2 {
		t.Fatalf("ERROR trace in Firehose has %d spans, want invoke_agent and chat", len(spans))
	}
	for _, s := range spans {
		if s.Attrs["error.type"] != "ServiceUnavailableException" || len(s.Events) == 0 || s.Events[0].Name != "exception" {
			t.Fatalf("%s: attrs %v events %v", s.Name, s.Attrs, s.Events)
		}
	}
}

func TestAnUndeliverableTraceFailsTheInvocation(t *testing.T) {
	a, bedrock, fh := awsEnv(t)
	bedrock.Enqueue(bedrocktest.Reply{Text: "hello"})
	fh.Inject(firehosetest.Fault{Status: 400, Code: "InvalidKMSResourceException"})
	_, err := invoke(t, a, `{}`)
	var ie *handler.InvocationError
	if !errors.As(err, &ie) || ie.Kind != handler.KindAuditDelivery || !strings.Contains(err.Error(), "InvalidKMSResourceException") {
		t.Fatalf("error %v, want an audit_delivery failure naming the Firehose error", err)
	}
}

func TestARunCutByTheDeadlineStillShipsItsTrace(t *testing.T) {
	a, bedrock, fh := awsEnv(t)
	// The model answers after the invocation's deadline; the handler stops the run at deadline − reserve and
	// uses the reserve to deliver the ERROR trace.
	bedrock.Enqueue(bedrocktest.Reply{Text: "too late", Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := a.Handler.Handle(ctx, []byte(`{"prompt":"hi"}`))
	var ie *handler.InvocationError
	if !errors.As(err, &ie) || ie.Kind != handler.KindAgentRun || ie.Type != "timeout" {
		t.Fatalf("error %v, want an agent_run timeout", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the handler returned after the invocation's deadline")
	}
	spans := audittest.ByTrace(audittest.Decode(t, fh.Records(testStream)))[ie.TraceID]
	if len(spans) != 2 {
		t.Fatalf("ERROR trace has %d spans in Firehose, want invoke_agent and chat", len(spans))
	}
	for _, s := range spans {
		if s.Attrs["error.type"] != "timeout" {
			t.Fatalf("%s: error.type %v", s.Name, s.Attrs["error.type"])
		}
	}
}
