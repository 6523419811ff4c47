package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// DefaultPrompt is the prompt of an event that carries none, so an empty test invoke still runs the agent.
const DefaultPrompt = "Say hello."

// DefaultMaxPromptBytes is the largest prompt accepted when the configuration sets no limit (32 KiB).
const DefaultMaxPromptBytes = 32 * 1024

// maxQuotedFieldBytes bounds an unknown field name quoted back in an error.
const maxQuotedFieldBytes = 64

// MaxConversationIDBytes bounds conversation_id: it is an identifier, recorded on every span of the run.
const MaxConversationIDBytes = 256

// Event is the invocation payload: {"prompt"?: string, "conversation_id"?: string, "traceparent"?: string}.
type Event struct {
	// Prompt is the user's message to the agent; DefaultPrompt when the field is absent.
	Prompt string
	// ConversationID groups runs of one conversation (gen_ai.conversation.id); empty when absent.
	ConversationID string
	// Parent is the caller's span context from a valid W3C traceparent; invalid (zero) when absent.
	Parent trace.SpanContext
}

// wireEvent is the JSON shape. Pointers tell an absent field from an empty one.
type wireEvent struct {
	Prompt         *string `json:"prompt"`
	ConversationID *string `json:"conversation_id"`
	TraceParent    *string `json:"traceparent"`
}

// EventError is a rejected payload. Field names the offending JSON field ("event" for the payload as a whole) and
// Problem says what is wrong with it, including the limit where one applies. Neither ever quotes the payload, so
// the message is safe to record with content capture off.
type EventError struct {
	Field   string
	Problem string
}

// Error implements error.
func (e *EventError) Error() string {
	return fmt.Sprintf("invalid event: %s: %s", e.Field, e.Problem)
}

// DecodeEvent parses and validates one invocation payload. An empty payload or JSON null is the empty event.
// Unknown fields, wrong types, malformed JSON, trailing data, a prompt over maxPromptBytes, an over-long or
// non-UTF-8 conversation_id and an invalid traceparent each yield an *EventError naming the field.
func DecodeEvent(payload []byte, maxPromptBytes int) (Event, error) {
	if maxPromptBytes <= 0 {
		maxPromptBytes = DefaultMaxPromptBytes
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return Event{Prompt: DefaultPrompt}, nil
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return Event{}, &EventError{Field: "event", Problem: "not valid JSON"}
		}
		return Event{}, &EventError{Field: "event", Problem: "must be a JSON object, got " + jsonKind(trimmed)}
	}

	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Event{}, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Event{}, &EventError{Field: "event", Problem: "unexpected data after the JSON object"}
	}

	ev := Event{Prompt: DefaultPrompt}
	if w.Prompt != nil {
		switch n := len(*w.Prompt); {
		case n == 0:
			return Event{}, &EventError{Field: "prompt", Problem: "must not be empty (omit the field for the default prompt)"}
		case n > maxPromptBytes:
			return Event{}, &EventError{Field: "prompt", Problem: fmt.Sprintf("%d bytes exceeds the limit of %d bytes", n, maxPromptBytes)}
		}
		ev.Prompt = *w.Prompt
	}
	if w.ConversationID != nil {
		id := *w.ConversationID
		switch {
		case len(id) > MaxConversationIDBytes:
			return Event{}, &EventError{Field: "conversation_id", Problem: fmt.Sprintf("%d bytes exceeds the limit of %d bytes", len(id), MaxConversationIDBytes)}
		case !utf8.ValidString(id) || strings.ContainsFunc(id, isControl):
			return Event{}, &EventError{Field: "conversation_id", Problem: "must be printable UTF-8 text"}
		}
		ev.ConversationID = id
	}
	if w.TraceParent != nil {
		sc, err := parseTraceParent(*w.TraceParent)
		if err != nil {
			return Event{}, err
		}
		ev.Parent = sc
	}
	return ev, nil
}

// parseTraceParent validates a W3C traceparent with the OTel propagator, the same code that reads it from HTTP
// headers, and returns the caller's span context marked remote.
func parseTraceParent(value string) (trace.SpanContext, error) {
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": value})
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return trace.SpanContext{}, &EventError{
			Field:   "traceparent",
			Problem: "not a valid W3C trace context (want 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, ids not all zero)",
		}
	}
	return sc, nil
}

// decodeError turns encoding/json's errors into an EventError naming the field.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "event"
		}
		return &EventError{Field: field, Problem: fmt.Sprintf("must be a %s, got %s", typeErr.Type.Kind(), typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return &EventError{Field: "event", Problem: fmt.Sprintf("not valid JSON (at byte %d: %v)", syntaxErr.Offset, syntaxErr)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for DisallowUnknownFields; its message is stable since Go 1.10.
		// The name comes from the payload: it is quoted only when short and printable, so the error (which is
		// recorded even with content capture off) cannot carry content.
		name, err := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if err != nil || len(name) > maxQuotedFieldBytes || strings.ContainsFunc(name, isControl) {
			return &EventError{Field: "event", Problem: "unknown field with a long or unprintable name (accepted: prompt, conversation_id, traceparent)"}
		}
		if name == "" {
			return &EventError{Field: "event", Problem: "a field with an empty name (accepted: prompt, conversation_id, traceparent)"}
		}
		return &EventError{Field: name, Problem: "unknown field (accepted: prompt, conversation_id, traceparent)"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &EventError{Field: "event", Problem: "not valid JSON (unexpected end of input)"}
	default:
		return &EventError{Field: "event", Problem: "not valid JSON"}
	}
}

// jsonKind names the type of a valid JSON value that is not an object.
func jsonKind(b []byte) string {
	switch b[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
