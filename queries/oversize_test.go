package queries

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/function/audit"
)

func TestOversizeContentReadsAsIfItWereInline(t *testing.T) {
	root := t.TempDir()
	prompt := "Count the words: " + strings.Repeat("lorem ipsum ", 87_000) // 1 MB: over a record on its own
	event, _ := json.Marshal(map[string]string{"prompt": prompt})
	ids := produce(t, root, func(c *agentaudit.Config) { c.MaxPromptBytes = 1 << 20 }, nil, string(event), `{"prompt":"What is 17 * 23?"}`)
	objects, _ := filepath.Glob(filepath.Join(root, "oversize", "*", "*", "*", "*", "*", "*.json.gz"))
	if len(objects) == 0 {
		t.Fatal("no oversize object written: the test no longer exercises the join")
	}
	db := open(t, root)

	runs := map[string]map[string]any{}
	for _, r := range rows(t, db, "SELECT trace, user_prompt, output, tool_calls FROM runs") {
		runs[r["trace"].(string)] = r
	}
	if r := runs[ids[0]]; r == nil || r["user_prompt"] != prompt || !strings.HasPrefix(r["output"].(string), "The text has 174000 words") {
		t.Errorf("the oversize run does not read whole: prompt of %d bytes, output %v", len(str(runs[ids[0]], "user_prompt")), runs[ids[0]]["output"])
	}
	if r := runs[ids[1]]; r == nil || r["user_prompt"] != "What is 17 * 23?" {
		t.Errorf("an ordinary run beside it: %v", r)
	}
	tools := rows(t, db, "SELECT arguments FROM tool_calls WHERE trace = ? AND tool = 'text_stats'", ids[0])
	if len(tools) != 1 || !strings.Contains(tools[0]["arguments"].(string), strings.Repeat("lorem ipsum ", 1000)) {
		t.Errorf("the tool call's arguments are not resolved")
	}
	// Each resolved span still says where its content came from.
	refs := rows(t, db, "SELECT count(*) AS n FROM spans WHERE otel_str(attributes, ?) IS NOT NULL AND trace = ?", audit.AttrOversizeKey, ids[0])
	if refs[0]["n"] != int64(len(objects)) {
		t.Errorf("%v spans keep a reference, want %d (one per object)", refs[0]["n"], len(objects))
	}
	if n := rows(t, db, "SELECT count(*) AS n FROM spans WHERE trace = ?", ids[0])[0]["n"]; n != int64(4) {
		t.Errorf("%v spans in the oversize trace, want 4 (the join must not multiply rows)", n)
	}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
