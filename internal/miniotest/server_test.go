package miniotest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// One MinIO serves every case: each uses its own bucket.
func TestObjectLockIsEnforced(t *testing.T) {
	srv := Start(t)
	c := srv.Client(t)
	ctx := context.Background()

	put := func(t *testing.T, bucket, key string) string {
		t.Helper()
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("record")})
		if err != nil {
			t.Fatalf("put %s/%s: %v", bucket, key, err)
		}
		if aws.ToString(out.VersionId) == "" {
			t.Fatalf("put %s/%s: no version id (versioning is off)", bucket, key)
		}
		return aws.ToString(out.VersionId)
	}
	deleteVersion := func(bucket, key, version string, bypass bool) error {
		in := &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)}
		if bypass {
			in.BypassGovernanceRetention = aws.Bool(true)
		}
		_, err := c.DeleteObject(ctx, in)
		return err
	}
	versionExists := func(t *testing.T, bucket, key, version string) bool {
		t.Helper()
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
		return err == nil
	}

	t.Run("the bucket's default retention is applied on PUT", func(t *testing.T) {
		srv.LockedBucket(t, "default-retention", types.ObjectLockRetentionModeCompliance, 3)
		before := time.Now()
		v := put(t, "default-retention", "traces/a.gz")
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("default-retention"), Key: aws.String("traces/a.gz"), VersionId: aws.String(v)})
		if err != nil {
			t.Fatal(err)
		}
		if head.ObjectLockMode != types.ObjectLockModeCompliance {
			t.Fatalf("lock mode %q, want COMPLIANCE", head.ObjectLockMode)
		}
		until := aws.ToTime(head.ObjectLockRetainUntilDate)
		if lo, hi := before.Add(3*24*time.Hour-time.Hour), before.Add(3*24*time.Hour+time.Hour); until.Before(lo) || until.After(hi) {
			t.Fatalf("retain until %s, want about 3 days after %s", until, before)
		}
	})

	t.Run("a locked version cannot be deleted, a delete marker hides nothing", func(t *testing.T) {
		srv.LockedBucket(t, "no-delete", types.ObjectLockRetentionModeCompliance, 1)
		v := put(t, "no-delete", "k")
		if err := deleteVersion("no-delete", "k", v, false); !isRefused(err) {
			t.Fatalf("delete locked version: %v, want a refusal", err)
		}
		if err := deleteVersion("no-delete", "k", v, true); !isRefused(err) {
			t.Fatalf("delete COMPLIANCE version with the bypass header: %v, want a refusal", err)
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("no-delete"), Key: aws.String("k")}); err != nil {
			t.Fatalf("a delete marker is allowed: %v", err)
		}
		if !versionExists(t, "no-delete", "k", v) {
			t.Fatal("the locked version is gone")
		}
	})

	t.Run("COMPLIANCE retention cannot be shortened", func(t *testing.T) {
		srv.LockedBucket(t, "no-shorten", types.ObjectLockRetentionModeCompliance, 2)
		v := put(t, "no-shorten", "k")
		_, err := c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
			Bucket: aws.String("no-shorten"), Key: aws.String("k"), VersionId: aws.String(v),
			Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(time.Now().Add(time.Hour))},
		})
		if !isRefused(err) {
			t.Fatalf("shorten COMPLIANCE retention: %v, want a refusal", err)
		}
		_, err = c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
			Bucket: aws.String("no-shorten"), Key: aws.String("k"), VersionId: aws.String(v), BypassGovernanceRetention: aws.Bool(true),
			Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(time.Hour))},
		})
		if !isRefused(err) {
			t.Fatalf("downgrade COMPLIANCE to GOVERNANCE: %v, want a refusal", err)
		}
		ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("no-shorten"), Key: aws.String("k"), VersionId: aws.String(v)})
		if err != nil {
			t.Fatal(err)
		}
		if ret.Retention.Mode != types.ObjectLockRetentionModeCompliance || aws.ToTime(ret.Retention.RetainUntilDate).Before(time.Now().Add(24*time.Hour)) {
			t.Fatalf("retention after the refusals: %s until %s, want COMPLIANCE for about 2 days", ret.Retention.Mode, aws.ToTime(ret.Retention.RetainUntilDate))
		}
		_, err = c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
			Bucket: aws.String("no-shorten"), Key: aws.String("k"), VersionId: aws.String(v),
			Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(time.Now().Add(30 * 24 * time.Hour))},
		})
		if err != nil {
			t.Fatalf("extending COMPLIANCE retention is allowed: %v", err)
		}
	})

	t.Run("GOVERNANCE yields only to the bypass header", func(t *testing.T) {
		srv.LockedBucket(t, "governance", types.ObjectLockRetentionModeGovernance, 1)
		v := put(t, "governance", "k")
		if err := deleteVersion("governance", "k", v, false); !isRefused(err) {
			t.Fatalf("delete GOVERNANCE version without bypass: %v, want a refusal", err)
		}
		if !versionExists(t, "governance", "k", v) {
			t.Fatal("the version went without the bypass header")
		}
		if err := deleteVersion("governance", "k", v, true); err != nil {
			t.Fatalf("delete GOVERNANCE version with bypass: %v", err)
		}
		if versionExists(t, "governance", "k", v) {
			t.Fatal("the version survived a bypassing delete")
		}
	})
}

// isRefused reports an Object Lock refusal: S3 answers 403 AccessDenied, MinIO 400 InvalidRequest "Object is
// WORM protected and cannot be overwritten". The cases check the object's state too.
func isRefused(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "InvalidRequest" && strings.Contains(ae.ErrorMessage(), "WORM")
}
