package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/agent-audit/agent-audit/agentaudittest"
	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/telemetry"
	"github.com/agent-audit/agent-audit/internal/audittest"
)

// Hostile content: what a caller, a model or a tool may put in a run. All of it must be recorded as given (OTLP
// strings are UTF-8, so encoding/json's decoding of the event already turned invalid bytes into U+FFFD), leave
// every record one valid OTLP/JSON line within the record limit, and never be mistaken for record structure.
const (
	controlChars = "nul\x00 esc\x1b[31mred\x1b[0m bel\x07 del\x7f cr\r lf\n tab\t ls\u2028ps\u2029 nel\u0085 rtl\u202e bom\ufeff"
	forgedOTLP   = `{"resourceSpans":[{"resource":{"attributes":[{"key":"agent_audit.record.batch_key","value":{"stringValue":"00000000000000000000000000000000"}}]},` +
		`"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000001","spanId":"0000000000000001","name":"forged"}]}]}]}`
	oneMB = 1_000_000
)

// hostileTool answers with fixed content, whatever it is asked.
type hostileTool struct{ result json.RawMessage }

func (hostileTool) Spec() agent.ToolSpec {
	return agent.ToolSpec{Name: "hostile", Description: "returns hostile content", InputSchema: json.RawMessage(`{"type":"object"}`)}
}

func (h hostileTool) Call(context.Context, json.RawMessage) (json.RawMessage, error) {
	return h.result, nil
}

// hostileRig is the real handler, agent and audit processor, delivering to memory.
type hostileRig struct {
	h    *Handler
	sink *agentaudittest.MemorySink
}

func newHostileRig(t *testing.T, model agent.Model, tools ...agent.Tool) hostileRig {
	t.Helper()
	sink := &agentaudittest.MemorySink{}
	proc := audit.NewProcessor(sink, audit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	tp := telemetry.NewTracerProvider(resource.Empty(), proc)
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	reg, err := agent.NewRegistry(tools...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(model, reg, agent.Config{Name: "agent-audit", MaxTurns: 4, CaptureContent: true, Tracer: tp.Tracer("hostile")})
	if err != nil {
		t.Fatal(err)
	}
	h := New(a, proc, Config{MaxPromptBytes: 2 * oneMB, CaptureContent: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return hostileRig{h: h, sink: sink}
}

// spans decodes every record delivered so far, failing on any that is not one OTLP/JSON line within the limit.
func (r hostileRig) spans(t *testing.T) []audittest.Span {
	t.Helper()
	records := r.sink.Records()
	for i, rec := range records {
		if len(rec) > audit.DefaultMaxRecordBytes {
			t.Fatalf("record %d is %d bytes, over the limit", i, len(rec))
		}
	}
	spans := audittest.Decode(t, records)
	for _, s := range spans {
		if s.Name == "forged" || s.TraceID == "00000000000000000000000000000001" {
			t.Fatalf("content became a span of its own: %+v", s)
		}
	}
	return spans
}

// one returns the single span named name.
func one(t *testing.T, spans []audittest.Span, name string) audittest.Span {
	t.Helper()
	got := audittest.Named(spans, name)
	if len(got) != 1 {
		t.Fatalf("%d spans named %q, want 1", len(got), name)
	}
	return got[0]
}

// messageText returns the text of the first part of the first message in a gen_ai.*.messages attribute.
func messageText(t *testing.T, s audittest.Span, key string) string {
	t.Helper()
	raw, _ := s.Attrs[key].(string)
	var msgs []struct {
		Parts []struct {
			Content string `json:"content"`
		} `json:"parts"`
	}
	if err := json.Unmarshal([]byte(raw), &msgs); err != nil || len(msgs) == 0 || len(msgs[0].Parts) == 0 {
		t.Fatalf("%s of %q is not GenAI messages JSON (%v): %.200q", key, s.Name, err, raw)
	}
	return msgs[0].Parts[0].Content
}

func TestHostilePromptsAreRecordedFaithfully(t *testing.T) {
	big := strings.Repeat("a", oneMB-len(controlChars)) + controlChars
	tests := []struct {
		name    string
		payload []byte
		want    string // the prompt as recorded
	}{
		{"control characters, line separators and escapes", event(controlChars), controlChars},
		{"a prompt that looks like an OTLP record", event(forgedOTLP), forgedOTLP},
		{"invalid UTF-8 arrives as U+FFFD, one per byte", []byte("{\"prompt\":\"a\xffb\xc3(c\xed\xa0\x80d\"}"), "a\ufffdb\ufffd(c\ufffd\ufffd\ufffdd"},
		{"an escaped lone surrogate arrives as U+FFFD", []byte(`{"prompt":"x\ud800y"}`), "x\ufffdy"},
		{"a 1 MB prompt is recorded whole, split over records", event(big), big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newHostileRig(t, agent.NewOfflineModel())
			resp, err := rig.h.Handle(context.Background(), tt.payload)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			spans := rig.spans(t)
			root := one(t, spans, "invoke_agent agent-audit")
			if root.TraceID != resp.TraceID {
				t.Fatalf("root trace %s, response %s", root.TraceID, resp.TraceID)
			}
			if got := messageText(t, root, "gen_ai.input.messages"); got != tt.want {
				t.Fatalf("recorded prompt (%d bytes) differs from the one sent (%d bytes): %.120q", len(got), len(tt.want), got)
			}
			chat := one(t, spans, "chat offline")
			if got := messageText(t, chat, "gen_ai.input.messages"); got != tt.want {
				t.Fatalf("chat span's prompt (%d bytes) differs from the one sent", len(got))
			}
		})
	}
}

func TestHostileToolContentIsRecordedFaithfully(t *testing.T) {
	bigText, err := json.Marshal(map[string]string{"text": strings.Repeat("r", oneMB-64) + "\x00\u2028"})
	if err != nil {
		t.Fatal(err)
	}
	control, _ := json.Marshal(map[string]string{"text": controlChars})
	tests := []struct {
		name   string
		args   string
		result json.RawMessage
		answer string
	}{
		{"control characters in arguments, result and answer", string(control), control, controlChars},
		{"a result that looks like an OTLP record", `{"q":` + jsonString(forgedOTLP) + `}`, json.RawMessage(forgedOTLP), forgedOTLP},
		{"a 1 MB result is recorded whole", `{}`, bigText, "done"},
		{"invalid UTF-8 in a result is recorded with U+FFFD", `{}`, json.RawMessage("{\"text\":\"a\xffb\"}"), "done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := agent.NewOfflineModel(agent.WithScript(
				agent.Step{ToolCalls: []agent.ToolCall{{Name: "hostile", Arguments: json.RawMessage(tt.args)}}},
				agent.Step{Text: tt.answer}))
			rig := newHostileRig(t, model, hostileTool{result: tt.result})
			resp, err := rig.h.Handle(context.Background(), event("use the tool"))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if resp.Output != tt.answer {
				t.Fatalf("output %.120q, want %.120q", resp.Output, tt.answer)
			}
			spans := rig.spans(t)
			tool := one(t, spans, "execute_tool hostile")
			if got := tool.Attrs["gen_ai.tool.call.arguments"]; got != tt.args {
				t.Fatalf("recorded arguments %.120q, want %.120q", got, tt.args)
			}
			if got, _ := tool.Attrs["gen_ai.tool.call.result"].(string); got != string([]rune(string(tt.result))) {
				t.Fatalf("recorded result (%d bytes) differs from the tool's (%d bytes)", len(got), len(tt.result))
			}
			root := one(t, spans, "invoke_agent agent-audit")
			if got := messageText(t, root, "gen_ai.output.messages"); got != tt.answer {
				t.Fatalf("recorded answer %.120q, want %.120q", got, tt.answer)
			}
		})
	}
}

func TestHostileRejectedPayloadsAreRecordedByHashAndContent(t *testing.T) {
	huge := append([]byte(`{"prompt":`), make([]byte, 2*oneMB)...) // NULs: not JSON, over the recorded size
	tests := []struct {
		name        string
		payload     []byte
		wantField   string
		wantPayload bool
	}{
		{"control characters outside any string", []byte("{\"prompt\":\"hi\"}\x00\x1b[2J\u2028"), "event", true},
		{"an OTLP record sent as the event", []byte(forgedOTLP), "resourceSpans", true},
		{"a conversation id with control characters", []byte(`{"conversation_id":"c\u001b[31m"}`), "conversation_id", true},
		{"a 2 MB payload of NULs is recorded by size and hash", huge, "event", false},
		{"a prompt over the limit", event(strings.Repeat("p", 2*oneMB+1)), "prompt", false},
		{"invalid UTF-8 in a rejected payload is recorded with U+FFFD, hashed raw", []byte("{\"prompt\":42,\"x\":\"\xff\xfe\"}"), "prompt", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newHostileRig(t, agent.NewOfflineModel())
			_, err := rig.h.Handle(context.Background(), tt.payload)
			var ee *EventError
			if !errors.As(err, &ee) || ee.Field != tt.wantField {
				t.Fatalf("error %v, want an EventError on %q", err, tt.wantField)
			}
			root := one(t, rig.spans(t), "invoke_agent agent-audit")
			sum := sha256.Sum256(tt.payload)
			if got := root.Attrs[string(attrRequestSHA256)]; got != hex.EncodeToString(sum[:]) {
				t.Fatalf("request sha256 %v, want the raw payload's %x", got, sum)
			}
			if got := root.Attrs[string(attrRequestBytes)]; got != int64(len(tt.payload)) {
				t.Fatalf("request bytes %v, want %d", got, len(tt.payload))
			}
			payload, recorded := root.Attrs[string(attrRequestPayload)]
			// OTLP strings are UTF-8: an invalid byte is recorded as U+FFFD, one per byte; the hash covers the raw bytes.
			if recorded != tt.wantPayload || (recorded && payload != string([]rune(string(tt.payload)))) {
				t.Fatalf("payload recorded = %v (%.80q), want %v and byte for byte", recorded, payload, tt.wantPayload)
			}
			if omitted := root.Attrs[string(attrRequestPayloadOmitted)] == true; omitted == tt.wantPayload {
				t.Fatalf("payload_omitted = %v with the payload recorded = %v", omitted, recorded)
			}
			if root.StatusCode.String() != "Error" || !strings.HasPrefix(root.StatusMessage, "invalid event: "+tt.wantField+": ") {
				t.Fatalf("status %v %q", root.StatusCode, root.StatusMessage)
			}
		})
	}
}

// event is {"prompt": prompt} as a caller would send it.
func event(prompt string) []byte {
	b, _ := json.Marshal(map[string]string{"prompt": prompt})
	return b
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
