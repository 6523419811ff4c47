package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/agent-audit/agent-audit/function/app"
)

// TestMain keeps the tests' signing key out of the user's configuration directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "audit-cli-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv(app.EnvSigningKeyFile, filepath.Join(dir, "signing-key.pem"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
