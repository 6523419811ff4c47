// Command ticket-agent is a Pulumi Go program that deploys the example ticket agent (./function) with this
// project's components: an Object-Locked AuditBucket, an AuditFirehose into it, a SigningKey sealing every record,
// and an AgentFunction built from the example's own main package. `pulumi up` in this directory deploys it.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/components"
)

// FunctionPackage is the ticket agent's main package, relative to the module root (AgentFunction builds it).
const FunctionPackage = "./examples/ticket-agent/function"

func main() { pulumi.Run(Program) }

// Program composes the components; it reads no stack configuration beyond the provider's region.
func Program(ctx *pulumi.Context) error {
	bucket, err := components.NewAuditBucket(ctx, "ticket-audit", &components.AuditBucketArgs{RetentionDays: 183})
	if err != nil {
		return err
	}
	stream, err := components.NewAuditFirehose(ctx, "ticket-audit-stream", &components.AuditFirehoseArgs{Bucket: bucket})
	if err != nil {
		return err
	}
	signing, err := components.NewSigningKey(ctx, "ticket-signing", nil)
	if err != nil {
		return err
	}
	model, err := components.NewAgentModel(ctx, "ticket-model", nil)
	if err != nil {
		return err
	}
	fn, err := components.NewAgentFunction(ctx, "ticket-agent", &components.AgentFunctionArgs{
		Package:        FunctionPackage,
		Model:          model,
		Stream:         stream,
		AgentName:      "ticket-agent",
		SigningKeyARN:  signing.KeyARN,
		OversizeBucket: bucket,
	})
	if err != nil {
		return err
	}
	// Only the function's role may sign with the key: the key policy names it.
	if _, err := signing.AllowSigners(ctx, []pulumi.StringInput{fn.RoleARN}); err != nil {
		return err
	}
	ctx.Export("functionName", fn.FunctionName)
	ctx.Export("auditBucket", bucket.BucketName)
	ctx.Export("signingPublicKeyPem", signing.PublicKeyPEM)
	return nil
}
