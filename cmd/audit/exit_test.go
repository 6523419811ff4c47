package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestEveryCommandExitsByOneScheme(t *testing.T) {
	root, _ := demoRoot(t)
	missing := filepath.Join(t.TempDir(), "nothing-here")
	broken := t.TempDir()
	if err := os.CopyFS(broken, os.DirFS(root)); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(broken, "traces", "*", "*", "*", "*", "*.gz"))
	for _, f := range files {
		os.WriteFile(f, []byte("x"), 0o644)
	}
	for _, c := range []struct {
		name string
		args []string
		want int
	}{
		{"a listing that works succeeds", []string{"runs", "--root", root}, ExitOK},
		{"an unknown command is a usage error", []string{"tarces"}, ExitUsage},
		{"an unknown flag is a usage error", []string{"runs", "--sinze", "1h"}, ExitUsage},
		{"a bad --limit is a usage error", []string{"runs", "--root", root, "--limit", "0"}, ExitUsage},
		{"a bad --status is a usage error", []string{"runs", "--root", root, "--status", "maybe"}, ExitUsage},
		{"a stray argument to traces is a usage error", []string{"runs", "--root", root, "extra"}, ExitUsage},
		{"SQL that does not parse is a usage error", []string{"query", "--root", root, "SELEC 1"}, ExitUsage},
		{"a view that does not exist is a usage error", []string{"query", "--root", root, "SELECT * FROM nope"}, ExitUsage},
		{"show without a trace is a usage error", []string{"show", "--root", root}, ExitUsage},
		{"a trace prefix that matches nothing is a usage error", []string{"show", "--root", root, "ffffffff"}, ExitUsage},
		{"demo --runs 0 is a usage error", []string{"demo", "--runs", "0"}, ExitUsage},
		{"a root that does not exist cannot be read", []string{"runs", "--root", missing}, ExitCannotCheck},
		{"query of a missing root cannot be read", []string{"query", "--root", missing, "SELECT 1"}, ExitCannotCheck},
		{"show of a missing root cannot be read", []string{"show", "--root", missing, "abc"}, ExitCannotCheck},
		{"verify of a missing root cannot check", []string{"verify", "--root", missing}, ExitCannotCheck},
		{"a root where nothing can be read cannot be read", []string{"runs", "--root", broken}, ExitCannotCheck},
		{"verify of a broken root finds problems", []string{"verify", "--root", broken}, ExitProblems},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := execute(t, c.args...)
			if got := exitCode(err); got != c.want {
				t.Fatalf("audit %s: exit %d (%v), want %d", strings.Join(c.args, " "), got, err, c.want)
			}
		})
	}
}

func TestTheRootHelpDocumentsTheExitCodes(t *testing.T) {
	out, _, err := execute(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Exit status", "0  success", "1  an integrity problem", "2  usage error", "3  the trail could not be read", "4  the command failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestVersionNamesTheModuleVersionAndRevision(t *testing.T) {
	out, _, err := execute(t, "--version")
	if err != nil || out != "audit "+version()+"\n" {
		t.Fatalf("--version printed %q (%v)", out, err)
	}
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/agent-audit/agent-audit", Version: "v0.4.1"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "f02b1650c0ffee"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-12-01T21:00:00Z"}}}
	if got, want := versionOf(info), "v0.4.1, revision f02b1650c0ffee-dirty, committed 2026-12-01T21:00:00Z, go1.26.8"; got != want {
		t.Fatalf("versionOf = %q, want %q", got, want)
	}
	if got := versionOf(&debug.BuildInfo{GoVersion: "go1.26.8"}); got != "(devel), go1.26.8" {
		t.Fatalf("a build without stamps: %q", got)
	}
}
