package components

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Object Lock retention modes.
const (
	RetentionGovernance = "GOVERNANCE"
	RetentionCompliance = "COMPLIANCE"
)

// AuditBucket defaults.
const (
	DefaultRetentionDays = 7
	// DefaultKeyDeletionWindowDays is KMS's longest waiting period: deleting the bucket's key makes every record
	// unreadable, locked or not, so a scheduled deletion gets the most time to be seen and cancelled.
	DefaultKeyDeletionWindowDays = 30
	// GlacierTransitionDays is when current versions of at least GlacierMinObjectBytes move to Glacier Instant
	// Retrieval, for a retention of at least GlacierMinRetentionDays.
	GlacierTransitionDays = 90
	// GlacierMinRetentionDays is the shortest retention with a Glacier transition: Glacier Instant Retrieval bills
	// at least 90 days of storage, so an object moved at day 90 must stay 90 more days for the move not to add an
	// early-deletion charge.
	GlacierMinRetentionDays = GlacierTransitionDays + 90
	// GlacierMinObjectBytes is the smallest object that moves: Glacier Instant Retrieval bills every object as at
	// least 128 KB, so a smaller one would cost more there than in S3 Standard. (S3's default minimum for
	// transitions; stated in the rule so that it holds whatever the bucket's default is.)
	GlacierMinObjectBytes = 128 * 1024
	// AbortIncompleteUploadDays is when the lifecycle aborts a multipart upload that never completed (its parts
	// are billed and invisible to readers).
	AbortIncompleteUploadDays = 7
)

// AuditBucketArgs configures an AuditBucket. Plan-time values are plain Go types; zero values select defaults.
type AuditBucketArgs struct {
	// RetentionDays is the Object Lock default retention and the lifecycle horizon, in days (1–36500; default 7).
	// Production audit horizons are typically years; the EU AI Act asks for at least six months (183 days).
	RetentionDays int
	// RetentionMode is RetentionGovernance (default; deletable with s3:BypassGovernanceRetention) or
	// RetentionCompliance (nobody, not even the account root, can shorten or remove it).
	RetentionMode string
	// KeyDeletionWindowDays is the KMS key's waiting period before deletion, in days (7–30; default 30).
	KeyDeletionWindowDays int
	// BreakGlassRoleARN is the one IAM role that may still bypass governance retention, change the Object Lock
	// configuration, and schedule the deletion of or disable the bucket's key (optional; with none, nobody may).
	// The bucket and key policies deny those actions to every other principal, administrators included.
	BreakGlassRoleARN string
	// BucketName is the physical bucket name; empty lets Pulumi derive a unique one from the component name.
	BucketName string
	// ForceDestroy lets `pulumi destroy` empty the bucket (default false). Only with RetentionCompliance: the
	// provider empties a bucket with s3:BypassGovernanceRetention, so in GOVERNANCE mode it would erase locked
	// records, and that combination is refused. In COMPLIANCE mode locked versions refuse deletion until their
	// retention ends, so destroy fails until then.
	ForceDestroy bool
}

// AuditBucket is the audit store: an S3 bucket with Object Lock, versioning, public access blocked, SSE-KMS with
// its own key and bucket key, default retention, lifecycle by retention and a bucket policy (GuardPolicy).
//
// The key is kept when the stack is destroyed (Pulumi's RetainOnDelete): deleting it would make every locked
// record unreadable. Its policy denies kms:ScheduleKeyDeletion and kms:DisableKey to everyone but the break-glass
// role; the account keeps kms:PutKeyPolicy, so KMS's lockout safety check passes and the key stays manageable.
type AuditBucket struct {
	pulumi.ResourceState

	// BucketName and BucketARN identify the bucket.
	BucketName pulumi.StringOutput
	BucketARN  pulumi.StringOutput
	// KeyARN, KeyID and AliasName identify its KMS key.
	KeyARN    pulumi.StringOutput
	KeyID     pulumi.StringOutput
	AliasName pulumi.StringOutput
}

func (a *AuditBucketArgs) withDefaults() (AuditBucketArgs, error) {
	out := AuditBucketArgs{}
	if a != nil {
		out = *a
	}
	if out.RetentionDays == 0 {
		out.RetentionDays = DefaultRetentionDays
	}
	if out.RetentionMode == "" {
		out.RetentionMode = RetentionGovernance
	}
	if out.KeyDeletionWindowDays == 0 {
		out.KeyDeletionWindowDays = DefaultKeyDeletionWindowDays
	}
	var errs []error
	if out.RetentionDays < 1 || out.RetentionDays > 36500 {
		errs = append(errs, fmt.Errorf("RetentionDays: %d is outside 1..36500", out.RetentionDays))
	}
	if out.RetentionMode != RetentionGovernance && out.RetentionMode != RetentionCompliance {
		errs = append(errs, fmt.Errorf("RetentionMode: %q is not %s or %s", out.RetentionMode, RetentionGovernance, RetentionCompliance))
	}
	if out.KeyDeletionWindowDays < 7 || out.KeyDeletionWindowDays > 30 {
		errs = append(errs, fmt.Errorf("KeyDeletionWindowDays: %d is outside 7..30", out.KeyDeletionWindowDays))
	}
	if out.BreakGlassRoleARN != "" && !isRoleARN(out.BreakGlassRoleARN) {
		errs = append(errs, fmt.Errorf("BreakGlassRoleARN: %q is not an IAM role ARN", out.BreakGlassRoleARN))
	}
	if out.ForceDestroy && out.RetentionMode != RetentionCompliance {
		errs = append(errs, fmt.Errorf("ForceDestroy: refused with %s retention: `pulumi destroy` would empty the bucket with s3:BypassGovernanceRetention and erase locked records; use %s, or leave ForceDestroy false", out.RetentionMode, RetentionCompliance))
	}
	return out, errors.Join(errs...)
}

// NewAuditBucket creates the bucket, its key and their configuration. It returns one error naming every bad
// argument.
func NewAuditBucket(ctx *pulumi.Context, name string, args *AuditBucketArgs, opts ...pulumi.ResourceOption) (*AuditBucket, error) {
	cfg, err := args.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("audit bucket %s: %w", name, err)
	}
	c := &AuditBucket{}
	if err := ctx.RegisterComponentResource(typeToken("AuditBucket"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	account, partition, err := accountAndPartition(ctx, parent)
	if err != nil {
		return nil, err
	}

	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.Sprintf("Encrypts the %s audit bucket.", name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(cfg.KeyDeletionWindowDays),
		Policy:               pulumi.String(mustJSON(ProtectKey(AccountKeyPolicy(partition, account), cfg.BreakGlassRoleARN))),
	}, parent, pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, err
	}
	alias, err := kms.NewAlias(ctx, name+"-key-alias", &kms.AliasArgs{
		Name:        pulumi.String("alias/" + name + "-audit"),
		TargetKeyId: key.KeyId,
	}, parent)
	if err != nil {
		return nil, err
	}

	bucketArgs := &s3.BucketV2Args{ObjectLockEnabled: pulumi.Bool(true), ForceDestroy: pulumi.Bool(cfg.ForceDestroy)}
	if cfg.BucketName != "" {
		bucketArgs.Bucket = pulumi.String(cfg.BucketName)
	}
	bucket, err := s3.NewBucketV2(ctx, name, bucketArgs, parent)
	if err != nil {
		return nil, err
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name+"-versioning", &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, parent)
	if err != nil {
		return nil, err
	}
	if err := blockPublicAndEncrypt(ctx, name, bucket, key.Arn, parent); err != nil {
		return nil, err
	}
	// Object Lock default retention and the lifecycle rules both need versioning in place first.
	afterVersioning := pulumi.DependsOn([]pulumi.Resource{versioning})
	lock, err := s3.NewBucketObjectLockConfigurationV2(ctx, name+"-object-lock", &s3.BucketObjectLockConfigurationV2Args{
		Bucket: bucket.ID(),
		Rule: &s3.BucketObjectLockConfigurationV2RuleArgs{
			DefaultRetention: &s3.BucketObjectLockConfigurationV2RuleDefaultRetentionArgs{
				Mode: pulumi.String(cfg.RetentionMode),
				Days: pulumi.Int(cfg.RetentionDays),
			},
		},
	}, parent, afterVersioning)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-lifecycle", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  lifecycleRules(cfg.RetentionDays),
	}, parent, afterVersioning); err != nil {
		return nil, err
	}
	// The policy denies s3:PutBucketObjectLockConfiguration to the deployer too, so it goes on after the lock
	// configuration the deployer applies.
	policy := PolicyJSON(func(v []string) PolicyDocument { return GuardPolicy(v[0], v[1], cfg.BreakGlassRoleARN) }, bucket.Arn, key.Arn)
	if _, err := s3.NewBucketPolicy(ctx, name+"-policy", &s3.BucketPolicyArgs{Bucket: bucket.ID(), Policy: policy},
		parent, pulumi.DependsOn([]pulumi.Resource{lock}), pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(name + "-tls-only")}})); err != nil {
		return nil, err
	}

	c.BucketName, c.BucketARN = bucket.Bucket, bucket.Arn
	c.KeyARN, c.KeyID, c.AliasName = key.Arn, key.KeyId, alias.Name
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"bucketName": c.BucketName, "bucketArn": c.BucketARN, "keyArn": c.KeyARN, "keyId": c.KeyID, "aliasName": c.AliasName,
	})
}

// lifecycleRules expire current versions at the retention horizon (S3 then keeps them as noncurrent, and the
// lock still holds them until their own retention ends), delete noncurrent versions a day later, remove the
// delete markers that expiry leaves once no version is behind them (else every expired record leaves one for
// good), and abort multipart uploads that never completed. Only when the retention is at least
// GlacierMinRetentionDays does a rule move current versions of at least GlacierMinObjectBytes to Glacier IR;
// shorter retentions or smaller objects would pay more there. (Noncurrent versions live one day, so they get no
// transition.)
func lifecycleRules(retentionDays int) s3.BucketLifecycleConfigurationV2RuleArray {
	everything := &s3.BucketLifecycleConfigurationV2RuleFilterArgs{}
	rules := s3.BucketLifecycleConfigurationV2RuleArray{
		&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                          pulumi.String("expire-at-retention-horizon"),
			Status:                      pulumi.String("Enabled"),
			Filter:                      everything,
			Expiration:                  &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(retentionDays)},
			NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(1)},
		},
		// S3 takes ExpiredObjectDeleteMarker only in a rule whose expiration names no days or date.
		&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:         pulumi.String("remove-expired-delete-markers"),
			Status:     pulumi.String("Enabled"),
			Filter:     everything,
			Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(AbortIncompleteUploadDays),
			},
		},
	}
	if retentionDays >= GlacierMinRetentionDays {
		rules = append(rules, &s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("glacier-ir-after-90-days"),
			Status: pulumi.String("Enabled"),
			Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{ObjectSizeGreaterThan: pulumi.Int(GlacierMinObjectBytes - 1)},
			Transitions: s3.BucketLifecycleConfigurationV2RuleTransitionArray{&s3.BucketLifecycleConfigurationV2RuleTransitionArgs{
				Days: pulumi.Int(GlacierTransitionDays), StorageClass: pulumi.String("GLACIER_IR"),
			}},
		})
	}
	return rules
}

// AccountKeyPolicy delegates a KMS key's authorisation to IAM in the account: the account principal
// (arn:<partition>:iam::<account>:root means "this account, governed by IAM", not the root user) may use the key,
// so grants live on role policies. It is the one policy in the project that allows kms:* on "*": in a key
// policy "*" means "this key".
func AccountKeyPolicy(partition, account string) PolicyDocument {
	return PolicyDocument{Statement: []PolicyStatement{{
		Sid:       "EnableIAMUserPermissions",
		Effect:    "Allow",
		Principal: map[string][]string{"AWS": {fmt.Sprintf("arn:%s:iam::%s:root", partition, account)}},
		Action:    []string{"kms:*"},
		Resource:  []string{"*"},
	}}}
}

// GuardPolicy is the audit bucket's policy. It refuses requests without TLS; it denies s3:BypassGovernanceRetention
// and s3:PutBucketObjectLockConfiguration to every principal except breakGlassRoleARN (to everyone when it is
// empty), so not even an administrator with s3:* can delete a governance-locked version or change the lock; and it
// refuses writes that ask for any encryption but SSE-KMS with keyARN (a write that names none gets the bucket's
// default, which is keyARN). Replacing this policy is the way around it: the stack's TamperAlarms report every
// PutBucketPolicy on the bucket.
func GuardPolicy(bucketARN, keyARN, breakGlassRoleARN string) PolicyDocument {
	everyone := map[string][]string{"AWS": {"*"}}
	guard := PolicyStatement{
		Sid: "OnlyBreakGlassBypassesTheLock", Effect: "Deny", Principal: everyone,
		Action:   []string{"s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration"},
		Resource: []string{bucketARN, bucketARN + "/*"},
	}
	if breakGlassRoleARN != "" {
		guard.Condition = map[string]map[string]any{"ArnNotEquals": {"aws:PrincipalArn": breakGlassRoleARN}}
	}
	doc := denyInsecureTransport(bucketARN)
	doc.Statement = append(doc.Statement, guard,
		// Two statements, since either wrong header is enough and a statement's conditions must all hold. Each
		// denies only a request that carries the header (Null false) with another value: a write that names no
		// encryption gets the bucket's default. (StringNotEqualsIfExists would deny those too: an absent key
		// makes an ...IfExists condition true.)
		PolicyStatement{
			Sid: "DenyOtherEncryption", Effect: "Deny", Principal: everyone, Action: []string{"s3:PutObject"}, Resource: []string{bucketARN + "/*"},
			Condition: map[string]map[string]any{
				"Null":            {"s3:x-amz-server-side-encryption": "false"},
				"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
			},
		},
		PolicyStatement{
			Sid: "DenyOtherKMSKeys", Effect: "Deny", Principal: everyone, Action: []string{"s3:PutObject"}, Resource: []string{bucketARN + "/*"},
			Condition: map[string]map[string]any{
				"Null":            {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
				"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": keyARN},
			},
		},
	)
	return doc
}

// ProtectKey adds to a key policy the statement that denies kms:ScheduleKeyDeletion and kms:DisableKey to every
// principal except breakGlassRoleARN (to everyone when it is empty). Either call makes every record the key
// protects unreadable (crypto-shredding), which would defeat Object Lock, even in COMPLIANCE mode. kms:PutKeyPolicy
// is not denied: KMS's lockout safety check requires that the caller may still change the policy, and a policy
// change is reported by TamperAlarms, with the 30-day deletion window left to cancel what follows.
func ProtectKey(doc PolicyDocument, breakGlassRoleARN string) PolicyDocument {
	deny := PolicyStatement{
		Sid: "OnlyBreakGlassDeletesOrDisables", Effect: "Deny", Principal: map[string][]string{"AWS": {"*"}},
		Action: []string{"kms:ScheduleKeyDeletion", "kms:DisableKey"}, Resource: []string{"*"},
	}
	if breakGlassRoleARN != "" {
		deny.Condition = map[string]map[string]any{"ArnNotEquals": {"aws:PrincipalArn": breakGlassRoleARN}}
	}
	doc.Statement = append(append([]PolicyStatement(nil), doc.Statement...), deny)
	return doc
}

// denyInsecureTransport refuses every request to the bucket that does not use TLS.
func denyInsecureTransport(bucketARN string) PolicyDocument {
	return PolicyDocument{Statement: []PolicyStatement{{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string][]string{"AWS": {"*"}},
		Action:    []string{"s3:*"},
		Resource:  []string{bucketARN, bucketARN + "/*"},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
	}}}
}

// accountAndPartition looks up the deploying account and partition.
func accountAndPartition(ctx *pulumi.Context, parent pulumi.ResourceOrInvokeOption) (account, partition string, err error) {
	id, err := aws.GetCallerIdentity(ctx, nil, parent)
	if err != nil {
		return "", "", fmt.Errorf("look up the AWS account: %w", err)
	}
	p, err := aws.GetPartition(ctx, nil, parent)
	if err != nil {
		return "", "", fmt.Errorf("look up the AWS partition: %w", err)
	}
	return id.AccountId, p.Partition, nil
}

// typeToken is the component type token: one package prefix for all components.
func typeToken(name string) string { return "agent-audit:index:" + name }

// mustJSON renders a policy whose values are all plain strings; encoding cannot fail.
func mustJSON(d PolicyDocument) string {
	s, err := d.JSON()
	if err != nil {
		panic(err)
	}
	return s
}

// blockPublicAndEncrypt blocks every kind of public access to bucket and encrypts it by default with SSE-KMS
// under keyARN with a bucket key; the child resources are named prefix-public-access and prefix-encryption.
func blockPublicAndEncrypt(ctx *pulumi.Context, prefix string, bucket *s3.BucketV2, keyARN pulumi.StringInput, opts ...pulumi.ResourceOption) error {
	if _, err := s3.NewBucketPublicAccessBlock(ctx, prefix+"-public-access", &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...); err != nil {
		return err
	}
	_, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, prefix+"-encryption", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm:   pulumi.String("aws:kms"),
				KmsMasterKeyId: keyARN,
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, opts...)
	return err
}
