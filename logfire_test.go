package agentaudit

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/internal/audittest"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
	"github.com/agent-audit/agent-audit/internal/otlptest"
	"github.com/agent-audit/agent-audit/internal/ssmtest"

	"github.com/agent-audit/agent-audit/function/agent"
)

const logfireToken = "pylf_v1_eu_APPTESTTOKEN-never-in-logs-0123456789"

// liveViewEnv configures the function as Lambda would, with or without a Logfire token parameter.
func liveViewEnv(t *testing.T, wired bool) (*Function, *firehosetest.Server, *ssmtest.Server, *otlptest.Receiver, *bytes.Buffer) {
	t.Helper()
	bedrock := bedrocktest.New(t, testProfileARN)
	bedrock.Enqueue(bedrocktest.Reply{Text: "hello"})
	fh := firehosetest.New(t, testStream)
	params := ssmtest.New(t, map[string]string{"/agent-audit-dev/logfire-token": logfireToken})
	receiver := otlptest.New(t)
	env := map[string]string{
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.URL, "AWS_ENDPOINT_URL_FIREHOSE": fh.URL, "AWS_ENDPOINT_URL_SSM": params.URL,
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-secret",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		agentenv.InferenceProfileARN: testProfileARN, agentenv.ModelID: "claude-haiku-4-5", agentenv.FirehoseStream: testStream,
		agentenv.LogfireBaseURL: receiver.URL,
	}
	if wired {
		env[agentenv.LogfireTokenParameter] = "/agent-audit-dev/logfire-token"
	}
	cfg := configFromEnv(t, env)
	logs := &bytes.Buffer{}
	a, err := New(context.Background(), cfg, WithTools(agent.DefaultTools()...), WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return a, fh, params, receiver, logs
}

func TestTheLiveViewGetsTheTraceTheAuditCopyGets(t *testing.T) {
	a, fh, params, receiver, logs := liveViewEnv(t, true)
	resp, err := invoke(t, a, `{"prompt":"hi"}`)
	if err != nil {
		t.Fatal(err)
	}
	audited := audittest.ByTrace(audittest.Decode(t, fh.Records(testStream)))[resp.TraceID]
	var live int
	for _, td := range receiver.Traces() {
		live += td.SpanCount()
	}
	if len(audited) != 2 || live != 2 {
		t.Fatalf("audit copy %d spans, Logfire %d; want the same 2", len(audited), live)
	}
	if n, decrypted := params.Calls(); n != 1 || !decrypted[0] {
		t.Fatalf("SSM: %d calls, decryption %v", n, decrypted)
	}
	if h := receiver.Headers(); h[0].Get("Authorization") != logfireToken {
		t.Fatal("the export is not authorised with the token")
	}
	if strings.Contains(logs.String(), logfireToken) {
		t.Fatal("the token reached the function's logs")
	}
	for _, r := range fh.Records(testStream) {
		if strings.Contains(string(r), logfireToken) {
			t.Fatal("the token reached an audit record")
		}
	}
}

func TestWithoutATokenParameterThereIsNoLiveView(t *testing.T) {
	a, fh, params, receiver, _ := liveViewEnv(t, false)
	if _, err := invoke(t, a, `{"prompt":"hi"}`); err != nil {
		t.Fatal(err)
	}
	if n, _ := params.Calls(); n != 0 || len(receiver.Headers()) != 0 || len(fh.Records(testStream)) != 1 {
		t.Fatalf("SSM calls %d, Logfire requests %d, audit records %d", n, len(receiver.Headers()), len(fh.Records(testStream)))
	}
}

func TestAFailedTokenFetchLeavesTheRunAudited(t *testing.T) {
	a, fh, params, receiver, logs := liveViewEnv(t, true)
	// The SSM client keeps the SDK's standard retries (three attempts within the fetch timeout): all fail.
	params.FailNext("InternalServerError", "InternalServerError", "InternalServerError")
	if _, err := invoke(t, a, `{"prompt":"hi"}`); err != nil {
		t.Fatalf("the run failed because Logfire's token could not be read: %v", err)
	}
	if len(fh.Records(testStream)) != 1 || len(receiver.Headers()) != 0 || !strings.Contains(logs.String(), "Logfire live view unavailable") {
		t.Fatalf("audit records %d, Logfire requests %d, logs %s", len(fh.Records(testStream)), len(receiver.Headers()), logs.String())
	}
}
