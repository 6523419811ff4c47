package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/function/awss3"
	"github.com/agent-audit/agent-audit/internal/miniotest"
)

// TestTheS3OversizeStoreLandsInALockedMinIOBucket puts a content into a real MinIO bucket with Object Lock, with
// session credentials that may put under oversize/ and do nothing else (as the function's role), addressed as
// the configuration gives it (path-style asked, or an IP address endpoint), and reads it back as an operator
// would: the same bytes and content type, the SHA-256 checksum that was sent, and the bucket's default retention.
func TestTheS3OversizeStoreLandsInALockedMinIOBucket(t *testing.T) {
	srv := miniotest.Start(t)
	const bucket = "agent-audit-oversize"
	srv.LockedBucket(t, bucket, types.ObjectLockRetentionModeCompliance, 1)
	creds := srv.SessionCredentials(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::`+bucket+`/oversize/*"]}]}`)
	cfg := aws.Config{Region: miniotest.Region, BaseEndpoint: aws.String(srv.Endpoint), Credentials: credentials.StaticCredentialsProvider{Value: creds}}
	object := bytes.Repeat([]byte("\x1f\x8b oversize content "), 4096)
	sum := sha256.Sum256(object)
	for _, pathStyle := range []bool{true, false} {
		key := fmt.Sprintf("oversize/year=2026/month=12/day=01/hour=00/%x-%v.json.gz", sum[:8], pathStyle)
		store := NewS3OversizeStore(awss3.New(cfg, nil, awss3.WithPathStyle(pathStyle)), bucket)
		if err := store.Put(context.Background(), key, object); err != nil {
			t.Fatalf("path style %v: %v", pathStyle, err)
		}
		if err := store.Put(context.Background(), "traces/"+key, object); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Fatalf("a put outside oversize/: %v, want AccessDenied", err)
		}
		got, err := srv.Client(t).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(got.Body)
		got.Body.Close()
		if err != nil || !bytes.Equal(body, object) || aws.ToString(got.ContentType) != "application/gzip" {
			t.Fatalf("read back %d bytes of %s (%v), want the %d bytes put as application/gzip", len(body), aws.ToString(got.ContentType), err, len(object))
		}
		if want := base64.StdEncoding.EncodeToString(sum[:]); aws.ToString(got.ChecksumSHA256) != want {
			t.Errorf("checksum %q, want the SHA-256 sent, %q", aws.ToString(got.ChecksumSHA256), want)
		}
		if got.ObjectLockMode != types.ObjectLockModeCompliance || got.ObjectLockRetainUntilDate == nil ||
			got.ObjectLockRetainUntilDate.Before(time.Now().Add(23*time.Hour)) {
			t.Errorf("lock %s until %v, want the bucket's default, COMPLIANCE for a day", got.ObjectLockMode, got.ObjectLockRetainUntilDate)
		}
	}
}
