package proctest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestGoToolPrefersWhatIsOnPath(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "agent-audit-fake-tool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	// The module does not exist: reaching `go install` would fail the test.
	if got := GoTool(t, "agent-audit-fake-tool", "example.invalid/nothing@v0.0.0"); got != tool {
		t.Fatalf("GoTool = %s, want %s", got, tool)
	}
}

func TestGoToolFindsTheGoBinDirectory(t *testing.T) {
	sep := string(os.PathListSeparator)
	for _, tc := range []struct {
		name string
		// env gives GOBIN and GOPATH from the test's temporary directories a and b.
		env func(a, b string) (gobin, gopath string)
		// dir is where go install puts tools, and so where the fake tool is placed.
		dir func(a, b string) string
	}{
		{"GOBIN set: GOBIN is the bin directory",
			func(a, b string) (string, string) { return a, b },
			func(a, b string) string { return a }},
		{"GOBIN empty: GOPATH/bin is the bin directory",
			func(a, b string) (string, string) { return "", b },
			func(a, b string) string { return filepath.Join(b, "bin") }},
		{"GOPATH lists several directories: the first one's bin is the bin directory",
			func(a, b string) (string, string) { return "", b + sep + a },
			func(a, b string) string { return filepath.Join(b, "bin") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			gobin, gopath := tc.env(a, b)
			t.Setenv("GOENV", "off") // the user's go.env must not decide the case under test
			t.Setenv("GOBIN", gobin)
			t.Setenv("GOPATH", gopath)
			want := tc.dir(a, b)
			got, err := goBinDir()
			if err != nil || got != want {
				t.Fatalf("goBinDir() = %q, %v; want %q", got, err, want)
			}
			if err := os.MkdirAll(want, 0o755); err != nil {
				t.Fatal(err)
			}
			tool := filepath.Join(want, "agent-audit-fake-tool-2")
			if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			// The module does not exist: reaching `go install` would fail the test.
			if got := GoTool(t, "agent-audit-fake-tool-2", "example.invalid/nothing@v0.0.0"); got != tool {
				t.Fatalf("GoTool = %s, want %s", got, tool)
			}
		})
	}
}

func TestBinDirNamesTheProblemWhenNothingIsSet(t *testing.T) {
	if dir, err := binDir("", ""); err == nil || !strings.Contains(err.Error(), "neither GOBIN nor GOPATH") {
		t.Fatalf("binDir(\"\", \"\") = %q, %v; want an error naming GOBIN and GOPATH", dir, err)
	}
}

func TestFreePortCanBeBound(t *testing.T) {
	p := FreePort()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if p == 0 || err != nil {
		t.Fatalf("port %d: %v", p, err)
	}
	l.Close()
}

// A port from the ephemeral range can be taken by any outgoing connection before a late bind: FreePort's ports
// come from below it.
func TestFreePortIsBelowTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	for range 50 {
		if p := FreePort(); p < lowestPort || p >= low {
			t.Fatalf("port %d, want one in [%d, %d)", p, lowestPort, low)
		}
	}
}

func TestOutputTakesConcurrentWrites(t *testing.T) {
	var out Output
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprintf(&out, "%d\n", i)
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(out.String(), "\n"); n != 800 {
		t.Fatalf("%d lines, want 800", n)
	}
}
