package audit

import (
	"context"
	"fmt"

	"github.com/agent-audit/agent-audit/function/awss3"
)

// S3PutAPI is the S3 call S3OversizeStore makes; *awss3.Client implements it. PutObject stores body as key in
// bucket with contentType and sends body's SHA-256 checksum, retrying as its client's configuration says; it names
// no SDK type, so that the function links no S3 client.
type S3PutAPI interface {
	PutObject(ctx context.Context, bucket, key, contentType string, body []byte) error
}

var _ S3PutAPI = (*awss3.Client)(nil)

// S3OversizeStore keeps oversize content in the audit bucket under OversizePrefix, where the bucket's default
// Object Lock retention and encryption apply as to every other audit object. The function's role may put
// objects under that prefix and nothing else. The client's own retries apply (unlike Firehose's, S3's are per
// object and idempotent here: the key names the content's hash).
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

// Put implements OversizeStore with one PutObject of the gzip object carrying its SHA-256 checksum, which S3
// checks on arrival (and which an Object Lock bucket requires of a PUT in one form or another). Its error names
// the object's s3:// URI.
func (s *S3OversizeStore) Put(ctx context.Context, key string, object []byte) error {
	if err := s.client.PutObject(ctx, s.bucket, key, "application/gzip", object); err != nil {
		return fmt.Errorf("s3 PutObject s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
}
