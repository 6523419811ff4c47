package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRunsCountsWhatTheRunsViewCounts(t *testing.T) {
	root, _ := demoRoot(t)
	var listed []map[string]any
	if err := json.Unmarshal([]byte(mustExecute(t, "runs", "--root", root, "-o", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	var counted []map[string]any
	if err := json.Unmarshal([]byte(mustExecute(t, "query", "--root", root, "-o", "json", "SELECT count(*) AS n FROM runs")), &counted); err != nil {
		t.Fatal(err)
	}
	if n := counted[0]["n"]; n != float64(len(listed)) || len(listed) != 20 {
		t.Fatalf("audit runs lists %d, SELECT count(*) FROM runs counts %v", len(listed), n)
	}
	out, stderr, err := execute(t, "traces", "--root", root, "-o", "json")
	if err != nil || !strings.Contains(stderr, "`audit traces` is now `audit runs`") || strings.Count(out, `"trace":`) != 20 {
		t.Fatalf("the old name: %v %q", err, stderr)
	}
}

func TestSuccessfulRunsShowOK(t *testing.T) {
	root, _ := demoRoot(t)
	var ok []map[string]any
	if err := json.Unmarshal([]byte(mustExecute(t, "runs", "--root", root, "--status", "ok", "-o", "json")), &ok); err != nil {
		t.Fatal(err)
	}
	if len(ok) != 17 {
		t.Fatalf("--status ok: %d runs, want the demo's 17 successful ones", len(ok))
	}
	for _, r := range ok {
		if r["status"] != "OK" {
			t.Fatalf("a successful run shows status %v", r["status"])
		}
	}
	stored := mustExecute(t, "query", "--root", root, "-o", "csv", "SELECT DISTINCT status FROM spans WHERE name LIKE 'invoke_agent%' ORDER BY 1")
	if stored != "status\nERROR\nUNSET\n" {
		t.Fatalf("the spans view shows %q, want the stored ERROR and UNSET", stored)
	}
	if help := mustExecute(t, "runs", "--help"); !strings.Contains(help, "stores it as UNSET") {
		t.Errorf("runs --help does not say why success is stored as UNSET")
	}
}
