package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// executeWithStdin runs a command with stdin, as execute does.
func executeWithStdin(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCommand()
	cmd.SetArgs(sqlArguments(args))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(stdin))
	err := cmd.Execute()
	return out.String(), err
}

func TestQueryReadsSQLFromEveryPlaceAnOperatorKeepsIt(t *testing.T) {
	root, _ := demoRoot(t)
	const sql = "-- runs that called a tool\nSELECT count(*) AS n FROM runs WHERE tool_calls > 0"
	want := mustExecute(t, "query", "--root", root, "-o", "csv", "SELECT count(*) AS n FROM runs WHERE tool_calls > 0")
	file := filepath.Join(t.TempDir(), "q.sql")
	if err := os.WriteFile(file, []byte(sql), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]func() (string, error){
		"an argument that starts with a -- comment": func() (string, error) {
			return executeWithStdin(t, "", "query", "--root", root, "-o", "csv", sql)
		},
		"the comment before the flags": func() (string, error) { return executeWithStdin(t, "", "query", sql, "--root", root, "-o", "csv") },
		"-f FILE": func() (string, error) {
			return executeWithStdin(t, "", "query", "--root", root, "-o", "csv", "-f", file)
		},
		"-f - (stdin)": func() (string, error) {
			return executeWithStdin(t, sql, "query", "--root", root, "-o", "csv", "-f", "-")
		},
		"stdin without an argument": func() (string, error) { return executeWithStdin(t, sql, "query", "--root", root, "-o", "csv") },
	} {
		out, err := got()
		if err != nil || out != want {
			t.Errorf("%s: %q, %v; want %q", name, out, err, want)
		}
	}
	if _, err := executeWithStdin(t, "", "query", "--root", root); exitCode(err) != ExitUsage {
		t.Errorf("no SQL at all: exit %d (%v)", exitCode(err), err)
	}
}

func TestQueryRunsTheNamedQuestions(t *testing.T) {
	root, _ := demoRoot(t)
	list := mustExecute(t, "query", "--list")
	for _, name := range []string{"tokens-per-day", "slowest-runs", "failed-runs", "failed-tool-calls", "conversation", "over-budget"} {
		if !strings.Contains(list, name+" ") {
			t.Errorf("--list lacks %s:\n%s", name, list)
		}
	}
	if out := mustExecute(t, "query", "--root", root, "-o", "csv", "tokens-per-day"); !strings.HasPrefix(out, "day,model,model_calls,") {
		t.Errorf("tokens-per-day:\n%s", out)
	}
	if out := mustExecute(t, "query", "--root", root, "-o", "csv", "conversation", "--var", "conversation=demo-0"); strings.Count(out, "\n") < 3 {
		t.Errorf("conversation demo-0:\n%s", out)
	}
	if out := mustExecute(t, "query", "--root", root, "-o", "csv", "over-budget", "--var", "token_budget=1000000"); out != "started,trace,agent,tokens,turns,tool_calls,user_prompt\n" {
		t.Errorf("over-budget with a huge budget:\n%s", out)
	}
	if _, _, err := execute(t, "query", "--root", root, "tokens-per-week"); exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--list") {
		t.Errorf("an unknown name: %v", err)
	}
}

func TestQueryNamesTheViewsForAnUnknownTable(t *testing.T) {
	root, _ := demoRoot(t)
	_, _, err := execute(t, "query", "--root", root, "SELECT * FROM model_calls")
	if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "the views are: spans, traces, runs, tool_calls, oversize") {
		t.Fatalf("exit %d: %v", exitCode(err), err)
	}
}

// TestQueryIsReadOnly performs the writes an operator's SQL could attempt through audit query.
func TestQueryIsReadOnly(t *testing.T) {
	root, _ := demoRoot(t)
	elsewhere := t.TempDir()
	planted := filepath.Join(root, "traces", "planted.csv")
	for _, sql := range []string{
		"COPY (SELECT * FROM runs) TO '" + filepath.Join(elsewhere, "runs.csv") + "'",
		"COPY (SELECT 1) TO '" + planted + "'",
		"ATTACH '" + filepath.Join(elsewhere, "x.db") + "' AS x",
		"CREATE TABLE t AS SELECT 1",
		"SELECT 1; COPY (SELECT 1) TO '" + planted + "'",
		"SELECT * FROM read_text('/etc/hostname')",
		"SET enable_external_access = true",
	} {
		if _, _, err := execute(t, "query", "--root", root, sql); err == nil {
			t.Errorf("%s ran", sql)
		}
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) > 0 {
		t.Errorf("files written outside the root: %v", entries)
	}
	if _, err := os.Stat(planted); err == nil {
		t.Error("a file was written into the root")
	}
}
