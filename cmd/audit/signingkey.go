package main

import (
	"os"
	"path/filepath"
)

// EnvSigningKeyFile overrides where the local signing key lives.
const EnvSigningKeyFile = "AUDIT_SIGNING_KEY_FILE"

// defaultKeyFile is the local signing key `audit run` and `audit demo` seal with and `audit verify` checks
// against: $AUDIT_SIGNING_KEY_FILE, else signing-key.pem in the user's configuration directory
// (~/.config/agent-audit on Linux), created at first use.
func defaultKeyFile() string {
	if p := os.Getenv(EnvSigningKeyFile); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ".agent-audit-signing-key.pem"
	}
	return filepath.Join(dir, "agent-audit", "signing-key.pem")
}
