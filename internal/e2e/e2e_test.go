package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/audittest"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
	"github.com/agent-audit/agent-audit/internal/lambdatest"
)

// TestTheRealBinaryEndToEnd runs one execution environment through a normal run, a rejected request and an
// oversize prompt, then checks what every invocation left behind: sealed records, the live view, the locked
// bucket and the captured logs. The cases run in order on one function, as invocations of one container do.
func TestTheRealBinaryEndToEnd(t *testing.T) {
	s := newStack(t)

	t.Run("a run with a tool call answers ok and ships its trace to Firehose and Logfire", func(t *testing.T) {
		s.bedrock.Enqueue(
			bedrocktest.Reply{ToolUses: []bedrocktest.ToolUse{{ID: "tooluse_1", Name: "calculator", Input: []byte(`{"expression":"17 * 23"}`)}}},
			bedrocktest.Reply{Text: "17 * 23 = 391"},
		)
		resp := s.fn.Invoke(t, []byte(`{"prompt":"What is 17 * 23?","conversation_id":"c-e2e"}`))
		out := okResponse(t, resp)
		if out.Output != "17 * 23 = 391" {
			t.Fatalf("output %q", out.Output)
		}
		spans := audittest.ByTrace(audittest.Decode(t, s.firehose.Records(stream)))[out.TraceID]
		if got := spanNames(spans); got != "chat claude-haiku-4-5,chat claude-haiku-4-5,execute_tool calculator,invoke_agent e2e-agent" {
			t.Fatalf("Firehose holds spans %s of the run", got)
		}
		for _, sp := range spans {
			if sp.Attrs["gen_ai.conversation.id"] != "c-e2e" {
				t.Errorf("%s: conversation id %v", sp.Name, sp.Attrs["gen_ai.conversation.id"])
			}
		}
		if reqs := s.bedrock.Requests(); len(reqs) != 2 || reqs[0].ModelID != profileARN {
			t.Fatalf("Bedrock saw %d requests, first for %q", len(reqs), reqs[0].ModelID)
		}
		if live := liveSpans(s, out.TraceID); live != len(spans) {
			t.Fatalf("Logfire got %d spans of the trace, the audit copy %d", live, len(spans))
		}
		if h := s.logfire.Headers(); len(h) == 0 || h[0].Get("Authorization") != s.token {
			t.Fatal("the Logfire export is not authorised with the token from SSM")
		}
		if n, decrypted := s.params.Calls(); n != 1 || !decrypted[0] {
			t.Fatalf("SSM: %d GetParameter calls (decryption %v), want one decrypting", n, decrypted)
		}
	})

	t.Run("a rejected request fails and is still audited", func(t *testing.T) {
		before := len(s.bedrock.Requests())
		resp := s.fn.Invoke(t, []byte(`{"prompt":"hi","temperature":2}`))
		if resp.Error == nil || resp.Error.Type != "InvocationError" || !strings.HasPrefix(resp.Error.Message, "invalid event: ") {
			t.Fatalf("status %d payload %s, want an InvocationError for an invalid event", resp.Status, resp.Payload)
		}
		traceID := traceIDOf(t, resp.Error.Message)
		spans := audittest.ByTrace(audittest.Decode(t, s.firehose.Records(stream)))[traceID]
		if len(spans) != 1 || spans[0].Name != "invoke_agent e2e-agent" || spans[0].StatusCode != ptrace.StatusCodeError ||
			spans[0].Attrs["error.type"] != "invalid_request" {
			t.Fatalf("Firehose holds %+v for the rejected request, want one ERROR invoke_agent span", spans)
		}
		if sum := sha256.Sum256([]byte(`{"prompt":"hi","temperature":2}`)); spans[0].Attrs["agent_audit.request.sha256"] != hex.EncodeToString(sum[:]) {
			t.Errorf("request sha256 %v", spans[0].Attrs["agent_audit.request.sha256"])
		}
		if after := len(s.bedrock.Requests()); after != before {
			t.Fatalf("a rejected request reached Bedrock (%d calls)", after-before)
		}
	})

	t.Run("an oversize prompt is stored in the locked bucket and referenced from the record", func(t *testing.T) {
		prompt := strings.Repeat("audit this line. ", maxPromptBytes/17) // about 1 MB: more than a record holds
		s.bedrock.Enqueue(bedrocktest.Reply{Text: "Done."})
		payload, _ := json.Marshal(map[string]string{"prompt": prompt})
		out := okResponse(t, s.fn.Invoke(t, payload))

		for i, rec := range s.firehose.Records(stream) {
			if len(rec) > firehosetest.MaxRecordBytes {
				t.Errorf("record %d is %d bytes, over Firehose's limit", i, len(rec))
			}
		}
		var refs []audittest.Span
		for _, sp := range audittest.ByTrace(audittest.Decode(t, s.firehose.Records(stream)))[out.TraceID] {
			if sp.Attrs[audit.AttrOversizeKey] != nil {
				refs = append(refs, sp)
			}
		}
		if len(refs) == 0 {
			t.Fatal("no span of the run references oversize content")
		}
		keyPattern := regexp.MustCompile(`^oversize/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/` + out.TraceID + `/[0-9a-f]{16}-[0-9a-f]{64}\.json\.gz$`)
		root := s.store.Client(t) // reads as the operator: the function's own credentials cannot
		for _, sp := range refs {
			key, _ := sp.Attrs[audit.AttrOversizeKey].(string)
			if !keyPattern.MatchString(key) || !strings.Contains(key, "/"+sp.SpanID+"-") {
				t.Errorf("%s: oversize key %q", sp.Name, key)
			}
			if uri := sp.Attrs[audit.AttrOversizeURI]; uri != "s3://"+bucket+"/"+key {
				t.Errorf("%s: uri %v", sp.Name, uri)
			}
			obj, err := root.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("%s: oversize object %s: %v", sp.Name, key, err)
			}
			content := gunzip(t, obj.Body)
			if sum := sha256.Sum256(content); sp.Attrs[audit.AttrOversizeSHA256] != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: the sha256 attribute does not match the stored content", sp.Name)
			}
			if !bytes.Contains(content, []byte(strings.Repeat("audit this line. ", 1000))) {
				t.Errorf("%s: the stored content lacks the prompt", sp.Name)
			}
			moved := storedSpan(t, content)
			if moved.TraceID().String() != out.TraceID || moved.SpanID().String() != sp.SpanID {
				t.Errorf("%s: the stored span is %s/%s", sp.Name, moved.TraceID(), moved.SpanID())
			}
			if obj.ObjectLockMode != types.ObjectLockModeCompliance || obj.ObjectLockRetainUntilDate == nil ||
				obj.ObjectLockRetainUntilDate.Before(time.Now().Add(23*time.Hour)) {
				t.Errorf("%s: %s locked %q until %v, want the bucket's COMPLIANCE day", sp.Name, key, obj.ObjectLockMode, obj.ObjectLockRetainUntilDate)
			}
		}
	})

	t.Run("every record is sealed under the KMS key's one certification, in one unbroken chain", func(t *testing.T) {
		records := s.firehose.Records(stream)
		v := seal.NewVerifier(s.keys.PublicKey())
		var chains seal.Chains
		for i, rec := range records {
			r, err := v.Verify(rec)
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			if r.Issuer != s.keys.KeyARN || !r.Certified {
				t.Errorf("record %d is vouched for by %q (certified %v), want the KMS key's ARN", i, r.Issuer, r.Certified)
			}
			chains.Add(r, "record")
		}
		if rep := chains.Check(false); len(rep.Problems) != 0 || rep.Chains != 1 || rep.Records != len(records) {
			t.Fatalf("chain check: %+v", rep)
		}
		if n := s.keys.Calls("Sign"); n != 1 || len(records) < 3 {
			t.Fatalf("%d kms:Sign calls for %d records, want one for the container", n, len(records))
		}
	})

	t.Run("no secret reaches the logs, the records or the live view", func(t *testing.T) {
		logs := s.fn.Logs()
		// The capture is not empty: the function's own lines and the emulator's are in it.
		for _, want := range []string{`"msg":"agent run ok"`, `"msg":"invalid event rejected"`, "INIT REPORT"} {
			if !strings.Contains(logs, want) {
				t.Fatalf("the captured logs lack %s:\n%s", want, logs)
			}
		}
		var live bytes.Buffer
		var m ptrace.JSONMarshaler
		for _, td := range s.logfire.Traces() {
			b, err := m.MarshalTraces(td)
			if err != nil {
				t.Fatal(err)
			}
			live.Write(b)
		}
		records := bytes.Join(s.firehose.Records(stream), nil)
		for what, secret := range s.secrets() {
			if secret == "" {
				t.Fatalf("%s is empty: nothing to look for", what)
			}
			if strings.Contains(logs, secret) {
				t.Errorf("%s appears in the function's logs", what)
			}
			if bytes.Contains(records, []byte(secret)) {
				t.Errorf("%s appears in an audit record", what)
			}
			if bytes.Contains(live.Bytes(), []byte(secret)) {
				t.Errorf("%s appears in the live view", what)
			}
		}
	})

	if d, ok := s.fn.InitDuration(); ok {
		t.Logf("emulator INIT REPORT: %s", d)
	}
}

// runResponse is the function's answer to a run.
type runResponse struct {
	Status  string `json:"status"`
	Output  string `json:"output"`
	TraceID string `json:"trace_id"`
}

func okResponse(t *testing.T, resp lambdatest.Response) runResponse {
	t.Helper()
	var out runResponse
	if resp.Status != 200 || resp.Error != nil || json.Unmarshal(resp.Payload, &out) != nil || out.Status != "ok" {
		t.Fatalf("status %d payload %.500s", resp.Status, resp.Payload)
	}
	if len(out.TraceID) != 32 {
		t.Fatalf("trace id %q", out.TraceID)
	}
	return out
}

var traceIDSuffix = regexp.MustCompile(`\(trace_id=([0-9a-f]{32})\)$`)

func traceIDOf(t *testing.T, message string) string {
	t.Helper()
	m := traceIDSuffix.FindStringSubmatch(message)
	if m == nil {
		t.Fatalf("error message %q does not end with its trace id", message)
	}
	return m[1]
}

// spanNames lists the names of spans, sorted, comma-separated.
func spanNames(spans []audittest.Span) string {
	names := make([]string, len(spans))
	for i, sp := range spans {
		names[i] = sp.Name
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// liveSpans counts the spans of trace the Logfire receiver got.
func liveSpans(s *stack, trace string) int {
	n := 0
	for _, td := range s.logfire.Traces() {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			ss := td.ResourceSpans().At(i).ScopeSpans()
			for j := 0; j < ss.Len(); j++ {
				spans := ss.At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					if spans.At(k).TraceID().String() == trace {
						n++
					}
				}
			}
		}
	}
	return n
}

func gunzip(t *testing.T, body io.ReadCloser) []byte {
	t.Helper()
	defer body.Close()
	zr, err := gzip.NewReader(body)
	if err != nil {
		t.Fatalf("oversize object is not gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storedSpan parses an oversize object (one OTLP/JSON line holding one span) and returns that span.
func storedSpan(t *testing.T, content []byte) ptrace.Span {
	t.Helper()
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(content)
	if err != nil {
		t.Fatalf("oversize object is not OTLP/JSON: %v", err)
	}
	if td.SpanCount() != 1 {
		t.Fatalf("oversize object holds %d spans, want 1", td.SpanCount())
	}
	return td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
}
