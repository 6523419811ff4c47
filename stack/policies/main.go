// Command policies writes every policy document the dev stack would deploy, one JSON file each, into a
// directory: the identity policy of every role, every trust policy, every key policy, every bucket policy and
// any other resource policy. It runs the real stack program (package stack/program) on Pulumi's mock engine with
// the configuration of Pulumi.dev.yaml, so the documents carry realistic ARNs (account 123456789012, the stack's
// region). It is to the stack's IAM what `cdk synth` is to a CDK app's.
//
//	go run ./stack/policies DIR
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/agent-audit/agent-audit/components"
	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

func main() {
	if len(os.Args) != 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintln(os.Stderr, "usage: go run ./stack/policies DIR")
		os.Exit(2)
	}
	n, err := write(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "policies:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d policy documents to %s\n", n, os.Args[1])
}

// write runs the dev stack on the mocks and writes its documents into dir.
func write(dir string) (int, error) {
	root, err := components.FindModuleRoot(".")
	if err != nil {
		return 0, err
	}
	config, err := DevStack(root)
	if err != nil {
		return 0, err
	}
	docs, err := Documents(pulumitest.Stack, config, nil, root)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	for _, d := range docs {
		var body any
		if err := json.Unmarshal(d.Document, &body); err != nil {
			return 0, fmt.Errorf("%s: %w", d.Name, err)
		}
		b, err := json.MarshalIndent(struct {
			Name       string `json:"name"`
			Kind       string `json:"kind"`
			AttachedTo string `json:"attachedTo"`
			Document   any    `json:"document"`
		}{d.Name, d.Kind, d.AttachedTo, body}, "", "  ")
		if err != nil {
			return 0, err
		}
		file := strings.NewReplacer(" ", "-", "/", "-", ":", "-").Replace(d.Name) + ".json"
		if err := os.WriteFile(filepath.Join(dir, file), append(b, '\n'), 0o644); err != nil {
			return 0, err
		}
	}
	return len(docs), nil
}
