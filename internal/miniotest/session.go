package miniotest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// sessionDuration is how long SessionCredentials last: longer than any test.
const sessionDuration = time.Hour

// SessionCredentials returns temporary credentials (access key, secret key and session token, as a Lambda
// function's role gives it) from MinIO's STS AssumeRole, limited by policy, an IAM policy document in JSON (empty:
// the root user's permissions). MinIO enforces the policy, so a process running with these credentials proves it
// needs no more than the policy grants.
func (s *Server) SessionCredentials(t testing.TB, policy string) aws.Credentials {
	t.Helper()
	client := sts.New(sts.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	in := &sts.AssumeRoleInput{
		// MinIO ignores the role (the credentials inherit the caller's rights); STS requires one.
		RoleArn:         aws.String("arn:minio:iam:::role/agent-audit-test"),
		RoleSessionName: aws.String("agent-audit-test"),
		DurationSeconds: aws.Int32(int32(sessionDuration / time.Second)),
	}
	if policy != "" {
		in.Policy = aws.String(policy)
	}
	out, err := client.AssumeRole(context.Background(), in)
	if err != nil {
		t.Fatalf("miniotest: AssumeRole: %v", err)
	}
	c := out.Credentials
	return aws.Credentials{
		AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken), CanExpire: true, Expires: aws.ToTime(c.Expiration),
	}
}

// ClientWith is a real S3 client for the server signing with creds (SessionCredentials, say).
func (s *Server) ClientWith(creds aws.Credentials) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
	})
}
