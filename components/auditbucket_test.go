package components

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

func TestAuditBucketSettings(t *testing.T) {
	var outs []string
	m := run(t, func(ctx *pulumi.Context) error {
		b, err := NewAuditBucket(ctx, "audit", &AuditBucketArgs{RetentionDays: 30, RetentionMode: RetentionCompliance})
		if err != nil {
			return err
		}
		pulumi.All(b.BucketName, b.BucketARN, b.KeyARN, b.AliasName).ApplyT(func(v []any) error {
			for _, s := range v {
				outs = append(outs, s.(string))
			}
			return nil
		})
		return nil
	})
	assertChildren(t, m, "agent-audit:index:AuditBucket", "audit")

	bucket := m.One(t, "aws:s3/bucketV2:BucketV2", "audit")
	if !pulumitest.Get(bucket.Inputs, "objectLockEnabled").BoolValue() || pulumitest.Get(bucket.Inputs, "forceDestroy").BoolValue() {
		t.Errorf("bucket inputs %v", bucket.Inputs)
	}
	key := m.One(t, "aws:kms/key:Key", "audit-key")
	if !pulumitest.Get(key.Inputs, "enableKeyRotation").BoolValue() || num(key.Inputs, "deletionWindowInDays") != 30 {
		t.Errorf("key inputs %v", key.Inputs)
	}
	// Deleting the key would make every locked record unreadable: pulumi destroy keeps it.
	if !key.RetainOnDelete {
		t.Error("the bucket's key is deleted with the stack")
	}
	kp := pulumitest.ParsePolicy(t, pulumitest.Get(key.Inputs, "policy"))
	if len(kp.Statement) != 2 || kp.Statement[0].Principal["AWS"][0] != "arn:aws:iam::123456789012:root" || kp.Statement[0].Action[0] != "kms:*" {
		t.Errorf("key policy %+v", kp)
	}
	if d := kp.Statement[1]; d.Effect != "Deny" || strings.Join(d.Principal["AWS"], ",") != "*" || strings.Join(d.Action, ",") != "kms:ScheduleKeyDeletion,kms:DisableKey" || len(d.Condition) != 0 {
		t.Errorf("without a break-glass role nobody may delete or disable the key: %+v", d)
	}
	if str(m.One(t, "aws:kms/alias:Alias", "audit-key-alias").Inputs, "name") != "alias/audit-audit" {
		t.Error("alias name")
	}
	if got := str(m.One(t, "aws:s3/bucketVersioningV2:BucketVersioningV2", "audit-versioning").Inputs, "versioningConfiguration.status"); got != "Enabled" {
		t.Errorf("versioning %q", got)
	}
	pab := m.One(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "audit-public-access").Inputs
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if !pulumitest.Get(pab, k).BoolValue() {
			t.Errorf("public access block %s is not true", k)
		}
	}
	sse := m.One(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "audit-encryption").Inputs
	if str(sse, "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") != "aws:kms" ||
		str(sse, "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId") != "arn:aws:kms:eu-west-1:123456789012:key/key-audit-key" ||
		!pulumitest.Get(sse, "rules.0.bucketKeyEnabled").BoolValue() {
		t.Errorf("encryption %v", sse)
	}
	lock := m.One(t, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2", "audit-object-lock")
	if str(lock.Inputs, "rule.defaultRetention.mode") != "COMPLIANCE" || num(lock.Inputs, "rule.defaultRetention.days") != 30 {
		t.Errorf("object lock %v", lock.Inputs)
	}
	if len(lock.DependsOn) == 0 || !strings.Contains(strings.Join(lock.DependsOn, " "), "audit-versioning") {
		t.Errorf("object lock does not wait for versioning: %v", lock.DependsOn)
	}
	bp := m.One(t, "aws:s3/bucketPolicy:BucketPolicy", "audit-policy")
	if !strings.Contains(strings.Join(bp.DependsOn, " "), "audit-object-lock") {
		t.Errorf("the bucket policy, which denies changing the lock, does not wait for the deployer to set it: %v", bp.DependsOn)
	}
	pol := pulumitest.ParsePolicy(t, pulumitest.Get(bp.Inputs, "policy"))
	deny := pol.Statement[0]
	if deny.Effect != "Deny" || deny.Condition["Bool"]["aws:SecureTransport"] != "false" || strings.Join(deny.Resource, " ") != "arn:aws:s3:::audit arn:aws:s3:::audit/*" {
		t.Errorf("TLS policy %+v", pol)
	}
	if strings.Join(outs, " ") != "audit arn:aws:s3:::audit arn:aws:kms:eu-west-1:123456789012:key/key-audit-key alias/audit-audit" {
		t.Errorf("outputs %v", outs)
	}
}

func TestAuditBucketLifecycleFollowsRetention(t *testing.T) {
	tests := []struct {
		days        int
		wantGlacier bool
	}{{7, false}, {90, false}, {91, false}, {179, false}, {180, true}, {2555, true}}
	for _, tt := range tests {
		m := run(t, func(ctx *pulumi.Context) error {
			_, err := NewAuditBucket(ctx, "audit", &AuditBucketArgs{RetentionDays: tt.days})
			return err
		})
		lc := m.One(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "audit-lifecycle").Inputs
		if num(lc, "rules.0.expiration.days") != float64(tt.days) || num(lc, "rules.0.noncurrentVersionExpiration.noncurrentDays") != 1 {
			t.Errorf("%d days: expiry rule %v", tt.days, lc)
		}
		// Expiry leaves a delete marker per record; once the locked versions behind it are gone it is removed,
		// and uploads that never completed are aborted.
		if !pulumitest.Get(lc, "rules.1.expiration.expiredObjectDeleteMarker").BoolValue() || !pulumitest.Get(lc, "rules.1.expiration.days").IsNull() ||
			num(lc, "rules.1.abortIncompleteMultipartUpload.daysAfterInitiation") != AbortIncompleteUploadDays || str(lc, "rules.1.status") != "Enabled" {
			t.Errorf("%d days: delete-marker and multipart rule %v", tt.days, pulumitest.Get(lc, "rules.1"))
		}
		rules := pulumitest.Get(lc, "rules").ArrayValue()
		hasGlacier := len(rules) == 3 && str(lc, "rules.2.transitions.0.storageClass") == "GLACIER_IR" && num(lc, "rules.2.transitions.0.days") == 90 &&
			num(lc, "rules.2.filter.objectSizeGreaterThan") == 128*1024-1
		if hasGlacier != tt.wantGlacier || (len(rules) == 3) != tt.wantGlacier {
			t.Errorf("%d days: %d rules, glacier %v, want glacier %v", tt.days, len(rules), hasGlacier, tt.wantGlacier)
		}
		if tt.days == 7 && str(m.One(t, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2", "audit-object-lock").Inputs, "rule.defaultRetention.mode") != "GOVERNANCE" {
			t.Error("default mode is not GOVERNANCE")
		}
	}
}

func TestAuditBucketRefusesForceDestroyUnderGovernance(t *testing.T) {
	for _, mode := range []string{"", RetentionGovernance} {
		m := &pulumitest.Mocks{}
		err := pulumitest.Run(m, func(ctx *pulumi.Context) error {
			_, err := NewAuditBucket(ctx, "audit", &AuditBucketArgs{RetentionMode: mode, ForceDestroy: true})
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "ForceDestroy") || !strings.Contains(err.Error(), "BypassGovernanceRetention") {
			t.Errorf("mode %q: ForceDestroy accepted, or the reason not given: %v", mode, err)
		}
		if len(m.ByType("aws:s3/bucketV2:BucketV2")) != 0 {
			t.Errorf("mode %q: a bucket was created anyway", mode)
		}
	}
}

func TestAuditBucketNamesEveryBadArgument(t *testing.T) {
	err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		_, err := NewAuditBucket(ctx, "audit", &AuditBucketArgs{RetentionDays: -1, RetentionMode: "STRICT", KeyDeletionWindowDays: 3})
		return err
	})
	for _, field := range []string{"RetentionDays", "RetentionMode", "KeyDeletionWindowDays"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
}

func TestAuditBucketOptionalArgs(t *testing.T) {
	tests := []struct {
		name         string
		args         *AuditBucketArgs
		wantBucket   string
		wantDestroy  bool
		wantDeletion float64
	}{
		{"no args let Pulumi name the bucket and refuse to empty it", nil, "", false, 30},
		{"a bucket name, force destroy and a deletion window are used as given",
			&AuditBucketArgs{BucketName: "acme-audit-prod", ForceDestroy: true, RetentionMode: RetentionCompliance, KeyDeletionWindowDays: 10}, "acme-audit-prod", true, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b *AuditBucket
			m := run(t, func(ctx *pulumi.Context) (err error) {
				b, err = NewAuditBucket(ctx, "audit", tt.args)
				return err
			})
			bucket := m.One(t, "aws:s3/bucketV2:BucketV2", "audit").Inputs
			if str(bucket, "bucket") != tt.wantBucket || pulumitest.Get(bucket, "forceDestroy").BoolValue() != tt.wantDestroy {
				t.Errorf("bucket inputs %v", bucket)
			}
			if got := num(m.One(t, "aws:kms/key:Key", "audit-key").Inputs, "deletionWindowInDays"); got != tt.wantDeletion {
				t.Errorf("key deletion window %v days, want %v", got, tt.wantDeletion)
			}
			wantName := tt.wantBucket
			if wantName == "" {
				wantName = "audit"
			}
			if got := pulumitest.AwaitString(t, b.BucketName); got != wantName {
				t.Errorf("BucketName %q, want %q", got, wantName)
			}
			if got := pulumitest.AwaitString(t, b.KeyID); got != "key-audit-key" {
				t.Errorf("KeyID %q is not the key's id", got)
			}
		})
	}
}

func TestGuardPolicyLeavesTheLockToTheBreakGlassRoleOnly(t *testing.T) {
	const bucket, key = "arn:aws:s3:::audit", "arn:aws:kms:eu-west-1:123456789012:key/k"
	const breakGlass = "arn:aws:iam::123456789012:role/break-glass"
	for _, tc := range []struct {
		name, breakGlass string
		wantCondition    string
	}{
		{"with no break-glass role nobody bypasses", "", "map[]"},
		{"with one, only it does", breakGlass, "map[ArnNotEquals:map[aws:PrincipalArn:" + breakGlass + "]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := GuardPolicy(bucket, key, tc.breakGlass)
			bySid := map[string]PolicyStatement{}
			for _, st := range doc.Statement {
				if st.Effect != "Deny" || strings.Join(st.Principal["AWS"], ",") != "*" {
					t.Errorf("statement %s is not a Deny for every principal: %+v", st.Sid, st)
				}
				bySid[st.Sid] = st
			}
			guard := bySid["OnlyBreakGlassBypassesTheLock"]
			if strings.Join(guard.Action, ",") != "s3:BypassGovernanceRetention,s3:PutBucketObjectLockConfiguration" ||
				strings.Join(guard.Resource, ",") != bucket+","+bucket+"/*" || fmt.Sprint(guard.Condition) != tc.wantCondition {
				t.Errorf("lock guard %+v", guard)
			}
			if c := fmt.Sprint(bySid["DenyOtherKMSKeys"].Condition); c != "map[Null:map[s3:x-amz-server-side-encryption-aws-kms-key-id:false] StringNotEquals:map[s3:x-amz-server-side-encryption-aws-kms-key-id:"+key+"]]" {
				t.Errorf("writes naming another key are not refused: %s", c)
			}
			if c := fmt.Sprint(bySid["DenyOtherEncryption"].Condition); c != "map[Null:map[s3:x-amz-server-side-encryption:false] StringNotEquals:map[s3:x-amz-server-side-encryption:aws:kms]]" {
				t.Errorf("writes asking for other encryption are not refused: %s", c)
			}
			if _, ok := bySid["DenyInsecureTransport"]; !ok || len(bySid) != 4 {
				t.Errorf("statements %v", doc.Statement)
			}
		})
	}
}

func TestProtectKeyDeniesDeletionButNotPolicyChanges(t *testing.T) {
	const breakGlass = "arn:aws:iam::123456789012:role/break-glass"
	base := AccountKeyPolicy("aws", "123456789012")
	doc := ProtectKey(base, breakGlass)
	if len(base.Statement) != 1 {
		t.Fatal("ProtectKey changed the policy it was given")
	}
	deny := doc.Statement[len(doc.Statement)-1]
	if deny.Effect != "Deny" || strings.Join(deny.Action, ",") != "kms:ScheduleKeyDeletion,kms:DisableKey" ||
		fmt.Sprint(deny.Condition) != "map[ArnNotEquals:map[aws:PrincipalArn:"+breakGlass+"]]" {
		t.Errorf("deny %+v", deny)
	}
	// KMS's lockout safety check: the caller must still be allowed kms:PutKeyPolicy.
	for _, a := range deny.Action {
		if a == "kms:PutKeyPolicy" || a == "kms:*" {
			t.Errorf("%s denied: KMS refuses a policy that locks its caller out", a)
		}
	}
	err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		_, err := NewAuditBucket(ctx, "audit", &AuditBucketArgs{BreakGlassRoleARN: "arn:aws:iam::123456789012:user/alice"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "BreakGlassRoleARN") {
		t.Errorf("a user accepted as the break-glass role: %v", err)
	}
}
