// Command stack is the Pulumi program of agent-audit (Pulumi.yaml: runtime go, main stack/). It reads the
// stack's configuration, composes the components and exports what an operator needs.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg, err := ReadConfig(ctx.GetConfig, ctx.IsConfigSecret)
		if err != nil {
			return err
		}
		out, err := Program(ctx, cfg, "")
		if err != nil {
			return err
		}
		out.Export(ctx)
		return nil
	})
}
