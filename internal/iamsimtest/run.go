package iamsimtest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
)

// run sends request to a new engine process and decodes its answer into answer. Any failure of the process
// itself (not of a policy or a simulation, which are part of the answer) fails the test.
func run(t testing.TB, request, answer any) {
	t.Helper()
	e := engine(t)
	in, err := json.Marshal(request)
	if err != nil {
		t.Fatalf("iamsimtest: encode the request: %v", err)
	}
	cmd := exec.Command(e.node, e.script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("iamsimtest: node %s: %v\n%s", e.script, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), answer); err != nil {
		t.Fatalf("iamsimtest: decode the engine's answer: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
}
