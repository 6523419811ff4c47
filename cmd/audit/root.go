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
		Use:   "audit",
		Short: "Run the audited agent locally and work with its audit trail",
		Long:  "Run the audited agent locally and work with its audit trail.\n\n" + exitCodesHelp,
		// Runnable, so that an unknown command reaches unknownCommand (a usage error) instead of cobra's help.
		Args:          unknownCommand,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("audit {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newRunCommand(), newQueryCommand(), newRunsCommand(), newShowCommand(), newVerifyCommand(), newDigestCommand(), newDemoCommand(), newReplayCommand())
	return root
}

// defaultReadRoot is where the read commands look: s3://$AUDIT_BUCKET when set, else the local run's directory.
func defaultReadRoot() string {
	if b := os.Getenv(EnvAuditBucket); b != "" {
		return "s3://" + b
	}
	return DefaultRoot
}

// registerRootFlag adds --root to a command that reads an audit root. Its default is empty, so the help says
// the default once (in the usage text) and readRoot resolves it when the command runs.
func registerRootFlag(cmd *cobra.Command, root *string) {
	cmd.Flags().StringVar(root, "root", "", "audit root: a local directory or s3://bucket; without it s3://$"+EnvAuditBucket+" when that is set, else "+DefaultRoot)
}

// readRoot is the root a read command uses: the --root given, else defaultReadRoot.
func readRoot(flag string) string {
	if flag != "" {
		return flag
	}
	return defaultReadRoot()
}
