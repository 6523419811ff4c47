package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// documentedKey is a commented-out `agent-audit:<key>: <default>` line of Pulumi.dev.yaml.
var documentedKey = regexp.MustCompile(`^\s*#\s*` + Namespace + `:(\w+):\s*("[^"]*"|\S+)`)

// TestPulumiDevYAMLDocumentsEveryKeyWithItsRealDefault reads the defaults Pulumi.dev.yaml shows, sets them all
// explicitly, and expects the configuration ReadConfig gives with nothing set; it also expects the file to list
// every key ReadConfig reads (logfireToken is documented in the header, as it must be set with --secret).
func TestPulumiDevYAMLDocumentsEveryKeyWithItsRealDefault(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(moduleRoot(t), "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if m := documentedKey.FindStringSubmatch(line); m != nil {
			documented[Namespace+":"+m[1]] = strings.Trim(m[2], `"`)
		}
	}
	if !strings.Contains(string(raw), "pulumi config set --secret logfireToken") {
		t.Error("Pulumi.dev.yaml does not say how to set logfireToken")
	}

	var read []string
	readConfig := func(values map[string]string) Config {
		t.Helper()
		read = read[:0]
		cfg, err := ReadConfig(func(key string) (string, bool) {
			read = append(read, key)
			v, ok := values[key]
			return v, ok
		}, func(string) bool { return true })
		if err != nil {
			t.Fatalf("config %v: %v", values, err)
		}
		return cfg
	}
	email := documented[Namespace+":alertEmail"]
	if email == "" {
		t.Fatal("Pulumi.dev.yaml does not show alertEmail")
	}
	defaults := readConfig(map[string]string{Namespace + ":alertEmail": email})
	if shown := readConfig(documented); shown != defaults {
		t.Errorf("the defaults Pulumi.dev.yaml shows are not the real ones:\nshown   %+v\ndefault %+v", shown, defaults)
	}

	var missing, unknown []string
	for _, key := range read {
		if _, ok := documented[key]; !ok && key != Namespace+":logfireToken" {
			missing = append(missing, key)
		}
	}
	for key := range documented {
		if !slices.Contains(read, key) {
			unknown = append(unknown, key)
		}
	}
	sort.Strings(unknown)
	if len(missing) != 0 || len(unknown) != 0 {
		t.Errorf("Pulumi.dev.yaml lacks %v and shows keys the program never reads: %v", missing, unknown)
	}
}
