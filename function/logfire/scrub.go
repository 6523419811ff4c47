package logfire

import (
	"fmt"
	"regexp"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// contentKeys are always redacted when scrubbing: the prompts, outputs, tool arguments and results, and a
// rejected request's payload.
var contentKeys = map[attribute.Key]bool{
	"gen_ai.input.messages":       true,
	"gen_ai.output.messages":      true,
	"gen_ai.system_instructions":  true,
	"gen_ai.tool.call.arguments":  true,
	"gen_ai.tool.call.result":     true,
	"agent_audit.request.payload": true,
	"exception.message":           true,
	"exception.stacktrace":        true,
}

// secretKey matches attribute keys that look like they hold secrets, after Logfire's default scrubbing patterns
// (Go's regexp has no look-ahead, so "auth" spares "author" with an explicit alternative).
var secretKey = regexp.MustCompile(`(?i)password|passwd|mysql_pwd|secret|auth(?:$|[^o]|o$|o[^r])|credential|private[._ -]?key|api[._ -]?key|session|cookie|csrf|xsrf|jwt|ssn|social[._ -]?security|credit[._ -]?card`)

// scrubbed is a span as exported to Logfire when scrubbing is on: the same span with redacted attribute values,
// event attributes and status description. The original, which the audit processor holds, is unchanged.
type scrubbed struct {
	sdktrace.ReadOnlySpan
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	status sdktrace.Status
}

func (s scrubbed) Attributes() []attribute.KeyValue { return s.attrs }
func (s scrubbed) Events() []sdktrace.Event         { return s.events }
func (s scrubbed) Status() sdktrace.Status          { return s.status }

func scrub(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	out := scrubbed{ReadOnlySpan: s, attrs: scrubAttrs(s.Attributes()), status: s.Status()}
	if out.status.Description != "" {
		out.status.Description = "[Scrubbed: status description]"
	}
	for _, e := range s.Events() {
		e.Attributes = scrubAttrs(e.Attributes)
		out.events = append(out.events, e)
	}
	return out
}

func scrubAttrs(in []attribute.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, len(in))
	for i, kv := range in {
		switch {
		case contentKeys[kv.Key]:
			out[i] = kv.Key.String(fmt.Sprintf("[Scrubbed due to %q]", string(kv.Key)))
		case secretKey.MatchString(string(kv.Key)):
			out[i] = kv.Key.String(fmt.Sprintf("[Scrubbed due to %q]", secretKey.FindString(string(kv.Key))))
		default:
			out[i] = kv
		}
	}
	return out
}
