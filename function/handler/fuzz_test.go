package handler

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// maxEventErrorBytes bounds an EventError's message whatever the payload: the message is recorded even with
// content capture off, so it may name a field and a limit but never carry the payload.
const maxEventErrorBytes = 320

// knownFields are the fields an EventError names when the problem is not an unknown field.
var knownFields = map[string]bool{"event": true, "prompt": true, "conversation_id": true, "traceparent": true}

// FuzzDecodeEvent feeds DecodeEvent arbitrary payloads and prompt limits. The seed corpus is in
// testdata/fuzz/FuzzDecodeEvent; `go test` runs it, `go test -fuzz FuzzDecodeEvent` explores from it.
//
// Properties: DecodeEvent never panics; it returns either a valid Event or an *EventError (never both, never
// another error); the error names a field, says what is wrong in a short, printable, valid UTF-8 message that
// cannot carry the payload; an accepted Event honours every limit, and encoding it back as an event and decoding
// that gives the same Event.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"prompt":"What is 17 * 23?","conversation_id":"c-42","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`), uint16(0))
	f.Fuzz(func(t *testing.T, payload []byte, limit uint16) {
		maxPrompt := int(limit)
		ev, err := DecodeEvent(payload, maxPrompt)
		if maxPrompt == 0 {
			maxPrompt = DefaultMaxPromptBytes
		}
		if err != nil {
			checkEventError(t, err)
			if !sameEvent(ev, Event{}) {
				t.Fatalf("error %v came with a non-zero event %+v", err, ev)
			}
			return
		}
		checkEvent(t, ev, maxPrompt)

		again, err := DecodeEvent(encodeEvent(t, ev), maxPrompt)
		if err != nil {
			t.Fatalf("the accepted event %+v, encoded again, is rejected: %v", ev, err)
		}
		if !sameEvent(again, ev) {
			t.Fatalf("round trip changed the event:\n got %+v\nwant %+v", again, ev)
		}
	})
}

// checkEventError asserts the shape of a rejection.
func checkEventError(t *testing.T, err error) {
	t.Helper()
	var ee *EventError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v is a %T, want *EventError", err, err)
	}
	msg := err.Error()
	switch {
	case ee.Field == "" || ee.Problem == "":
		t.Fatalf("EventError %+v leaves the field or the problem empty", ee)
	case !knownFields[ee.Field] && !strings.HasPrefix(ee.Problem, "unknown field"):
		t.Fatalf("EventError names field %q, which is neither a known field nor reported as unknown: %v", ee.Field, err)
	case len(ee.Field) > maxQuotedFieldBytes:
		t.Fatalf("EventError quotes a %d-byte field name: %v", len(ee.Field), err)
	case !strings.HasPrefix(msg, "invalid event: "+ee.Field+": "):
		t.Fatalf("message %q does not start by naming the field", msg)
	case len(msg) > maxEventErrorBytes:
		t.Fatalf("message of %d bytes could carry the payload: %q", len(msg), msg)
	case !utf8.ValidString(msg):
		// The message becomes the span's status and exception.message: OTLP strings must be valid UTF-8.
		t.Fatalf("message is not valid UTF-8: %q", msg)
	case strings.ContainsFunc(msg, isControl):
		t.Fatalf("message holds control characters: %q", msg)
	}
}

// checkEvent asserts every limit an accepted event must honour.
func checkEvent(t *testing.T, ev Event, maxPrompt int) {
	t.Helper()
	switch {
	case ev.Prompt == "":
		t.Fatal("accepted an event with an empty prompt")
	case len(ev.Prompt) > maxPrompt && ev.Prompt != DefaultPrompt: // the limit bounds the caller's prompt only
		t.Fatalf("accepted a %d-byte prompt over the limit of %d", len(ev.Prompt), maxPrompt)
	case !utf8.ValidString(ev.Prompt):
		// encoding/json replaces invalid UTF-8 in strings with U+FFFD, so a decoded prompt is always valid.
		t.Fatalf("accepted prompt is not valid UTF-8: %q", ev.Prompt)
	case len(ev.ConversationID) > MaxConversationIDBytes:
		t.Fatalf("accepted a %d-byte conversation_id", len(ev.ConversationID))
	case !utf8.ValidString(ev.ConversationID) || strings.ContainsFunc(ev.ConversationID, isControl):
		t.Fatalf("accepted an unprintable conversation_id %q", ev.ConversationID)
	case ev.Parent.IsValid() && !ev.Parent.IsRemote():
		t.Fatalf("parent %v is not marked remote", ev.Parent)
	case !ev.Parent.IsValid() && ev.Parent.HasTraceID():
		t.Fatalf("an invalid parent carries a trace id: %v", ev.Parent)
	}
}

// encodeEvent writes ev back as the payload a caller would send for it.
func encodeEvent(t *testing.T, ev Event) []byte {
	t.Helper()
	w := map[string]string{}
	if ev.Prompt != DefaultPrompt {
		w["prompt"] = ev.Prompt
	}
	if ev.ConversationID != "" {
		w["conversation_id"] = ev.ConversationID
	}
	if ev.Parent.IsValid() {
		w["traceparent"] = fmt.Sprintf("00-%s-%s-%s", ev.Parent.TraceID(), ev.Parent.SpanID(), ev.Parent.TraceFlags())
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameEvent compares events field by field (a SpanContext holds a TraceState, so Event has no ==).
func sameEvent(a, b Event) bool {
	return a.Prompt == b.Prompt && a.ConversationID == b.ConversationID && a.Parent.Equal(b.Parent)
}
