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
	bin := t.TempDir()
	t.Setenv("GOBIN", bin)
	tool := filepath.Join(bin, "agent-audit-fake-tool-2")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := GoTool(t, "agent-audit-fake-tool-2", "example.invalid/nothing@v0.0.0"); got != tool {
		t.Fatalf("GoTool = %s, want %s", got, tool)
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
