package components_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

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
		ctx.Export("firehoseStream", stream.StreamName)
		return nil
	})
}

// Prove an audit bucket complete: a signed digest of its object versions every 15 minutes, written by a Lambda
// with its own role and key; whoever audits gets the key's public half.
func ExampleNewDigestWriter() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		bucket, err := components.NewAuditBucket(ctx, "team-audit", nil)
		if err != nil {
			return err
		}
		digests, err := components.NewDigestWriter(ctx, "team-audit-digest", &components.DigestWriterArgs{
			Bucket: bucket,
			Period: 15 * time.Minute,
		})
		if err != nil {
			return err
		}
		ctx.Export("digestPublicKeyPem", digests.DigestPublicKeyPEM)
		return nil
	})
}

// The README shows ExampleNewAuditFirehose as the way to reuse the components; this keeps the two the same, so
// the README's code is code that compiles.
func TestREADMEShowsTheCompiledExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile("(?s)### Use the components in your own Pulumi project.*?```go\n(.*?)```").FindSubmatch(readme)
	if section == nil {
		t.Fatal("README has no Go block under \"Use the components in your own Pulumi project\"")
	}
	run := regexp.MustCompile(`(?s)\tpulumi\.Run\(.*?\n\t}\)\n`)
	shown, compiled := run.Find(section[1]), run.Find(example)
	if shown == nil || compiled == nil {
		t.Fatalf("no pulumi.Run block in the README (%v) or the example (%v)", shown != nil, compiled != nil)
	}
	if strings.TrimSpace(string(shown)) != strings.TrimSpace(string(compiled)) {
		t.Errorf("the README's program differs from ExampleNewAuditFirehose:\nREADME:\n%s\nexample:\n%s", shown, compiled)
	}
}
