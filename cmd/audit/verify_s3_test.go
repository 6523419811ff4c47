package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/internal/miniotest"
)

// TestVerifyChecksObjectLockOnARealS3 uploads a sealed local root into buckets on MinIO, which applies Object
// Lock as S3 does, and verifies them through the S3 API.
func TestVerifyChecksObjectLockOnARealS3(t *testing.T) {
	root := sealedRoot(t, 3)
	srv := miniotest.Start(t)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3":         srv.Endpoint,
		"AWS_REGION":                  miniotest.Region,
		"AWS_ACCESS_KEY_ID":           srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       srv.SecretKey,
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		agentenv.S3ForcePathStyle:     "true",
	} {
		t.Setenv(k, v)
	}
	client := srv.Client(t)
	ctx := context.Background()
	upload := func(bucket string) []string {
		t.Helper()
		keys := objectKeys(t, root, "traces/")
		for _, k := range keys {
			data, _ := os.ReadFile(filepath.Join(root, filepath.FromSlash(k)))
			put(t, client, bucket, k, data)
		}
		return keys
	}
	verifyS3 := func(bucket string, args ...string) (string, error) {
		out, _, err := execute(t, append([]string{"verify", "--root", "s3://" + bucket, "--public-key", defaultKeyFile()}, args...)...)
		return out, err
	}

	srv.LockedBucket(t, "audit-locked", types.ObjectLockRetentionModeCompliance, 1)
	upload("audit-locked")
	out, err := verifyS3("audit-locked", "--retention-days", "1")
	if err != nil || !strings.Contains(out, "3 object versions checked for Object Lock retention") || !strings.Contains(out, "3/3 records valid") ||
		!strings.Contains(out, "retention     held") || !strings.Contains(out, "completeness  not checked") {
		t.Fatalf("a locked bucket holding an intact trail: %v\n%s", err, out)
	}

	t.Run("retention short of the horizon is reported", func(t *testing.T) {
		out, err := verifyS3("audit-locked", "--retention-days", "30")
		if exitCode(err) != ExitProblems || strings.Count(out, "  - retention-short ") != 3 || strings.Count(out, "COMPLIANCE retention until") != 3 || !strings.Contains(out, "(30 days after it was written)") {
			t.Fatalf("err %v\n%s", err, out)
		}
	})

	t.Run("a bucket without Object Lock is reported", func(t *testing.T) {
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("audit-unlocked")}); err != nil {
			t.Fatal(err)
		}
		upload("audit-unlocked")
		out, err := verifyS3("audit-unlocked", "--retention-days", "1")
		if exitCode(err) != ExitProblems || strings.Count(out, "  - no-retention ") != 3 {
			t.Fatalf("err %v\n%s", err, out)
		}
	})

	t.Run("an overwritten and a deleted object are reported", func(t *testing.T) {
		// Object Lock keeps every version, but a new version can still be written on top, and a delete marker
		// hides the current one from plain reads: both are tampering verify must name.
		bySeq := objectsBySeq(t, root)
		key := func(seq int64) string {
			rel, _ := filepath.Rel(root, bySeq[seq])
			return filepath.ToSlash(rel)
		}
		overwritten, deleted := key(1), key(2) // the middle one: on S3 nothing records where a chain ends
		data, _ := os.ReadFile(bySeq[1])
		plain, _ := gunzip(data)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(bytes.Replace(plain, []byte(`"agent-audit"`), []byte(`"agent-audiT"`), 1))
		zw.Close()
		put(t, client, "audit-locked", overwritten, buf.Bytes())
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("audit-locked"), Key: aws.String(deleted)}); err != nil {
			t.Fatal(err)
		}
		out, err := verifyS3("audit-locked", "--retention-days", "1")
		// One finding each: the overwrite (its new version's bad record folded in) and the delete marker. The
		// versions behind both are still there, under Object Lock, and still verify: no record is missing.
		if exitCode(err) != ExitProblems || !slices.Equal(listedKinds(out), []string{"overwritten", "delete-marker"}) && !slices.Equal(listedKinds(out), []string{"delete-marker", "overwritten"}) {
			t.Fatalf("exit %d, problems %v:\n%s", exitCode(err), listedKinds(out), out)
		}
		for _, want := range []string{"overwritten " + overwritten, "2 versions", "1 of its 1 records do not verify", "delete-marker " + deleted, "its 1 locked versions remain, and are verified"} {
			if !strings.Contains(out, want) {
				t.Errorf("report lacks %q:\n%s", want, out)
			}
		}
	})
}

func put(t *testing.T, client *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	}); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}
