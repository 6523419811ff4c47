package logfire

import (
	"fmt"
	"regexp"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// contentKeys are always redacted when scrubbing: the prompts, outputs, tool arguments and results, a rejected
// request's payload, and error texts (a tool's error may quote its input).
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

// secretPattern is Logfire's default scrubbing pattern list (logfire/_internal/scrubbing.py, DEFAULT_PATTERNS),
// case-insensitive. Logfire writes "auth" as auth(?!ors?\b); Go's regexp has no look-ahead, so sparedAuthor
// makes that exception after the match.
var secretPattern = regexp.MustCompile(`(?is)password|passwd|mysql_pwd|secret|auth|credential|private[._ -]?key|` +
	`api[._ -]?key|session|cookie|social[._ -]?security|credit[._ -]?card|logfire[._ -]?token|pylf_v\d+_|` +
	`(?:\b|_)(?:csrf|xsrf|jwt|ssn)(?:\b|_)`)

// authorSuffix is what may follow "auth" without it counting as a secret: "author" or "authors" as a whole word.
var authorSuffix = regexp.MustCompile(`(?i)^ors?\b`)

// secretMatch returns the first secret-like substring of s, or "" when there is none.
func secretMatch(s string) string {
	for off := 0; off < len(s); {
		loc := secretPattern.FindStringIndex(s[off:])
		if loc == nil {
			return ""
		}
		start, end := off+loc[0], off+loc[1]
		if m := s[start:end]; !strings.EqualFold(m, "auth") || !authorSuffix.MatchString(s[end:]) {
			return m
		}
		off = start + 1
	}
	return ""
}

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

// scrub returns a redacted view of s; s itself is not modified.
func scrub(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	out := scrubbed{ReadOnlySpan: s, attrs: scrubAttrs(s.Attributes()), status: s.Status()}
	if out.status.Description != "" {
		out.status.Description = marker("status description")
	}
	for _, e := range s.Events() {
		e.Attributes = scrubAttrs(e.Attributes)
		out.events = append(out.events, e)
	}
	return out
}

// scrubAttrs redacts, as Logfire does, a value whose key looks secret, and a string value holding something that
// looks secret (unless the value is nothing but that word); content keys are redacted whatever they hold.
func scrubAttrs(in []attribute.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, len(in))
	for i, kv := range in {
		out[i] = kv
		if contentKeys[kv.Key] {
			out[i] = kv.Key.String(marker(string(kv.Key)))
		} else if m := secretMatch(string(kv.Key)); m != "" {
			out[i] = kv.Key.String(marker(m))
		} else if m := secretValue(kv.Value); m != "" {
			out[i] = kv.Key.String(marker(m))
		}
	}
	return out
}

// secretValue returns the secret-like substring of a string (or string slice) value, "" when there is none.
func secretValue(v attribute.Value) string {
	var strs []string
	switch v.Type() {
	case attribute.STRING:
		strs = []string{v.AsString()}
	case attribute.STRINGSLICE:
		strs = v.AsStringSlice()
	}
	for _, s := range strs {
		if m := secretMatch(s); m != "" && len(m) != len(s) {
			return m
		}
	}
	return ""
}

// marker is the replacement value, in Logfire's wording.
func marker(reason string) string { return fmt.Sprintf("[Scrubbed due to '%s']", reason) }
