package main

import (
	"os"

	"github.com/spf13/cobra"
)

// EnvAuditBucket names the bucket the read commands query when no --root is given.
const EnvAuditBucket = "AUDIT_BUCKET"

// newRootCommand builds the command tree; tests execute it in-process.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "audit",
		Short:         "Run the audited agent locally and work with its audit trail",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newRunCommand(), newQueryCommand(), newTracesCommand(), newShowCommand(), newVerifyCommand(), newDigestCommand(), newDemoCommand(), newReplayCommand())
	return root
}

// defaultReadRoot is where the read commands look: s3://$AUDIT_BUCKET when set, else the local run's directory.
func defaultReadRoot() string {
	if b := os.Getenv(EnvAuditBucket); b != "" {
		return "s3://" + b
	}
	return DefaultRoot
}
