// Package program is the agent-audit Pulumi program as a library: it reads and validates the stack's
// configuration (ReadConfig), composes the components (Program) and exports what an operator needs (Deploy).
// Command stack runs Deploy under `pulumi up`; stack/policies runs it on Pulumi's mock engine to write out every
// policy document the stack would deploy.
package program

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Deploy is the whole program: read and validate the stack's configuration, compose the components, export the
// outputs. moduleRoot is as for Program. The tests and stack/policies run exactly this on the mock engine.
func Deploy(ctx *pulumi.Context, moduleRoot string) (*Outputs, error) {
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
