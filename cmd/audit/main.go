// Command audit is the operator CLI of agent-audit. `audit run` runs the audited agent locally through the same
// handler the Lambda function runs, writing the trace exactly as Firehose would deliver it to S3.
package main

import (
	"fmt"
	"os"
)

func main() {
	root := newRootCommand()
	root.SetArgs(sqlArguments(os.Args[1:]))
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "audit:", err)
		os.Exit(exitCode(err))
	}
}
