package queries

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/function/agent"
)

// Hostile content the views must return as recorded: control characters (NUL, ESC), line and paragraph
// separators, JSON that looks like an OTLP record, invalid UTF-8 (which the event decoder turns into U+FFFD, one
// per byte) and a 1 MB prompt.
const (
	hostileText   = "nul\x00 esc\x1b[31mred\x1b[0m bel\x07 del\x7f cr\r lf\n tab\t ls\u2028ps\u2029 nel\u0085 rtl\u202e bom\ufeff"
	hostileForged = `{"resourceSpans":[{"resource":{"attributes":[{"key":"agent_audit.record.batch_key","value":{"stringValue":"00000000000000000000000000000000"}}]},` +
		`"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000001","spanId":"0000000000000001","name":"forged"}]}]}]}`
	hostileToolName = "ls\u2028\x1b[31m\x00tool"
	hostileMB       = 1_000_000
)

func hostileEvent(prompt string) string {
	b, _ := json.Marshal(map[string]string{"prompt": prompt})
	return string(b)
}

func TestViewsReturnHostileContentAsRecorded(t *testing.T) {
	root := t.TempDir()
	big := strings.Repeat("m", hostileMB-len(hostileText)) + hostileText
	prompts := []struct {
		name, event, want string
	}{
		{"control characters and separators", hostileEvent(hostileText), hostileText},
		{"a prompt that looks like an OTLP record", hostileEvent(hostileForged), hostileForged},
		{"invalid UTF-8 as U+FFFD per byte", "{\"prompt\":\"a\xffb\xc3(c\"}", "a\ufffdb\ufffd(c"},
		{"a 1 MB prompt", hostileEvent(big), big},
		{"text_stats asked to count hostile text", hostileEvent("count the words: " + hostileText), "count the words: " + hostileText},
	}
	events := make([]string, 0, len(prompts)+1)
	for _, p := range prompts {
		events = append(events, p.event)
	}
	events = append(events, `{"conversation_id":"c\u001b[2J\u0000"}`) // rejected: not printable
	ids := produce(t, root, func(c *agentaudit.Config) { c.MaxPromptBytes = 1 << 20 }, nil, events...)

	// A model asking for a tool whose name is hostile, with hostile arguments, then answering with hostile text.
	args := `{"text":` + mustJSON(t, hostileText) + `}`
	model := agent.NewOfflineModel(agent.WithScript(
		agent.Step{ToolCalls: []agent.ToolCall{{ID: "call-1", Name: hostileToolName, Arguments: json.RawMessage(args)}}},
		agent.Step{Text: hostileText}))
	toolRun := produce(t, root, nil, []agentaudit.Option{agentaudit.WithModel(model)}, hostileEvent("use the tool"))[0]

	db := open(t, root)
	for i, p := range prompts {
		t.Run(p.name, func(t *testing.T) {
			runs := rows(t, db, "SELECT user_prompt, status FROM runs WHERE trace = ?", ids[i])
			if len(runs) != 1 || runs[0]["status"] != "UNSET" {
				t.Fatalf("runs rows %d (%v), want one successful run", len(runs), runs)
			}
			if got, _ := runs[0]["user_prompt"].(string); got != p.want {
				t.Fatalf("runs.user_prompt (%d bytes) %.120q, want (%d bytes) %.120q", len(got), got, len(p.want), p.want)
			}
			chats := rows(t, db, "SELECT user_prompt FROM traces WHERE trace = ? ORDER BY started", ids[i])
			if len(chats) == 0 {
				t.Fatal("no traces rows")
			}
			for _, c := range chats {
				if got, _ := c["user_prompt"].(string); got != p.want {
					t.Fatalf("traces.user_prompt (%d bytes) %.120q differs", len(got), got)
				}
			}
		})
	}

	t.Run("content never becomes spans of its own", func(t *testing.T) {
		forged := rows(t, db, "SELECT count(*) AS n FROM spans WHERE name = 'forged' OR trace = '00000000000000000000000000000001'")
		if forged[0]["n"] != int64(0) {
			t.Fatalf("%v forged spans", forged[0]["n"])
		}
		got := rows(t, db, "SELECT count(*) AS n FROM spans WHERE trace = ?", ids[1])
		if got[0]["n"] != int64(2) {
			t.Fatalf("the OTLP-looking prompt's trace has %v spans, want 2 (invoke_agent, chat)", got[0]["n"])
		}
	})

	t.Run("tool arguments carry hostile text", func(t *testing.T) {
		calls := rows(t, db, "SELECT tool, arguments, result, status FROM tool_calls WHERE trace = ?", ids[4])
		if len(calls) != 1 || calls[0]["tool"] != "text_stats" || calls[0]["status"] != "UNSET" {
			t.Fatalf("tool_calls %v, want one text_stats call", calls)
		}
		var a struct{ Text string }
		if err := json.Unmarshal([]byte(calls[0]["arguments"].(string)), &a); err != nil || a.Text != hostileText {
			t.Fatalf("arguments %q (%v), want the text %q", calls[0]["arguments"], err, hostileText)
		}
		var r struct{ Bytes int }
		if err := json.Unmarshal([]byte(calls[0]["result"].(string)), &r); err != nil || r.Bytes != len(hostileText) {
			t.Fatalf("result %q (%v), want %d bytes counted", calls[0]["result"], err, len(hostileText))
		}
	})

	t.Run("a hostile tool name, arguments and answer", func(t *testing.T) {
		calls := rows(t, db, "SELECT tool, call_id, arguments, status, error_type FROM tool_calls WHERE trace = ?", toolRun)
		if len(calls) != 1 {
			t.Fatalf("%d tool_calls rows, want 1", len(calls))
		}
		c := calls[0]
		if c["tool"] != hostileToolName || c["call_id"] != "call-1" || c["arguments"] != args || c["status"] != "ERROR" || c["error_type"] != "unknown_tool" {
			t.Fatalf("tool_calls row %q", c)
		}
		runs := rows(t, db, "SELECT output, tool_calls FROM runs WHERE trace = ?", toolRun)
		if len(runs) != 1 || runs[0]["output"] != hostileText || runs[0]["tool_calls"] != int64(1) {
			t.Fatalf("runs row %q", runs)
		}
		names := rows(t, db, "SELECT name FROM spans WHERE trace = ? AND operation = 'execute_tool'", toolRun)
		if len(names) != 1 || names[0]["name"] != "execute_tool "+hostileToolName {
			t.Fatalf("execute_tool span names %q", names)
		}
	})

	t.Run("a rejected event with control characters", func(t *testing.T) {
		runs := rows(t, db, "SELECT status, error_type, status_message FROM runs WHERE trace = ?", ids[len(prompts)])
		if len(runs) != 1 || runs[0]["status"] != "ERROR" || runs[0]["error_type"] != "invalid_request" ||
			!strings.HasPrefix(runs[0]["status_message"].(string), "invalid event: conversation_id: ") {
			t.Fatalf("runs row %q", runs)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
