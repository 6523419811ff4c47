package components

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

func TestAuditFirehoseSettingsAndLeastPrivilege(t *testing.T) {
	var stream *AuditFirehose
	m := run(t, func(ctx *pulumi.Context) (err error) {
		stream, err = NewAuditFirehose(ctx, "stream", &AuditFirehoseArgs{
			BucketARN: pulumi.String("arn:aws:s3:::audit"),
			KeyARN:    pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/k1"),
		})
		return err
	})
	assertChildren(t, m, "agent-audit:index:AuditFirehose", "stream")
	outputs := map[string]pulumi.StringOutput{
		"stream": stream.StreamName, "arn:aws:firehose:eu-west-1:123456789012:deliverystream/stream": stream.StreamARN,
		"arn:aws:iam::123456789012:role/stream-role": stream.RoleARN, "/aws/kinesisfirehose/stream": stream.LogGroupName,
	}
	for want, o := range outputs {
		if got := pulumitest.AwaitString(t, o); got != want {
			t.Errorf("output %q, want %q", got, want)
		}
	}
	fh := m.One(t, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "stream").Inputs
	want := map[string]string{
		"destination":                                                    "extended_s3",
		"extendedS3Configuration.bucketArn":                              "arn:aws:s3:::audit",
		"extendedS3Configuration.kmsKeyArn":                              "arn:aws:kms:eu-west-1:123456789012:key/k1",
		"extendedS3Configuration.prefix":                                 "traces/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
		"extendedS3Configuration.errorOutputPrefix":                      "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/",
		"extendedS3Configuration.compressionFormat":                      "GZIP",
		"extendedS3Configuration.cloudwatchLoggingOptions.logGroupName":  "/aws/kinesisfirehose/stream",
		"extendedS3Configuration.cloudwatchLoggingOptions.logStreamName": "S3Delivery",
		"serverSideEncryption.keyType":                                   "AWS_OWNED_CMK",
		"extendedS3Configuration.roleArn":                                "arn:aws:iam::123456789012:role/stream-role",
	}
	for path, v := range want {
		if got := str(fh, path); got != v {
			t.Errorf("%s = %q, want %q", path, got, v)
		}
	}
	if num(fh, "extendedS3Configuration.bufferingSize") != 5 || num(fh, "extendedS3Configuration.bufferingInterval") != 60 ||
		!pulumitest.Get(fh, "serverSideEncryption.enabled").BoolValue() || !pulumitest.Get(fh, "extendedS3Configuration.cloudwatchLoggingOptions.enabled").BoolValue() {
		t.Errorf("buffering/encryption/logging %v", fh)
	}
	if num(m.One(t, "aws:cloudwatch/logGroup:LogGroup", "stream-errors").Inputs, "retentionInDays") != 30 {
		t.Error("log retention")
	}

	trust := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/role:Role", "stream-role").Inputs, "assumeRolePolicy"))
	// The Firehose developer guide's trust condition: sts:ExternalId is the account id.
	if trust.Statement[0].Principal["Service"][0] != "firehose.amazonaws.com" || fmt.Sprint(trust.Statement[0].Condition) != "map[StringEquals:map[sts:ExternalId:123456789012]]" {
		t.Errorf("trust %+v", trust)
	}
	got := statementsByAction(pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "stream-delivery").Inputs, "policy")))
	objects := "arn:aws:s3:::audit/errors/*,arn:aws:s3:::audit/traces/*"
	wantGrants := map[string]string{
		"s3:PutObject":                  objects,
		"s3:GetObject":                  objects,
		"s3:AbortMultipartUpload":       objects,
		"s3:GetBucketLocation":          "arn:aws:s3:::audit",
		"s3:ListBucket":                 "arn:aws:s3:::audit",
		"s3:ListBucketMultipartUploads": "arn:aws:s3:::audit",
		"kms:GenerateDataKey":           "arn:aws:kms:eu-west-1:123456789012:key/k1",
		"kms:Decrypt":                   "arn:aws:kms:eu-west-1:123456789012:key/k1",
		"logs:PutLogEvents":             "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesisfirehose/stream:*",
	}
	if len(got) != len(wantGrants) {
		t.Errorf("role grants %d actions, want exactly %d: %v", len(got), len(wantGrants), got)
	}
	for a, r := range wantGrants {
		if got[a] != r {
			t.Errorf("%s on %q, want %q", a, got[a], r)
		}
	}
	for _, st := range pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "stream-delivery").Inputs, "policy")).Statement {
		if st.Sid == "EncryptAuditObjects" && fmt.Sprint(st.Condition) != "map[StringEquals:map[kms:EncryptionContext:aws:s3:arn:arn:aws:s3:::audit kms:ViaService:s3.eu-west-1.amazonaws.com]]" {
			t.Errorf("the bucket key may be used outside S3 or for another bucket: %v", st.Condition)
		}
	}
}

func TestAuditFirehoseOptions(t *testing.T) {
	m := run(t, func(ctx *pulumi.Context) error {
		b, err := NewAuditBucket(ctx, "audit", nil)
		if err != nil {
			return err
		}
		zero := 0
		_, err = NewAuditFirehose(ctx, "stream", &AuditFirehoseArgs{Bucket: b, BufferingSizeMB: 64, BufferingIntervalSeconds: &zero,
			StreamKeyARN: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/stream")})
		return err
	})
	for _, r := range m.Resources() {
		if strings.HasPrefix(r.Name, "stream") && r.Type != "agent-audit:index:AuditFirehose" &&
			r.Parent != pulumitest.ComponentURN("agent-audit:index:AuditFirehose", "stream") {
			t.Errorf("%s %s is not a child of the stream component", r.Type, r.Name)
		}
	}
	fh := m.One(t, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "stream").Inputs
	if num(fh, "extendedS3Configuration.bufferingSize") != 64 || num(fh, "extendedS3Configuration.bufferingInterval") != 0 ||
		str(fh, "serverSideEncryption.keyType") != "CUSTOMER_MANAGED_CMK" || str(fh, "serverSideEncryption.keyArn") != "arn:aws:kms:eu-west-1:123456789012:key/stream" ||
		str(fh, "extendedS3Configuration.bucketArn") != "arn:aws:s3:::audit" ||
		str(fh, "extendedS3Configuration.kmsKeyArn") != "arn:aws:kms:eu-west-1:123456789012:key/key-audit-key" {
		t.Errorf("inputs %v", fh)
	}

	err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		big := 901
		_, err := NewAuditFirehose(ctx, "stream", &AuditFirehoseArgs{BufferingSizeMB: 129, BufferingIntervalSeconds: &big, LogRetentionDays: 2})
		return err
	})
	for _, field := range []string{"Bucket", "BufferingSizeMB", "BufferingIntervalSeconds", "LogRetentionDays"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
}
