package handler

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeEventAcceptsTheContract(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		name    string
		payload string
		want    Event
	}{
		{"empty payload runs the default prompt", "", Event{Prompt: DefaultPrompt}},
		{"JSON null runs the default prompt", " null ", Event{Prompt: DefaultPrompt}},
		{"empty object runs the default prompt", "{}", Event{Prompt: DefaultPrompt}},
		{"prompt is taken as given", `{"prompt":"What is 2+2?"}`, Event{Prompt: "What is 2+2?"}},
		{"conversation id is kept", `{"prompt":"hi","conversation_id":"c-42"}`, Event{Prompt: "hi", ConversationID: "c-42"}},
		{"prompt exactly at the limit is accepted", `{"prompt":"` + strings.Repeat("x", 16) + `"}`, Event{Prompt: strings.Repeat("x", 16)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeEvent([]byte(tt.payload), 16)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if got.Prompt != tt.want.Prompt || got.ConversationID != tt.want.ConversationID || got.Parent.IsValid() {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}

	t.Run("a valid traceparent becomes a remote parent", func(t *testing.T) {
		got, err := DecodeEvent([]byte(`{"traceparent":"`+tp+`"}`), 16)
		if err != nil {
			t.Fatal(err)
		}
		if got.Parent.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || got.Parent.SpanID().String() != "00f067aa0ba902b7" {
			t.Fatalf("parent = %s/%s", got.Parent.TraceID(), got.Parent.SpanID())
		}
		if !got.Parent.IsRemote() || !got.Parent.IsSampled() {
			t.Fatalf("parent remote=%v sampled=%v, want both", got.Parent.IsRemote(), got.Parent.IsSampled())
		}
	})
}

func TestDecodeEventRejectsBadInputNamingTheField(t *testing.T) {
	tests := []struct {
		name      string
		payload   string
		wantField string
		wantIn    string // part of the problem text
	}{
		{"unknown field", `{"prompt":"hi","temperature":0.2}`, "temperature", "unknown field"},
		{"an unknown field with a long name is not quoted", `{"` + strings.Repeat("k", 65) + `":1}`, "event", "unknown field with a long or unprintable name"},
		{"prompt of the wrong type", `{"prompt":42}`, "prompt", "must be a string, got number"},
		{"conversation id of the wrong type", `{"conversation_id":true}`, "conversation_id", "must be a string, got bool"},
		{"traceparent of the wrong type", `{"traceparent":["x"]}`, "traceparent", "must be a string, got array"},
		{"non-JSON payload", `prompt=hi`, "event", "not valid JSON"},
		{"truncated JSON", `{"prompt":"hi"`, "event", "not valid JSON"},
		{"an array instead of an object", `["hi"]`, "event", "must be a JSON object, got an array"},
		{"a bare string instead of an object", `"hi"`, "event", "must be a JSON object, got a string"},
		{"trailing data after the object", `{"prompt":"hi"} {"prompt":"again"}`, "event", "unexpected data after the JSON object"},
		{"prompt over the limit names the size and the limit", `{"prompt":"` + strings.Repeat("x", 17) + `"}`, "prompt", "17 bytes exceeds the limit of 16 bytes"},
		{"empty prompt", `{"prompt":""}`, "prompt", "must not be empty"},
		{"over-long conversation id", `{"conversation_id":"` + strings.Repeat("c", MaxConversationIDBytes+1) + `"}`, "conversation_id", "exceeds the limit of 256 bytes"},
		{"conversation id with control characters", `{"conversation_id":"a\u0007b"}`, "conversation_id", "printable"},
		{"malformed traceparent", `{"traceparent":"00-xyz-00f067aa0ba902b7-01"}`, "traceparent", "not a valid W3C trace context"},
		{"all-zero trace id", `{"traceparent":"00-00000000000000000000000000000000-00f067aa0ba902b7-01"}`, "traceparent", "not a valid W3C trace context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(tt.payload), 16)
			var ee *EventError
			if !errors.As(err, &ee) {
				t.Fatalf("error %v (%T), want *EventError", err, err)
			}
			if ee.Field != tt.wantField {
				t.Errorf("field = %q, want %q (error: %v)", ee.Field, tt.wantField, err)
			}
			if !strings.Contains(ee.Problem, tt.wantIn) {
				t.Errorf("problem = %q, want it to contain %q", ee.Problem, tt.wantIn)
			}
			if !strings.HasPrefix(err.Error(), "invalid event: "+tt.wantField+": ") {
				t.Errorf("message %q does not start by naming the field", err.Error())
			}
		})
	}
}

func TestEventErrorsNeverQuoteThePayload(t *testing.T) {
	const secret = "SECRET-PROMPT-MARKER"
	payloads := []string{
		`{"prompt":"` + secret + strings.Repeat("x", 64) + `"}`,
		`{"prompt":"` + secret + `","extra":"` + secret + `"}`,
		`{"conversation_id":"` + secret + "\u0001" + `"}`,
		`{"traceparent":"` + secret + `"}`,
		secret,
		`{"prompt":"` + secret,
	}
	for _, p := range payloads {
		_, err := DecodeEvent([]byte(p), 32)
		if err == nil {
			t.Fatalf("payload %q was accepted", p)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q quotes the payload", err)
		}
	}
}
