package program

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/testing/diagtest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
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

// TestProjectFilesLoadAsPulumiLoadsThem reads Pulumi.yaml and Pulumi.dev.yaml with the Pulumi SDK's own loaders
// (the CLI's validation: schema, namespaced project config, stack config against the project).
func TestProjectFilesLoadAsPulumiLoadsThem(t *testing.T) {
	root := moduleRoot(t)
	project, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if project.Name.String() != Namespace || project.Runtime.Name() != "go" || project.Main != "stack/" {
		t.Errorf("project %q runtime %q main %q, want %s, go, stack/", project.Name, project.Runtime.Name(), project.Main, Namespace)
	}
	if _, err := workspace.LoadProjectStack(diagtest.LogSink(t), project, filepath.Join(root, "Pulumi.dev.yaml")); err != nil {
		t.Fatal(err)
	}
}
