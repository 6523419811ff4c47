package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestDemoShowsWhatItSaysAndLeavesARootTheOtherCommandsFind(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv(EnvAuditBucket, "")
	out := mustExecute(t, "demo", "--runs", "30")
	if !strings.Contains(out, "The 12 newest of the 30 runs") {
		t.Errorf("the demo does not say how many runs it lists:\n%s", out)
	}
	m := regexp.MustCompile(`The waterfall of ([0-9a-f]{32}), listed above:\ntrace ([0-9a-f]{32})`).FindStringSubmatch(out)
	if m == nil || m[1] != m[2] {
		t.Fatalf("no waterfall of a named run:\n%s", out)
	}
	table := out[:strings.Index(out, "The waterfall of")]
	if strings.Count(table, "\n20") != 12 || !strings.Contains(table, m[1]) {
		t.Fatalf("the waterfall's run %s is not among the 12 listed:\n%s", m[1], table)
	}
	if !strings.Contains(out, "Next: audit runs   audit show "+m[1][:8]+"   audit query \"SELECT …\"") {
		t.Errorf("the next commands are not the ones that find ./audit-data:\n%s", out[strings.LastIndex(out, "\n\n"):])
	}
	if entries, err := os.ReadDir(DefaultRoot); err != nil || len(entries) == 0 {
		t.Fatalf("the demo did not write %s: %v", DefaultRoot, err)
	}
	if listed := mustExecute(t, "runs", "--limit", "100", "-o", "csv"); strings.Count(listed, "\n") != 31 {
		t.Errorf("audit runs without --root lists %d lines, want the 30 runs and a header", strings.Count(listed, "\n"))
	}
	if _, _, err := execute(t, "demo"); exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a second demo into ./audit-data: exit %d (%v)", exitCode(err), err)
	}
}

func TestOfflineSpansDoNotClaimBedrock(t *testing.T) {
	root, _ := demoRoot(t)
	out := mustExecute(t, "query", "--root", root, "-o", "csv", "SELECT DISTINCT otel_str(attributes, 'gen_ai.provider.name') AS provider FROM spans WHERE operation IN ('chat', 'invoke_agent') ORDER BY 1")
	if out != "provider\nagent_audit.offline\n" {
		t.Fatalf("the offline model's spans name provider %q", out)
	}
	// The views read the offline runs as before: model calls, runs and tokens.
	if n := mustExecute(t, "query", "--root", root, "-o", "csv", "SELECT count(*) AS n FROM traces WHERE model = 'offline' AND in_tokens > 0"); n == "n\n0\n" {
		t.Fatal("the traces view lost the offline model calls")
	}
}

func TestARecordSaysWhetherItsContentWasCaptured(t *testing.T) {
	root := t.TempDir() + "/audit-data"
	mustExecute(t, "run", "--root", root, "--conversation-id", "with", "What is 2 * 3?")
	mustExecute(t, "run", "--root", root, "--conversation-id", "without", "--no-content", "What is 2 * 3?")
	out := mustExecute(t, "query", "--root", root, "-o", "csv",
		"SELECT otel_str(attributes, 'gen_ai.conversation.id') AS conversation_id, otel_bool(resource, 'agent_audit.content.captured') AS captured, count(*) AS spans FROM spans GROUP BY ALL ORDER BY 1")
	if out != "conversation_id,captured,spans\nwith,true,4\nwithout,false,4\n" {
		t.Fatalf("content capture on the resource:\n%s", out)
	}
}
