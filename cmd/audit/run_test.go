package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/internal/audittest"
)

func execute(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCommand()
	cmd.SetArgs(sqlArguments(args)) // as main does
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(""))
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

var objectPath = regexp.MustCompile(`^traces/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/agent-audit-local-1-\d{4}(-\d{2}){5}-[0-9a-f]{16}\.gz$`)

func TestRunWritesTheTraceAsFirehoseWould(t *testing.T) {
	root := t.TempDir()
	stdout, stderr, err := execute(t, "run", "--root", root, "--conversation-id", "cli-1", "What is 6 * 7?")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	var resp handler.Response
	if err := json.Unmarshal([]byte(stdout), &resp); err != nil {
		t.Fatalf("stdout is not the response JSON: %v\n%s", err, stdout)
	}
	if resp.Status != "ok" || !strings.Contains(resp.Output, "42") {
		t.Fatalf("response %+v", resp)
	}
	records, objects := audittest.ReadRoot(t, root, "traces")
	if len(objects) != 1 || !objectPath.MatchString(objects[0]) {
		t.Fatalf("objects %v", objects)
	}
	if !strings.Contains(stderr, filepath.FromSlash(objects[0])) {
		t.Errorf("stderr does not say where the record went: %q", stderr)
	}
	spans := audittest.Decode(t, records)
	if len(spans) != 4 || spans[0].TraceID != resp.TraceID || spans[0].Attrs["gen_ai.conversation.id"] != "cli-1" {
		t.Fatalf("spans %+v", spans)
	}
}

func TestRunAuditsABadEventAndFails(t *testing.T) {
	root := t.TempDir()
	event := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(event, []byte(`{"prompt": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := execute(t, "run", "--root", root, "--event", event)
	if err == nil || !strings.Contains(err.Error(), "invalid event: prompt: must be a string, got number") {
		t.Fatalf("err %v", err)
	}
	records, _ := audittest.ReadRoot(t, root, "traces")
	spans := audittest.Decode(t, records)
	if len(spans) != 1 || spans[0].Attrs["error.type"] != "invalid_request" || !strings.Contains(err.Error(), spans[0].TraceID) {
		t.Fatalf("the rejection was not audited under the trace id the error names: %+v", spans)
	}
}

func TestRunWithContentOffRecordsNoPrompt(t *testing.T) {
	root := t.TempDir()
	if _, _, err := execute(t, "run", "--root", root, "--no-content", "What is 6 * 7? CLI-MARKER"); err != nil {
		t.Fatal(err)
	}
	records, _ := audittest.ReadRoot(t, root, "traces")
	if len(records) != 1 || bytes.Contains(records[0], []byte("CLI-MARKER")) {
		t.Fatal("content reached the record with --no-content")
	}
}

func TestRunRefusesBedrockWithoutAProfile(t *testing.T) {
	_, _, err := execute(t, "run", "--root", t.TempDir(), "--model", "bedrock", "--inference-profile-arn", "", "--model-id", "", "hi")
	if err == nil || !strings.Contains(err.Error(), "BEDROCK_INFERENCE_PROFILE_ARN") {
		t.Fatalf("err %v", err)
	}
}
