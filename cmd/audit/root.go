package main

import "github.com/spf13/cobra"

// newRootCommand builds the command tree; tests execute it in-process.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "audit",
		Short:         "Run the audited agent locally and work with its audit trail",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCommand())
	return root
}
