package audit

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3PutAPI is the part of the S3 client S3OversizeStore uses.
type S3PutAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3OversizeStore keeps oversize content in the audit bucket under OversizePrefix, where the bucket's default
// Object Lock retention and encryption apply as to every other audit object. The function's role may put
// objects under that prefix and nothing else. The SDK client's own retries apply (unlike Firehose's, S3's are
// per object and idempotent here: the key names the content's hash).
type S3OversizeStore struct {
	client S3PutAPI
	bucket string
}

var _ OversizeStore = (*S3OversizeStore)(nil)

// NewS3OversizeStore returns a store writing to bucket.
func NewS3OversizeStore(client S3PutAPI, bucket string) *S3OversizeStore {
	return &S3OversizeStore{client: client, bucket: bucket}
}

// URI implements OversizeStore.
func (s *S3OversizeStore) URI(key string) string { return "s3://" + s.bucket + "/" + key }

// Put implements OversizeStore with one PutObject carrying a SHA-256 checksum, which S3 checks on arrival (and
// which an Object Lock bucket requires of a PUT in one form or another).
func (s *S3OversizeStore) Put(ctx context.Context, key string, object []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(object),
		ContentLength:     aws.Int64(int64(len(object))),
		ContentType:       aws.String("application/gzip"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		return fmt.Errorf("s3 PutObject s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
}
