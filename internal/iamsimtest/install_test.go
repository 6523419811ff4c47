package iamsimtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindNodeSaysWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		name string
		// node is the script put on PATH as node, none if empty.
		node string
		want string
	}{
		{"no node on PATH", "", "node not found on PATH"},
		{"a node older than 20", "#!/bin/sh\necho v18.19.0\n", "is Node.js v18.19.0: the IAM engine needs Node.js 20 or newer"},
		{"a node that does not print a version", "#!/bin/sh\necho hello\n", `--version printed "hello"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.node != "" {
				if err := os.WriteFile(filepath.Join(dir, "node"), []byte(tc.node), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", dir)
			if node, err := findNode(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("findNode() = %q, %v; want an error containing %q", node, err, tc.want)
			}
		})
	}
}
