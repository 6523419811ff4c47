package components

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kinesis"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Prefixes the delivery stream writes under. Every query of the project reads the traces prefix as Hive
// partitions (year=/month=/day=/hour=).
const (
	TracesPrefix      = "traces/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
	ErrorOutputPrefix = "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
)

// AuditFirehose defaults.
const (
	DefaultBufferingSizeMB          = 5
	DefaultBufferingIntervalSeconds = 60
	DefaultLogRetentionDays         = 30
	// S3DeliveryLogStream is the log stream Firehose writes delivery errors to.
	S3DeliveryLogStream = "S3Delivery"
)

// AuditFirehoseArgs configures an AuditFirehose. Give Bucket, or BucketARN and KeyARN for a bucket made elsewhere.
type AuditFirehoseArgs struct {
	// Bucket is the AuditBucket to deliver into.
	Bucket *AuditBucket
	// BucketARN and KeyARN name any other destination bucket and the KMS key that encrypts it.
	BucketARN pulumi.StringInput
	KeyARN    pulumi.StringInput
	// BufferingSizeMB flushes an object when this much has arrived (1–128 MB; default 5).
	BufferingSizeMB int
	// BufferingIntervalSeconds flushes an object this long after its first record (0–900 s; nil means 60).
	BufferingIntervalSeconds *int
	// LogRetentionDays keeps Firehose's delivery-error log this long (default 30).
	LogRetentionDays int
	// StreamKeyARN encrypts the stream with this customer-managed key; nil uses an AWS-owned key.
	StreamKeyARN pulumi.StringInput
	// StreamName is the physical stream name; empty uses the component name.
	StreamName string
}

// AuditFirehose is the delivery stream from the function to the audit bucket: GZIP objects under
// TracesPrefix, delivery errors logged to CloudWatch, the stream encrypted, and a role allowed exactly what
// delivery needs.
type AuditFirehose struct {
	pulumi.ResourceState

	StreamName   pulumi.StringOutput
	StreamARN    pulumi.StringOutput
	RoleARN      pulumi.StringOutput
	LogGroupName pulumi.StringOutput
}

func (a *AuditFirehoseArgs) resolve() (AuditFirehoseArgs, error) {
	out := AuditFirehoseArgs{}
	if a != nil {
		out = *a
	}
	var errs []error
	switch {
	case out.Bucket != nil && (out.BucketARN != nil || out.KeyARN != nil):
		errs = append(errs, errors.New("Bucket: give either Bucket or BucketARN and KeyARN, not both"))
	case out.Bucket != nil:
		out.BucketARN, out.KeyARN = out.Bucket.BucketARN, out.Bucket.KeyARN
	case out.BucketARN == nil || out.KeyARN == nil:
		errs = append(errs, errors.New("Bucket: required (or BucketARN and KeyARN)"))
	}
	if out.BufferingSizeMB == 0 {
		out.BufferingSizeMB = DefaultBufferingSizeMB
	}
	if out.BufferingIntervalSeconds == nil {
		d := DefaultBufferingIntervalSeconds
		out.BufferingIntervalSeconds = &d
	}
	if out.LogRetentionDays == 0 {
		out.LogRetentionDays = DefaultLogRetentionDays
	}
	if out.BufferingSizeMB < 1 || out.BufferingSizeMB > 128 {
		errs = append(errs, fmt.Errorf("BufferingSizeMB: %d is outside 1..128", out.BufferingSizeMB))
	}
	if s := *out.BufferingIntervalSeconds; s < 0 || s > 900 {
		errs = append(errs, fmt.Errorf("BufferingIntervalSeconds: %d is outside 0..900", s))
	}
	if !validLogRetention(out.LogRetentionDays) {
		errs = append(errs, fmt.Errorf("LogRetentionDays: %d is not a CloudWatch Logs retention period", out.LogRetentionDays))
	}
	return out, errors.Join(errs...)
}

// NewAuditFirehose creates the delivery stream, its role and its error log. It returns one error naming every
// bad argument.
func NewAuditFirehose(ctx *pulumi.Context, name string, args *AuditFirehoseArgs, opts ...pulumi.ResourceOption) (*AuditFirehose, error) {
	cfg, err := args.resolve()
	if err != nil {
		return nil, fmt.Errorf("audit firehose %s: %w", name, err)
	}
	c := &AuditFirehose{}
	if err := ctx.RegisterComponentResource(typeToken("AuditFirehose"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	env, err := lookupAWSEnv(ctx, parent)
	if err != nil {
		return nil, err
	}
	streamName := cfg.StreamName
	if streamName == "" {
		streamName = name
	}

	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-errors", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/kinesisfirehose/" + streamName),
		RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
	}, parent)
	if err != nil {
		return nil, err
	}
	logStream, err := cloudwatch.NewLogStream(ctx, name+"-s3-delivery", &cloudwatch.LogStreamArgs{
		LogGroupName: logGroup.Name,
		Name:         pulumi.String(S3DeliveryLogStream),
	}, parent)
	if err != nil {
		return nil, err
	}

	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(mustJSON(firehoseTrust(env.account))),
	}, parent)
	if err != nil {
		return nil, err
	}
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-delivery", &iam.RolePolicyArgs{
		Role:   role.ID(),
		Policy: PolicyJSON(func(v []string) PolicyDocument { return firehoseDeliveryPolicy(env, v[0], v[1], v[2]) }, cfg.BucketARN, cfg.KeyARN, logGroup.Arn),
	}, parent)
	if err != nil {
		return nil, err
	}

	sse := &kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs{Enabled: pulumi.Bool(true), KeyType: pulumi.String("AWS_OWNED_CMK")}
	if cfg.StreamKeyARN != nil {
		sse.KeyType, sse.KeyArn = pulumi.String("CUSTOMER_MANAGED_CMK"), cfg.StreamKeyARN
	}
	stream, err := kinesis.NewFirehoseDeliveryStream(ctx, name, &kinesis.FirehoseDeliveryStreamArgs{
		Name:                 pulumi.String(streamName),
		Destination:          pulumi.String("extended_s3"),
		ServerSideEncryption: sse,
		ExtendedS3Configuration: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs{
			RoleArn:           role.Arn,
			BucketArn:         cfg.BucketARN,
			KmsKeyArn:         cfg.KeyARN,
			Prefix:            pulumi.String(TracesPrefix),
			ErrorOutputPrefix: pulumi.String(ErrorOutputPrefix),
			BufferingSize:     pulumi.Int(cfg.BufferingSizeMB),
			BufferingInterval: pulumi.Int(*cfg.BufferingIntervalSeconds),
			CompressionFormat: pulumi.String("GZIP"),
			CloudwatchLoggingOptions: &kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs{
				Enabled:       pulumi.Bool(true),
				LogGroupName:  logGroup.Name,
				LogStreamName: logStream.Name,
			},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
	if err != nil {
		return nil, err
	}

	c.StreamName, c.StreamARN, c.RoleARN, c.LogGroupName = stream.Name, stream.Arn, role.Arn, logGroup.Name
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"streamName": c.StreamName, "streamArn": c.StreamARN, "roleArn": c.RoleARN, "logGroupName": c.LogGroupName,
	})
}

// firehoseDeliveryPolicy allows what the Firehose developer guide lists for an S3 destination ("Grant Firehose
// access to an Amazon S3 destination"), on the two prefixes Firehose writes: objects, multipart uploads (Firehose
// uses them for large objects, and aborts them on failure), finding the bucket, the bucket's key through S3 only and
// for this bucket only (with a bucket key, S3's encryption context is the bucket's ARN), and logging delivery
// errors. No s3:PutObjectRetention: S3 applies the bucket's default retention itself, which needs no permission
// of the writer.
func firehoseDeliveryPolicy(env awsEnv, bucketARN, keyARN, logGroupARN string) PolicyDocument {
	return PolicyDocument{Statement: []PolicyStatement{
		{
			Sid: "FindTheBucket", Effect: "Allow",
			Action:   []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"},
			Resource: []string{bucketARN},
		},
		{
			Sid: "WriteAuditObjects", Effect: "Allow",
			Action:   []string{"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"},
			Resource: []string{bucketARN + "/traces/*", bucketARN + "/errors/*"},
		},
		{
			Sid: "EncryptAuditObjects", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: []string{keyARN},
			Condition: map[string]map[string]any{"StringEquals": {
				"kms:ViaService":                   "s3." + env.region + "." + env.dnsSuffix,
				"kms:EncryptionContext:aws:s3:arn": bucketARN,
			}},
		},
		{Sid: "LogDeliveryErrors", Effect: "Allow", Action: []string{"logs:PutLogEvents"}, Resource: []string{logGroupARN + ":*"}},
	}}
}

// firehoseTrust lets Firehose assume the delivery role for this account only, with the condition the Firehose
// developer guide gives ("Allow Firehose to assume an IAM role"): sts:ExternalId set to the account id.
func firehoseTrust(account string) PolicyDocument {
	return PolicyDocument{Statement: []PolicyStatement{{
		Effect:    "Allow",
		Principal: map[string][]string{"Service": {"firehose.amazonaws.com"}},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]map[string]any{"StringEquals": {"sts:ExternalId": account}},
	}}}
}

// serviceTrust lets an AWS service assume a role on behalf of this account only.
func serviceTrust(service, account string) PolicyDocument {
	return PolicyDocument{Statement: []PolicyStatement{{
		Effect:    "Allow",
		Principal: map[string][]string{"Service": {service}},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": account}},
	}}}
}

// validLogRetention tells the retention periods CloudWatch Logs accepts.
func validLogRetention(days int) bool {
	switch days {
	case 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653:
		return true
	}
	return false
}
