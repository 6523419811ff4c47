// Command bootstrap is the audited demo agent as an AWS Lambda function (provided.al2023, arm64), one user of
// package agentaudit like any other: the configuration comes from the environment (see the README), the demo
// agent's tools and prompt from package demo, and agentaudit.Start assembles and serves.
//
// Build: CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o bootstrap ./function
package main

import (
	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/function/demo"
)

func main() {
	agentaudit.Start(demo.Options()...)
}
