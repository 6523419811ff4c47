package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/internal/audittest"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
	"github.com/agent-audit/agent-audit/internal/kmstest"
	"github.com/agent-audit/agent-audit/internal/lambdatest"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify"
	"github.com/agent-audit/agent-audit/trail/verify/verifytest"
)

// ticketAgent is the example ticket agent's real bootstrap, built as shipped, under the emulator, configured as
// the example's Pulumi program configures it (Bedrock, Firehose, a KMS signing key; the agent's name from its
// code), against the peers.
type ticketAgent struct {
	fn       *lambdatest.Function
	bedrock  *bedrocktest.Server
	firehose *firehosetest.Server
	keys     *kmstest.Server
}

func startTicketAgent(t *testing.T, bootstrap string, capture bool) ticketAgent {
	t.Helper()
	a := ticketAgent{bedrock: bedrocktest.New(t, profileARN), firehose: firehosetest.New(t, stream), keys: kmstest.New(t)}
	a.fn = lambdatest.Start(t, lambdatest.Options{Bootstrap: bootstrap, Env: map[string]string{
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": a.bedrock.URL,
		"AWS_ENDPOINT_URL_FIREHOSE":        a.firehose.URL,
		"AWS_ENDPOINT_URL_KMS":             a.keys.URL,
		agentenv.Model:                     agentenv.ModelBedrock,
		agentenv.InferenceProfileARN:       profileARN,
		agentenv.ModelID:                   modelID,
		agentenv.FirehoseStream:            stream,
		agentenv.SigningKeyID:              a.keys.KeyARN,
		agentenv.CaptureContent:            map[bool]string{true: "true", false: "false"}[capture],
	}})
	return a
}

// run asks the agent once, the model calling tool with args and then answering answer; it returns the response
// and the spans of the run's trace, checking that they came in exactly one record.
func (a ticketAgent) run(t *testing.T, tool, args, answer string) (runResponse, map[string]audittest.Span) {
	t.Helper()
	a.bedrock.Enqueue(
		bedrocktest.Reply{ToolUses: []bedrocktest.ToolUse{{ID: "tooluse_1", Name: tool, Input: json.RawMessage(args)}}},
		bedrocktest.Reply{Text: answer},
	)
	out := okResponse(t, a.fn.Invoke(t, []byte(`{"prompt":"What is the state of my ticket?"}`)))
	if out.Output != answer {
		t.Fatalf("answer %q, want %q", out.Output, answer)
	}
	spans := map[string]audittest.Span{}
	records := map[int]bool{}
	for _, sp := range audittest.Decode(t, a.firehose.Records(stream)) {
		if sp.TraceID == out.TraceID {
			spans[sp.Name] = sp
			records[sp.Record] = true
		}
	}
	if len(records) != 1 {
		t.Fatalf("the run's spans are in %d records, want one", len(records))
	}
	for _, name := range []string{"invoke_agent ticket-agent", "chat " + modelID, "execute_tool " + tool} {
		if _, ok := spans[name]; !ok {
			t.Fatalf("the record lacks %q: %v", name, spans)
		}
	}
	return out, spans
}

func TestTheTicketAgentExampleIsAudited(t *testing.T) {
	bootstrap := lambdatest.BuildPackage(t, "./examples/ticket-agent/function")

	t.Run("content capture on", func(t *testing.T) {
		a := startTicketAgent(t, bootstrap, true)

		t.Run("a lookup_ticket run is one record with its arguments and result", func(t *testing.T) {
			_, spans := a.run(t, "lookup_ticket", `{"id":"T-1001"}`, "T-1001 (Invoice PDF is blank) is open, high priority.")
			tool := spans["execute_tool lookup_ticket"]
			if args, _ := tool.Attrs["gen_ai.tool.call.arguments"].(string); !strings.Contains(args, "T-1001") {
				t.Errorf("arguments %q", args)
			}
			if res, _ := tool.Attrs["gen_ai.tool.call.result"].(string); !strings.Contains(res, "Invoice PDF is blank") {
				t.Errorf("result %q", res)
			}
			if tool.StatusCode == ptrace.StatusCodeError || tool.Attrs["gen_ai.tool.name"] != "lookup_ticket" {
				t.Errorf("tool span %+v", tool)
			}
		})

		t.Run("a tool that returns an error is audited as failed, and the run answers", func(t *testing.T) {
			_, spans := a.run(t, "lookup_ticket", `{"id":"T-9999"}`, "There is no ticket T-9999.")
			tool := spans["execute_tool lookup_ticket"]
			if tool.StatusCode != ptrace.StatusCodeError || tool.Attrs["error.type"] != "tool_error" {
				t.Errorf("status %v error.type %v", tool.StatusCode, tool.Attrs["error.type"])
			}
			if res, _ := tool.Attrs["gen_ai.tool.call.result"].(string); !strings.Contains(res, `no ticket \"T-9999\"`) {
				t.Errorf("the model was not told why: result %q", res)
			}
			if spans["invoke_agent ticket-agent"].StatusCode == ptrace.StatusCodeError {
				t.Error("a tool error failed the run")
			}
		})

		t.Run("a tool that panics is audited as such, and the run answers", func(t *testing.T) {
			_, spans := a.run(t, "sla_status", `{"id":"T-1003"}`, "I could not read the SLA of T-1003.")
			tool := spans["execute_tool sla_status"]
			if tool.StatusCode != ptrace.StatusCodeError || tool.Attrs["error.type"] != "tool_panic" {
				t.Errorf("status %v error.type %v", tool.StatusCode, tool.Attrs["error.type"])
			}
			last := a.bedrock.Requests()[len(a.bedrock.Requests())-1].Body.Messages
			result, _ := json.Marshal(last[len(last)-1].Content)
			if !strings.Contains(string(result), `"status":"error"`) || strings.Contains(string(result), "nil pointer") {
				t.Errorf("the model got %s, want an error result that does not spill the panic", result)
			}
		})

		t.Run("the records verify as audit verify checks them", func(t *testing.T) {
			rep := verifyRecords(t, a.firehose.Records(stream), a.keys.PublicKey())
			if !rep.Verified || rep.Records.Valid != 3 {
				t.Fatalf("verify: verified %v, %+v records, findings %+v", rep.Verified, rep.Records, rep.Findings)
			}
		})
	})

	t.Run("content capture off: no arguments, no result", func(t *testing.T) {
		a := startTicketAgent(t, bootstrap, false)
		_, spans := a.run(t, "lookup_ticket", `{"id":"T-1001"}`, "T-1001 is open.")
		tool := spans["execute_tool lookup_ticket"]
		for _, key := range []string{"gen_ai.tool.call.arguments", "gen_ai.tool.call.result"} {
			if v, ok := tool.Attrs[key]; ok {
				t.Errorf("%s recorded with content capture off: %v", key, v)
			}
		}
		for _, rec := range a.firehose.Records(stream) {
			if bytes.Contains(rec, []byte("T-1001")) || bytes.Contains(rec, []byte("Invoice PDF")) {
				t.Error("a record carries the ticket's content with capture off")
			}
		}
	})
}

// verifyRecords runs trail/verify, the library `audit verify` runs, over records stored as Firehose stores them:
// one gzip'd object of newline-terminated lines under traces/ in Firehose's hour layout.
func verifyRecords(t *testing.T, records [][]byte, key *ecdsa.PublicKey) verify.Report {
	t.Helper()
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	for _, r := range records {
		_, _ = zw.Write(r)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	store := trail.NewLocal(t.TempDir())
	if _, err := store.Put(context.Background(), verifytest.ObjectKey(time.Now(), 1), body.Bytes()); err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(context.Background(), store, verify.Options{Keys: []*ecdsa.PublicKey{key}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
