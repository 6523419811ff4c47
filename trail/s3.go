package trail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3API is the part of the S3 client an S3 root uses (*s3.Client implements it).
type S3API interface {
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObjectRetention(ctx context.Context, in *s3.GetObjectRetentionInput, optFns ...func(*s3.Options)) (*s3.GetObjectRetentionOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// S3 is an audit root in an S3 bucket with versioning (the audit bucket, under Object Lock). Versions lists
// every object version and delete marker; SHA256 is "" in listings (S3 lists no checksum values), ETag always.
// Safe for concurrent use.
type S3 struct {
	client S3API
	bucket string
	// pageSize is ListObjectVersions' MaxKeys; 0 leaves S3's default (1,000). Tests make pages small.
	pageSize int32
}

var (
	_ Store           = (*S3)(nil)
	_ RetentionReader = (*S3)(nil)
)

// NewS3 returns the root in bucket, reached through client.
func NewS3(client S3API, bucket string) *S3 { return &S3{client: client, bucket: bucket} }

// Root returns s3://bucket.
func (s *S3) Root() string { return "s3://" + s.bucket }

// Versions pages through ListObjectVersions from startAfter (as its KeyMarker) and returns the versions and
// delete markers under prefix, in key order and for one key newest first.
func (s *S3) Versions(ctx context.Context, prefix, startAfter string) ([]Object, error) {
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	if startAfter != "" {
		in.KeyMarker = aws.String(startAfter)
	}
	if s.pageSize > 0 {
		in.MaxKeys = aws.Int32(s.pageSize)
	}
	var out []Object
	p := s3.NewListObjectVersionsPaginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list versions of %s/%s: %w", s.Root(), prefix, err)
		}
		for _, v := range page.Versions {
			out = append(out, Object{
				Key: aws.ToString(v.Key), VersionID: aws.ToString(v.VersionId), Size: aws.ToInt64(v.Size),
				ETag: strings.Trim(aws.ToString(v.ETag), `"`), LastModified: aws.ToTime(v.LastModified).UTC(), IsLatest: aws.ToBool(v.IsLatest),
			})
		}
		for _, m := range page.DeleteMarkers {
			out = append(out, Object{
				Key: aws.ToString(m.Key), VersionID: aws.ToString(m.VersionId), LastModified: aws.ToTime(m.LastModified).UTC(),
				IsLatest: aws.ToBool(m.IsLatest), DeleteMarker: true,
			})
		}
	}
	// S3 returns versions and delete markers in two lists; merge them into one history per key, newest first.
	slices.SortStableFunc(out, func(a, b Object) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		if a.IsLatest != b.IsLatest {
			if a.IsLatest {
				return -1
			}
			return 1
		}
		return b.LastModified.Compare(a.LastModified)
	})
	return out, nil
}

// Get reads one version of key (the current one for versionID ""). A missing key or version, or a delete
// marker, is an error wrapping fs.ErrNotExist.
func (s *S3) Get(ctx context.Context, key, versionID string) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", s.describe(key, versionID), notExist(err))
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", s.describe(key, versionID), err)
	}
	return b, nil
}

// Put writes body to key with its SHA-256 checksum (which S3 checks, and which Object Lock requires of every
// upload), so the bucket's default encryption and retention apply.
func (s *S3) Put(ctx context.Context, key string, body []byte) (Object, error) {
	sum := sha256.Sum256(body)
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	})
	if err != nil {
		return Object{}, fmt.Errorf("put %s/%s: %w", s.Root(), key, err)
	}
	return Object{
		Key: key, VersionID: aws.ToString(out.VersionId), Size: int64(len(body)), ETag: strings.Trim(aws.ToString(out.ETag), `"`),
		SHA256: hex.EncodeToString(sum[:]), LastModified: time.Now().UTC(), IsLatest: true,
	}, nil
}

// Retention reads the Object Lock retention of one version with GetObjectRetention (not HeadObject, which
// silently leaves the retention out when the caller lacks s3:GetObjectRetention). A version without retention,
// or a bucket without Object Lock, is the zero Retention; a refusal is an error.
func (s *S3) Retention(ctx context.Context, key, versionID string) (Retention, error) {
	in := &s3.GetObjectRetentionInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := s.client.GetObjectRetention(ctx, in)
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && noRetention(api):
		return Retention{}, nil
	case err != nil:
		return Retention{}, fmt.Errorf("get the retention of %s: %w", s.describe(key, versionID), notExist(err))
	case out.Retention == nil:
		return Retention{}, nil
	}
	return Retention{Mode: string(out.Retention.Mode), RetainUntil: aws.ToTime(out.Retention.RetainUntilDate).UTC()}, nil
}

// noRetention reports whether S3 answered that there is no retention to read: the version has none
// (NoSuchObjectLockConfiguration), or the bucket has no Object Lock configuration (S3 says InvalidRequest,
// MinIO ObjectLockConfigurationNotFoundError).
func noRetention(api smithy.APIError) bool {
	switch api.ErrorCode() {
	case "NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError":
		return true
	case "InvalidRequest":
		// "Bucket is missing Object Lock Configuration" (S3), "… ObjectLockConfiguration" (MinIO).
		return strings.Contains(strings.ToLower(strings.ReplaceAll(api.ErrorMessage(), " ", "")), "objectlock")
	}
	return false
}

// notExist makes S3's "no such key / version" answers wrap fs.ErrNotExist too, keeping S3's error in the chain.
func notExist(err error) error {
	var api smithy.APIError
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) || errors.As(err, &api) && slices.Contains([]string{"NoSuchKey", "NoSuchVersion", "NotFound", "MethodNotAllowed"}, api.ErrorCode()) {
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return err
}

// describe names one version in messages.
func (s *S3) describe(key, versionID string) string {
	if versionID == "" {
		return s.Root() + "/" + key
	}
	return s.Root() + "/" + key + " version " + versionID
}
