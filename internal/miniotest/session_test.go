package miniotest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func TestSessionCredentialsAreLimitedByTheirPolicy(t *testing.T) {
	srv := Start(t)
	srv.LockedBucket(t, "audit", types.ObjectLockRetentionModeCompliance, 1)
	creds := srv.SessionCredentials(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::audit/oversize/*"]}]}`)
	if creds.SessionToken == "" || creds.AccessKeyID == srv.AccessKey {
		t.Fatalf("not temporary credentials: %+v", creds.AccessKeyID)
	}
	c := srv.ClientWith(creds)
	ctx := context.Background()
	put := func(key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("audit"), Key: aws.String(key), Body: strings.NewReader("x")})
		return err
	}
	if err := put("oversize/a.json.gz"); err != nil {
		t.Fatalf("PutObject under oversize/ is granted: %v", err)
	}
	denied := map[string]error{
		"PutObject outside oversize/": put("traces/a.gz"),
		"GetObject": func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("audit"), Key: aws.String("oversize/a.json.gz")})
			return err
		}(),
		"DeleteObject": func() error {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("audit"), Key: aws.String("oversize/a.json.gz")})
			return err
		}(),
	}
	for what, err := range denied {
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			t.Errorf("%s: %v, want AccessDenied", what, err)
		}
	}
}
