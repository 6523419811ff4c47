package miniotest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// LockedBucket creates bucket name with Object Lock enabled (which turns versioning on) and a default retention
// of mode (types.ObjectLockRetentionModeCompliance or Governance) for days, as the AuditBucket component
// configures the audit bucket. Every object PUT without its own retention gets that one.
func (s *Server) LockedBucket(t testing.TB, name string, mode types.ObjectLockRetentionMode, days int32) {
	t.Helper()
	ctx := context.Background()
	c := s.Client(t)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket:                     aws.String(name),
		ObjectLockEnabledForBucket: aws.Bool(true),
	}); err != nil {
		t.Fatalf("miniotest: create bucket %s with Object Lock: %v", name, err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String(name),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{
			ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{
				Mode: mode, Days: aws.Int32(days),
			}},
		},
	}); err != nil {
		t.Fatalf("miniotest: default retention %s %d days on %s: %v", mode, days, name, err)
	}
}
