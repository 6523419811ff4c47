// Command stack is the Pulumi program of agent-audit (Pulumi.yaml: runtime go, main stack/). It reads the
// stack's configuration, composes the components and exports what an operator needs; package stack/program holds
// all of it.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/stack/program"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := program.Deploy(ctx, "")
		return err
	})
}
