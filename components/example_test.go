package components_test

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/components"
)

// Use the audit store and its delivery stream from another Pulumi Go program: the bucket keeps what any
// producer sends to the stream for a year, in COMPLIANCE mode.
func ExampleNewAuditFirehose() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		bucket, err := components.NewAuditBucket(ctx, "team-audit", &components.AuditBucketArgs{
			RetentionDays: 365,
			RetentionMode: components.RetentionCompliance,
		})
		if err != nil {
			return err
		}
		stream, err := components.NewAuditFirehose(ctx, "team-audit-stream", &components.AuditFirehoseArgs{Bucket: bucket})
		if err != nil {
			return err
		}
		ctx.Export("auditBucket", bucket.BucketName)
		ctx.Export("firehoseStream", stream.StreamName)
		return nil
	})
}
