package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/agent-audit/agent-audit/function/app"
)

// auditStore is an audit root as verify reads it: a local directory in Firehose's layout, or the bucket.
type auditStore interface {
	// List returns the keys under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Read returns the object at key, gunzipped (every audit object is GZIP).
	Read(ctx context.Context, key string) ([]byte, error)
}

// localStore is a local root.
type localStore struct{ root string }

func (s localStore) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	base := filepath.Join(s.root, filepath.FromSlash(prefix))
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == base {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil // .incoming-* are objects being written
		}
		rel, err := filepath.Rel(s.root, path)
		if err != nil {
			return err
		}
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	slices.Sort(keys)
	return keys, err
}

func (s localStore) Read(_ context.Context, key string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(key)))
	if err != nil {
		return nil, err
	}
	return gunzip(b)
}

// s3Store is the audit bucket.
type s3Store struct {
	client *s3.Client
	bucket string
}

func newS3Store(ctx context.Context, bucket string) (*s3Store, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	// The function's own switch for S3-compatible endpoints (MinIO) applies to the CLI too.
	pathStyle, _ := strconv.ParseBool(os.Getenv(app.EnvS3ForcePathStyle))
	return &s3Store{client: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }), bucket: bucket}, nil
}

func (s *s3Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func (s *s3Store) Read(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.bucket, key, err)
	}
	return gunzip(b)
}

// objectVersion is one version of an object, with the Object Lock retention S3 reports on it.
type objectVersion struct {
	key, versionID string
	modified       time.Time
	deleteMarker   bool
	mode           string
	retainUntil    time.Time
}

// versions lists every version and delete marker under prefix and asks S3 for each version's retention.
func (s *s3Store) versions(ctx context.Context, prefix string) ([]objectVersion, error) {
	var out []objectVersion
	p := s3.NewListObjectVersionsPaginator(s.client, &s3.ListObjectVersionsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list versions of s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, m := range page.DeleteMarkers {
			out = append(out, objectVersion{key: aws.ToString(m.Key), versionID: aws.ToString(m.VersionId), modified: aws.ToTime(m.LastModified), deleteMarker: true})
		}
		for _, v := range page.Versions {
			ov := objectVersion{key: aws.ToString(v.Key), versionID: aws.ToString(v.VersionId), modified: aws.ToTime(v.LastModified)}
			head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: v.Key, VersionId: v.VersionId})
			if err != nil {
				return nil, fmt.Errorf("head s3://%s/%s version %s: %w", s.bucket, ov.key, ov.versionID, err)
			}
			ov.mode, ov.retainUntil = string(head.ObjectLockMode), aws.ToTime(head.ObjectLockRetainUntilDate)
			out = append(out, ov)
		}
	}
	return out, nil
}

// gunzip inflates a GZIP object (all its members: Firehose may concatenate).
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not GZIP: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("corrupt GZIP: %w", err)
	}
	return out, nil
}
