package athena

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// viewColumns returns each view's output columns in order, read from a script of CREATE OR REPLACE VIEW
// statements: the aliases of the statement's last top-level SELECT list. It reads both dialects we write
// (DuckDB and Trino), which share this much syntax.
func viewColumns(t *testing.T, script string) map[string][]string {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(script, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	out := map[string][]string{}
	for _, stmt := range strings.Split(strings.Join(lines, "\n"), ";\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(stmt), "CREATE OR REPLACE VIEW ")
		if !ok {
			continue
		}
		name, body, _ := strings.Cut(rest, " ")
		selects, froms := topLevelWords(body, "SELECT"), topLevelWords(body, "FROM")
		if len(selects) == 0 {
			t.Fatalf("view %s has no top-level SELECT", name)
		}
		start := selects[len(selects)-1] + len("SELECT")
		end := len(body)
		for _, f := range froms {
			if f > start {
				end = f
				break
			}
		}
		for _, item := range splitTopLevel(body[start:end]) {
			out[name] = append(out[name], alias(item))
		}
	}
	return out
}

// scan calls f with each byte index of s outside string literals and its parenthesis depth there.
func scan(s string, f func(i, depth int)) {
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		default:
			f(i, depth)
		}
	}
}

var word = regexp.MustCompile(`[A-Za-z_]`)

// topLevelWords returns where the keyword w starts at depth 0, as a whole word.
func topLevelWords(s, w string) []int {
	var at []int
	scan(s, func(i, depth int) {
		if depth == 0 && strings.HasPrefix(s[i:], w) && (i == 0 || !word.MatchString(s[i-1:i])) &&
			(i+len(w) == len(s) || !word.MatchString(s[i+len(w):i+len(w)+1])) {
			at = append(at, i)
		}
	})
	return at
}

// splitTopLevel splits a select list at its depth-0 commas.
func splitTopLevel(list string) []string {
	var items []string
	start := 0
	scan(list, func(i, depth int) {
		if depth == 0 && list[i] == ',' {
			items = append(items, strings.TrimSpace(list[start:i]))
			start = i + 1
		}
	})
	return append(items, strings.TrimSpace(list[start:]))
}

// alias is a select item's output name: after its last top-level AS, or the column it names.
func alias(item string) string {
	if as := topLevelWords(item, "AS"); len(as) > 0 {
		return strings.TrimSpace(item[as[len(as)-1]+2:])
	}
	return item[strings.LastIndex(item, ".")+1:]
}

// TestTheViewsHaveTheDuckDBViewsColumns holds views.sql to the DuckDB views of ../traces.sql: same views, same
// columns, same order, so a query runs unchanged on a laptop and in Athena.
func TestTheViewsHaveTheDuckDBViewsColumns(t *testing.T) {
	duck, err := os.ReadFile(filepath.Join("..", "traces.sql"))
	if err != nil {
		t.Fatal(err)
	}
	want, got := viewColumns(t, string(duck)), viewColumns(t, viewsSQL)
	for _, v := range []string{"spans", "traces", "runs", "tool_calls"} {
		if len(want[v]) == 0 {
			t.Errorf("traces.sql has no view %s", v)
		}
		if !slices.Equal(got[v], want[v]) {
			t.Errorf("view %s columns differ:\n Athena %v\n DuckDB %v", v, got[v], want[v])
		}
	}
	if len(got) != len(want) {
		t.Errorf("views.sql has views %v, traces.sql %v", keys(got), keys(want))
	}
	// The columns the brief names for the traces view, so an empty parse of both files cannot pass.
	for _, c := range []string{"started", "trace", "model", "dur_ms", "in_tokens", "out_tokens", "finish", "conversation_id",
		"system_prompt", "user_prompt", "assistant_response", "input_messages", "output_messages", "status", "batch_key",
		"source_file", "year", "month", "day"} {
		if !slices.Contains(got["traces"], c) {
			t.Errorf("traces view lacks %s: %v", c, got["traces"])
		}
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestViewsSplitsTheScriptIntoStatements(t *testing.T) {
	tests := []struct {
		name      string
		script    string
		wantNames []string
		wantErr   bool
	}{
		{"the shipped script yields the four views in order, spans first", viewsSQL, []string{"spans", "traces", "runs", "tool_calls"}, false},
		{"a file comment is not taken for the first view's comment",
			"-- file header\n\n-- the view\nCREATE OR REPLACE VIEW a AS\nSELECT 1 AS x;\n", []string{"a"}, false},
		{"a statement that is not a view is refused", "CREATE OR REPLACE VIEW a AS SELECT 1 AS x;\nDROP TABLE otlp_records;\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			views, err := parseViews(tt.script)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			var names []string
			for _, v := range views {
				names = append(names, v.Name)
				if strings.HasSuffix(v.SQL, ";") || strings.Contains(v.SQL, ";\n") || !strings.HasPrefix(v.SQL, "CREATE OR REPLACE VIEW "+v.Name+" AS") {
					t.Errorf("view %s is not one statement without its semicolon: %.60q", v.Name, v.SQL)
				}
			}
			if !tt.wantErr && !slices.Equal(names, tt.wantNames) {
				t.Errorf("views %v, want %v", names, tt.wantNames)
			}
		})
	}
	views, _ := parseViews("-- file header\n\n-- the view\nCREATE OR REPLACE VIEW a AS\nSELECT 1 AS x;\n")
	if views[0].Comment != "the view" {
		t.Errorf("comment %q, want the statement's own", views[0].Comment)
	}
	for _, v := range Views() {
		if v.Comment == "" {
			t.Errorf("view %s has no comment for its named query's description", v.Name)
		}
	}
}

// TestTheViewsReadOnlyTheTableAndEarlierViews checks each view's FROM: spans reads the tables, the others read
// spans, so running the statements in order always works.
func TestTheViewsReadOnlyTheTableAndEarlierViews(t *testing.T) {
	from := regexp.MustCompile(`\bFROM (\w+)`)
	var defined []string
	for _, v := range Views() {
		for _, m := range from.FindAllStringSubmatch(v.SQL, -1) {
			if src := m[1]; src != TableName && src != OversizeTableName && !slices.Contains(defined, src) && !strings.Contains(v.SQL, src+" AS (") {
				t.Errorf("view %s reads %s, which is neither the table, an earlier view nor its own CTE", v.Name, src)
			}
		}
		defined = append(defined, v.Name)
	}
}
