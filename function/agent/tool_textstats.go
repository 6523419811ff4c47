package agent

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// TextStats counts the characters, bytes, words and lines of a text.
type TextStats struct{}

type textStatsArgs struct {
	Text *string `json:"text"`
}

// Spec implements Tool.
func (TextStats) Spec() ToolSpec {
	return ToolSpec{
		Name:        "text_stats",
		Description: "Count the characters, bytes, words and lines of a text.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"],"additionalProperties":false}`),
	}
}

// Call implements Tool. The result is {"characters", "bytes", "words", "lines"}.
func (TextStats) Call(_ context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var args textStatsArgs
	if err := DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	if args.Text == nil {
		return nil, errMissing("text")
	}
	text := *args.Text
	lines := 0
	if text != "" {
		lines = strings.Count(text, "\n") + 1
		if strings.HasSuffix(text, "\n") {
			lines--
		}
	}
	return json.Marshal(map[string]int{
		"characters": utf8.RuneCountInString(text),
		"bytes":      len(text),
		"words":      len(strings.Fields(text)),
		"lines":      lines,
	})
}
