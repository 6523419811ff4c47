package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runOf is the trace ID and object path of the first run the SQL condition selects.
func runOf(t *testing.T, root, cond string) (id, path string) {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal([]byte(mustExecute(t, "query", "--root", root, "-o", "json", "SELECT trace, source_file FROM runs WHERE "+cond+" ORDER BY started LIMIT 1")), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("no run where %s: %v", cond, err)
	}
	return rows[0]["trace"].(string), rows[0]["source_file"].(string)
}

func TestShowGivesTheSealDateStatusAndEvents(t *testing.T) {
	root, _ := demoRoot(t)
	id, _ := runOf(t, root, "tool_calls = 1")
	out := mustExecute(t, "show", "--root", root, id)
	head := strings.SplitN(out, "\n\n", 2)[0]
	if !regexp.MustCompile(`started \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC`).MatchString(head) {
		t.Errorf("no date and time in the header:\n%s", head)
	}
	if !regexp.MustCompile(`seal: verifies  chain [0-9a-f]{32} seq \d+  key sha256:[0-9a-f]{64} \(issuer local:sha256:[0-9a-f]{64}\)  sealed .* traces/.*\.gz line 1`).MatchString(head) {
		t.Errorf("no seal status in the header:\n%s", head)
	}

	failed, _ := runOf(t, root, "error_type = 'ThrottlingException'")
	out = mustExecute(t, "show", "--root", root, failed)
	for _, want := range []string{"ERROR: ", "status ERROR: ", "event exception at +", "exception.type  ThrottlingException", "exception.message  "} {
		if !strings.Contains(out, want) {
			t.Errorf("a failed run's show lacks %q:\n%s", want, out)
		}
	}
}

func TestShowSaysWhichSealDoesNotVerify(t *testing.T) {
	root, _ := demoRoot(t)
	id, file := runOf(t, root, "tool_calls = 1")
	other, _ := runOf(t, root, "tool_calls = 0 AND status = 'OK'")
	rewrite(t, file, `"agent-audit"`, `"agent-audiT"`)
	if out := mustExecute(t, "show", "--root", root, id); !strings.Contains(out, "seal: DOES NOT VERIFY: ") {
		t.Fatalf("a changed record's show:\n%s", strings.SplitN(out, "\n\n", 2)[0])
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(mustExecute(t, "runs", "--root", root, "--verified-only", "-o", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, r := range listed {
		found[r["trace"].(string)] = true
	}
	if found[id] || !found[other] || len(listed) != 19 {
		t.Fatalf("--verified-only listed %d runs (the changed one: %v, another: %v), want the 19 unchanged", len(listed), found[id], found[other])
	}
	if _, _, err := execute(t, "runs", "--root", root, "--verified-only", "--public-key", filepath.Join(t.TempDir(), "none.pem")); exitCode(err) != ExitUsage {
		t.Fatalf("a missing key: exit %d (%v)", exitCode(err), err)
	}
}

func TestShowNamesARemoteParent(t *testing.T) {
	root := filepath.Join(t.TempDir(), "audit-data")
	const parent = "00f067aa0ba902b7"
	mustExecute(t, "run", "--root", root, "--traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-"+parent+"-01", "Say hello.")
	out := mustExecute(t, "show", "--root", root, "4bf92f35")
	if !strings.Contains(out, "remote parent: "+parent+", the caller's span (traceparent) of invoke_agent") {
		t.Fatalf("show of a run called with a traceparent:\n%s", out)
	}
}

func TestShowMessagesIsTheConversationTurnByTurn(t *testing.T) {
	root, _ := demoRoot(t)
	id, _ := runOf(t, root, "tool_calls = 1 AND user_prompt LIKE 'What is % * 23?'")
	out := mustExecute(t, "show", "--root", root, "--messages", id)
	want := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^run ` + id + `  started .* UTC  conversation demo-\d+  agent agent-audit$`),
		regexp.MustCompile(`(?m)^system: You are a concise`),
		regexp.MustCompile(`(?m)^turn 1  chat offline  \d+ in \+ \d+ out tokens`),
		regexp.MustCompile(`(?m)^  user: What is \d+ \* 23\?$`),
		regexp.MustCompile(`(?m)^  assistant calls calculator \{"expression":"\d+ \* 23"\}  \(\S+\)$`),
		regexp.MustCompile(`(?m)^turn 2  chat offline  \d+ in \+ \d+ out tokens`),
		regexp.MustCompile(`(?m)^  tool calculator → \{"expression":"\d+ \* 23","value":"\d+"\}$`),
		regexp.MustCompile(`(?m)^  assistant: \d+ \* 23 = \d+$`),
		regexp.MustCompile(`(?m)^2 turns, \d+ in \+ \d+ out tokens$`),
	}
	last := -1
	for _, re := range want {
		loc := re.FindStringIndex(out)
		if loc == nil || loc[0] < last {
			t.Fatalf("--messages lacks, or misorders, %s:\n%s", re, out)
		}
		last = loc[0]
	}

	mustExecute(t, "run", "--root", root, "--no-content", "--conversation-id", "quiet", "What is 2 * 3?")
	quiet, _ := runOf(t, root, "conversation_id = 'quiet'")
	if out := mustExecute(t, "show", "--root", root, "--messages", quiet); !strings.Contains(out, "content not recorded") || !strings.Contains(out, "turn 2") {
		t.Fatalf("--messages of a run without content:\n%s", out)
	}
}

func TestRunsListsOneConversationInOrder(t *testing.T) {
	root, _ := demoRoot(t)
	var all, conv []map[string]any
	json.Unmarshal([]byte(mustExecute(t, "query", "--root", root, "-o", "json", "SELECT trace FROM runs WHERE conversation_id = 'demo-1' ORDER BY started")), &all)
	if err := json.Unmarshal([]byte(mustExecute(t, "runs", "--root", root, "--conversation", "demo-1", "-o", "json")), &conv); err != nil {
		t.Fatal(err)
	}
	if len(conv) != len(all) || len(conv) < 2 {
		t.Fatalf("--conversation demo-1 listed %d runs, the view has %d", len(conv), len(all))
	}
	for i := range conv {
		if conv[i]["trace"] != all[i]["trace"] || conv[i]["conversation_id"] != "demo-1" {
			t.Fatalf("run %d is %v, want %v (in order)", i, conv[i]["trace"], all[i]["trace"])
		}
	}
}

// Issue 14 point 6: a nested attribute value prints as JSON, never as Go's `[stop]` or `map[…]`.
func TestNestedAttributeValuesPrintAsJSON(t *testing.T) {
	for raw, want := range map[string]string{
		`{"stringValue":"stop"}`:                                                              `stop`,
		`{"intValue":"9007199254740993"}`:                                                     `9007199254740993`,
		`{"arrayValue":{"values":[{"stringValue":"stop"}]}}`:                                  `["stop"]`,
		`{"arrayValue":{"values":[{"intValue":"1"},{"boolValue":true},{"doubleValue":0.5}]}}`: `[1,true,0.5]`,
		`{"kvlistValue":{"values":[{"key":"z","value":{"intValue":"1"}},{"key":"a","value":{"arrayValue":{"values":[]}}}]}}`: `{"z":1,"a":[]}`,
		`"{\"arrayValue\":{\"values\":[{\"stringValue\":\"a b\"}]}}"`:                                                        `["a b"]`,
	} {
		if got := anyValue(json.RawMessage(raw)); got != want {
			t.Errorf("anyValue(%s) = %s, want %s", raw, got, want)
		}
	}
}
