package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteGivesOneFilePerDocument runs what `go run ./stack/policies DIR` runs and reads the files back in the
// documented shape.
func TestWriteGivesOneFilePerDocument(t *testing.T) {
	dir := t.TempDir()
	n, err := write(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != n || n < 20 {
		t.Fatalf("%d files for %d documents (%v)", len(files), n, err)
	}
	kinds := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Name, Kind, AttachedTo string
			Document               struct{ Statement []json.RawMessage }
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.Name == "" || !strings.HasPrefix(d.AttachedTo, "arn:aws:") || len(d.Document.Statement) == 0 {
			t.Errorf("%s: %+v", f, d)
		}
		kinds[d.Kind]++
	}
	// Six roles (a trust and an identity policy each), six key policies (the audit and query-results keys', and
	// the creation and attached policies of the signing and digest keys), two bucket policies and the alarm
	// topic's.
	want := map[string]int{"trust": 6, "identity": 6, "key": 6, "bucket": 2, "other": 1}
	for k, v := range want {
		if kinds[k] != v {
			t.Errorf("%d %s documents, want %d (all: %v)", kinds[k], k, v, kinds)
		}
	}
}
