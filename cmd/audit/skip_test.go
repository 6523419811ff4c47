package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/trail/verify"
)

// damagedDemoRoot is a demo root with one object changed by a byte and a stray file beside the records.
func damagedDemoRoot(t *testing.T) string {
	t.Helper()
	root, _ := demoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "traces", "*", "*", "*", "*", "*.gz"))
	if err != nil || len(files) < 2 {
		t.Fatalf("objects: %v %v", files, err)
	}
	sort.Strings(files)
	b, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(files[1], b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(files[0]), "notes.txt"), []byte("call the on-call\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// skippedKeys reads the keys a read command named on stderr as skipped.
func skippedKeys(stderr string) []string {
	var keys []string
	for _, l := range strings.Split(stderr, "\n") {
		if k, _, ok := strings.Cut(strings.TrimPrefix(l, "  "), ": "); ok && strings.HasPrefix(l, "  traces/") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func TestReadsSkipWhatVerifyReportsUnreadable(t *testing.T) {
	root := damagedDemoRoot(t)
	out, _, err := execute(t, "verify", "--root", root, "-o", "json")
	if exitCode(err) != ExitProblems {
		t.Fatalf("verify of a damaged root: %v", err)
	}
	var rep verify.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var reported []string
	for _, f := range rep.Findings {
		if (f.Kind == verify.KindUnreadableObject || f.Kind == verify.KindMalformedRecord) && !slices.Contains(reported, f.Key) {
			reported = append(reported, f.Key)
		}
	}
	sort.Strings(reported)
	if len(reported) != 2 {
		t.Fatalf("verify reports %v unreadable, want the changed object and the stray file", reported)
	}

	for _, args := range [][]string{
		{"runs", "--since", "24h"},
		{"query", "SELECT count(*) AS n FROM spans"},
	} {
		out, stderr, err := execute(t, append(args, "--root", root)...)
		if err != nil {
			t.Fatalf("%s on a damaged root: %v\n%s", args[0], err, stderr)
		}
		if out == "" || !strings.Contains(stderr, "skipped 2 unreadable objects") {
			t.Fatalf("%s: stdout %q stderr %q", args[0], out, stderr)
		}
		if got := skippedKeys(stderr); !slices.Equal(got, reported) {
			t.Fatalf("%s skipped %v, verify reports %v", args[0], got, reported)
		}
		_, _, err = execute(t, append(args, "--root", root, "--strict")...)
		if exitCode(err) != ExitCannotCheck {
			t.Fatalf("%s --strict exits %d (%v), want %d", args[0], exitCode(err), err, ExitCannotCheck)
		}
	}
	id := strings.TrimSpace(strings.Split(mustExecute(t, "query", "--root", root, "-o", "csv", "SELECT trace FROM runs LIMIT 1"), "\n")[1])
	if out, stderr, err := execute(t, "show", "--root", root, id); err != nil || !strings.HasPrefix(out, "trace "+id) {
		t.Fatalf("show on a damaged root: %v\n%s%s", err, out, stderr)
	}
}

func TestAReadWithNothingReadableFails(t *testing.T) {
	root, _ := demoRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, "traces", "*", "*", "*", "*", "*.gz"))
	for _, f := range files {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := execute(t, "runs", "--root", root)
	if exitCode(err) != ExitCannotCheck || !strings.Contains(err.Error(), "can be read") {
		t.Fatalf("exit %d: %v", exitCode(err), err)
	}
}

// mustExecute runs the command and returns its stdout, failing the test on error.
func mustExecute(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := execute(t, args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr)
	}
	return out
}
