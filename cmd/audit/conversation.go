package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// genAIMessage is one message of gen_ai.input.messages or gen_ai.output.messages (the GenAI semconv's JSON).
type genAIMessage struct {
	Role  string      `json:"role"`
	Parts []genAIPart `json:"parts"`
}

// genAIPart is one part of a message: text, a tool call, a tool call's response, or another kind.
type genAIPart struct {
	Type      string          `json:"type"`
	Content   string          `json:"content"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Response  json.RawMessage `json:"response"`
}

// attrOf is the display value of a span's attribute, "" when it has none.
func attrOf(s traceSpan, key string) string {
	for _, a := range s.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

// renderConversation lays a run out as its conversation, the way LLM trace viewers do: the system
// instructions, then each model call (turn) with what was new in its input (the user's prompt, the results of
// the tools called before it), what the model answered or which tools it called with which arguments, and the
// turn's tokens. A run recorded with content capture off shows its turns and tokens, and says the content was
// not recorded.
func renderConversation(w io.Writer, id string, spans []traceSpan) error {
	ordered, _ := treeOrder(spans)
	var turns []traceSpan
	var run traceSpan
	for _, s := range ordered {
		switch attrOf(s, "gen_ai.operation.name") {
		case "chat":
			turns = append(turns, s)
		case "invoke_agent":
			if run.ID == "" {
				run = s
			}
		}
	}
	header := fmt.Sprintf("run %s  started %s", id, ordered[0].Start.UTC().Format("2006-01-02 15:04:05.000 UTC"))
	if c := attrOf(run, "gen_ai.conversation.id"); c != "" {
		header += "  conversation " + c
	}
	if a := attrOf(run, "gen_ai.agent.name"); a != "" {
		header += "  agent " + a
	}
	fmt.Fprintln(w, printable(header))
	if len(turns) == 0 {
		fmt.Fprintln(w, "no model call in this trace")
		return nil
	}
	if sys := systemText(attrOf(turns[0], "gen_ai.system_instructions")); sys != "" {
		fmt.Fprintf(w, "\nsystem: %s\n", printable(sys))
	}
	toolNames := map[string]string{}
	seen, inTotal, outTotal := 0, 0, 0
	for i, t := range turns {
		in, _ := strconv.Atoi(attrOf(t, "gen_ai.usage.input_tokens"))
		out, _ := strconv.Atoi(attrOf(t, "gen_ai.usage.output_tokens"))
		inTotal, outTotal = inTotal+in, outTotal+out
		line := fmt.Sprintf("turn %d  %s  %d in + %d out tokens  %s", i+1, t.Name, in, out, formatDuration(t.Duration))
		if t.Status == "ERROR" {
			line += "  ERROR"
			if t.StatusMessage != "" {
				line += ": " + t.StatusMessage
			}
		}
		fmt.Fprintln(w, "\n"+printable(line))
		input, inOK := messages(attrOf(t, "gen_ai.input.messages"))
		output, outOK := messages(attrOf(t, "gen_ai.output.messages"))
		if !inOK && !outOK {
			fmt.Fprintln(w, "  (content not recorded: content capture was off)")
			continue
		}
		if seen > len(input) {
			seen = 0
		}
		for _, m := range input[seen:] {
			printMessage(w, m, toolNames)
		}
		for _, m := range output {
			printMessage(w, m, toolNames)
		}
		seen = len(input) + len(output)
	}
	fmt.Fprintf(w, "\n%s, %d in + %d out tokens\n", count(len(turns), "turn"), inTotal, outTotal)
	return nil
}

// messages parses a messages attribute; ok is false when it is absent or not the semconv's JSON.
func messages(raw string) ([]genAIMessage, bool) {
	var ms []genAIMessage
	if raw == "" || json.Unmarshal([]byte(raw), &ms) != nil {
		return nil, false
	}
	return ms, true
}

// systemText joins the text parts of gen_ai.system_instructions.
func systemText(raw string) string {
	var parts []genAIPart
	if json.Unmarshal([]byte(raw), &parts) != nil {
		return ""
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Content)
		}
	}
	return strings.Join(texts, "\n")
}

// printMessage writes one message, a line per part; toolNames remembers each tool call's name by its ID, so a
// response can be named.
func printMessage(w io.Writer, m genAIMessage, toolNames map[string]string) {
	for _, p := range m.Parts {
		var line string
		switch p.Type {
		case "text":
			line = fmt.Sprintf("%s: %s", m.Role, p.Content)
		case "tool_call":
			toolNames[p.ID] = p.Name
			line = fmt.Sprintf("%s calls %s %s  (%s)", m.Role, p.Name, compactJSON(p.Arguments), p.ID)
		case "tool_call_response":
			name := toolNames[p.ID]
			if name == "" {
				name = p.ID
			}
			line = fmt.Sprintf("tool %s → %s", name, compactJSON(p.Response))
		default:
			b, _ := json.Marshal(p) // a struct of strings and raw JSON always marshals
			line = fmt.Sprintf("%s: %s %s", m.Role, p.Type, b)
		}
		fmt.Fprintln(w, "  "+printable(line))
	}
}

// compactJSON writes raw JSON on one line ("" as null).
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
