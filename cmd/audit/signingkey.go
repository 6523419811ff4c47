package main

import (
	"os"
	"path/filepath"

	"github.com/agent-audit/agent-audit/agentenv"
)

// defaultKeyFile is the local signing key `audit run` and `audit demo` seal with and `audit verify` checks
// against: $AUDIT_SIGNING_KEY_FILE (as the function reads it), else signing-key.pem in the user's configuration directory
// (~/.config/agent-audit on Linux), created at first use.
func defaultKeyFile() string {
	if p := os.Getenv(agentenv.SigningKeyFile); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ".agent-audit-signing-key.pem"
	}
	return filepath.Join(dir, "agent-audit", "signing-key.pem")
}
