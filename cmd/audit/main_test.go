package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/agent-audit/agent-audit/agentenv"
)

// TestMain keeps the tests' signing key out of the user's configuration directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "audit-cli-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv(agentenv.SigningKeyFile, filepath.Join(dir, "signing-key.pem"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
