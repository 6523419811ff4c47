package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agent-audit/agent-audit/agentenv"
)

func TestHelpSaysEachDefaultOnce(t *testing.T) {
	t.Setenv(agentenv.InferenceProfileARN, "arn:aws:bedrock:eu-central-1:123456789012:application-inference-profile/x")
	t.Setenv(agentenv.ModelID, "claude-haiku-4-5")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			fs := pflag.NewFlagSet("", pflag.ContinueOnError)
			fs.AddFlag(f)
			if line := fs.FlagUsages(); strings.Count(line, "default") > 1 {
				t.Errorf("audit %s --%s says its default twice:%s", c.Name(), f.Name, line)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand())
}

// nestedSQL selects one value of every shape a view can hold.
const nestedSQL = `SELECT 2 AS zeta, {'a': 1, 'b': [1, 2]} AS struct_col, [1, 2] AS list_col, MAP {'k': 'v', 'a': 'z'} AS map_col,
	NULL AS null_col, '{"x":1}'::JSON AS json_col, '4bf92f35-77b3-4da6-a3ce-929d0e0e4736'::UUID AS uuid_col, 1 AS alpha`

func TestRowsPrintNestedValuesAsJSONAndNullAsNULL(t *testing.T) {
	root, _ := demoRoot(t)
	table := mustExecute(t, "query", "--root", root, nestedSQL)
	for _, want := range []string{`{"a":1,"b":[1,2]}`, `[1,2]`, `{"k":"v","a":"z"}`, "NULL", `{"x":1}`, "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %s:\n%s", want, table)
		}
	}
	if strings.Contains(table, "map[") || strings.Contains(table, "[1 2]") {
		t.Errorf("table prints Go values:\n%s", table)
	}
	csvOut := mustExecute(t, "query", "--root", root, "-o", "csv", nestedSQL)
	if !strings.Contains(csvOut, `"{""a"":1,""b"":[1,2]}"`) || !strings.Contains(csvOut, `,"[1,2]",`) || strings.Contains(csvOut, "NULL") {
		t.Errorf("csv:\n%s", csvOut)
	}

	out := mustExecute(t, "query", "--root", root, "-o", "json", nestedSQL)
	var keys []string
	for _, m := range regexp.MustCompile(`(?m)^    "([^"]+)":`).FindAllStringSubmatch(out, -1) {
		keys = append(keys, m[1])
	}
	if got, want := strings.Join(keys, ","), "zeta,struct_col,list_col,map_col,null_col,json_col,uuid_col,alpha"; got != want {
		t.Fatalf("JSON keys %s, want the SELECT's order %s", got, want)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || rows[0]["null_col"] != nil || rows[0]["uuid_col"] != "4bf92f35-77b3-4da6-a3ce-929d0e0e4736" {
		t.Fatalf("json %v: %s", err, out)
	}
}

func TestTablesFitColumnsUnlessWide(t *testing.T) {
	root, _ := demoRoot(t)
	const sql = "SELECT trace, user_prompt, output, status FROM runs ORDER BY started LIMIT 5"
	t.Setenv("COLUMNS", "80")
	fitted := mustExecute(t, "query", "--root", root, sql)
	for _, l := range strings.Split(strings.TrimSpace(fitted), "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("a %d-character line with COLUMNS=80: %q", n, l)
		}
	}
	if !strings.Contains(fitted, "…") {
		t.Errorf("nothing was cut to fit:\n%s", fitted)
	}
	wide := mustExecute(t, "query", "--root", root, "--wide", sql)
	var whole []map[string]any
	if err := json.Unmarshal([]byte(mustExecute(t, "query", "--root", root, "-o", "json", sql)), &whole); err != nil {
		t.Fatal(err)
	}
	for _, r := range whole {
		if !strings.Contains(wide, r["trace"].(string)) || !strings.Contains(fitted, r["trace"].(string)) {
			t.Fatalf("trace %s is cut", r["trace"])
		}
		if p, _ := r["user_prompt"].(string); !strings.Contains(wide, p) {
			t.Fatalf("--wide cut the prompt %q:\n%s", p, wide)
		}
	}
}

func TestShowOutputIsTheWaterfallOrTheRecordsOrRefused(t *testing.T) {
	root, _ := demoRoot(t)
	id := strings.TrimSpace(strings.Split(mustExecute(t, "query", "--root", root, "-o", "csv", "SELECT trace FROM runs LIMIT 1"), "\n")[1])
	if a, b := mustExecute(t, "show", "--root", root, "-o", "json", id), mustExecute(t, "show", "--root", root, "--json", id); a != b || !strings.HasPrefix(a, `{"resourceSpans"`) {
		t.Fatalf("show -o json is not the records --json prints:\n%s", a)
	}
	if _, _, err := execute(t, "show", "--root", root, "-o", "csv", id); exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "audit query -o csv") {
		t.Fatalf("show -o csv: exit %d %v", exitCode(err), err)
	}
}
