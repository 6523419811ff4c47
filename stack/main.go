// Command stack is the Pulumi program of agent-audit (Pulumi.yaml: runtime go, main stack/). It reads the
// stack's configuration, composes the components and exports what an operator needs.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := deployStack(ctx, "")
		return err
	})
}

// deployStack is the whole program: read and validate the stack's configuration, compose the components,
// export the outputs. moduleRoot is as for Program. The tests run exactly this on the mock engine.
func deployStack(ctx *pulumi.Context, moduleRoot string) (*Outputs, error) {
	cfg, err := ReadConfig(ctx.GetConfig, ctx.IsConfigSecret)
	if err != nil {
		return nil, err
	}
	out, err := Program(ctx, cfg, moduleRoot)
	if err != nil {
		return nil, err
	}
	for name, value := range out.Exports() {
		ctx.Export(name, value)
	}
	return out, nil
}
