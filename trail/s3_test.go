package trail

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/internal/miniotest"
)

// TestS3OnARealS3 runs the S3 root against MinIO, which keeps versions and applies Object Lock as S3 does.
func TestS3OnARealS3(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	client := srv.Client(t)
	srv.LockedBucket(t, "audit", types.ObjectLockRetentionModeGovernance, 1)
	st := NewS3(client, "audit")
	if st.Root() != "s3://audit" {
		t.Fatalf("root %s", st.Root())
	}

	first, err := st.Put(ctx, "traces/a.gz", []byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := st.Put(ctx, "traces/a.gz", []byte("second")) // an overwrite: a second version
	if err != nil {
		t.Fatal(err)
	}
	if first.VersionID == "" || first.VersionID == second.VersionID || first.SHA256 == "" || first.ETag == "" {
		t.Fatalf("put returned %+v then %+v", first, second)
	}
	for _, k := range []string{"traces/b.gz", "traces/c.gz", "oversize/x"} {
		if _, err := st.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	del, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("audit"), Key: aws.String("traces/b.gz")})
	if err != nil {
		t.Fatal(err)
	}

	for _, pageSize := range []int32{0, 1} { // one page, and a page per entry: a key's history spans pages
		st.pageSize = pageSize
		got, err := st.Versions(ctx, "traces/", "")
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			key, version string
			marker       bool
			latest       bool
			size         int64
		}
		var rows []row
		for _, o := range got {
			rows = append(rows, row{o.Key, o.VersionID, o.DeleteMarker, o.IsLatest, o.Size})
			if !o.DeleteMarker && (o.ETag == "" || o.LastModified.IsZero()) {
				t.Errorf("version %+v lacks its ETag or time", o)
			}
		}
		bVersions := 0
		for _, o := range got {
			if o.Key == "traces/b.gz" && !o.DeleteMarker {
				bVersions++
			}
		}
		want := []row{
			{"traces/a.gz", second.VersionID, false, true, 6},
			{"traces/a.gz", first.VersionID, false, false, 5},
			{"traces/b.gz", aws.ToString(del.VersionId), true, true, 0},
			{"traces/b.gz", rows[3].version, false, false, 11},
			{"traces/c.gz", rows[4].version, false, true, 11},
		}
		if !slices.Equal(rows, want) || bVersions != 1 {
			t.Fatalf("page size %d: versions\n%v\nwant\n%v", pageSize, rows, want)
		}
		after, err := st.Versions(ctx, "traces/", "traces/a.gz")
		if err != nil || len(after) != 3 || after[0].Key != "traces/b.gz" {
			t.Fatalf("page size %d: after traces/a.gz: %v %v", pageSize, after, err)
		}
	}

	if b, err := st.Get(ctx, "traces/a.gz", first.VersionID); err != nil || string(b) != "first" {
		t.Fatalf("get the overwritten version: %q %v", b, err)
	}
	if b, err := st.Get(ctx, "traces/a.gz", ""); err != nil || string(b) != "second" {
		t.Fatalf("get the current version: %q %v", b, err)
	}
	if _, err := st.Get(ctx, "traces/b.gz", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("get behind a delete marker: %v, want fs.ErrNotExist", err)
	}
	if _, err := st.Get(ctx, "traces/nope.gz", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("get a missing key: %v, want fs.ErrNotExist", err)
	}

	r, err := st.Retention(ctx, "traces/a.gz", first.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != "GOVERNANCE" || r.RetainUntil.Before(time.Now().Add(23*time.Hour)) || r.RetainUntil.After(time.Now().Add(25*time.Hour)) {
		t.Fatalf("retention %+v, want GOVERNANCE for a day", r)
	}

	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("unlocked")}); err != nil {
		t.Fatal(err)
	}
	plain := NewS3(client, "unlocked")
	if _, err := plain.Put(ctx, "traces/a.gz", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if r, err := plain.Retention(ctx, "traces/a.gz", ""); err != nil || r != (Retention{}) {
		t.Fatalf("retention in a bucket without Object Lock: %+v %v, want none", r, err)
	}
	// Object Lock on, but no default retention: the object carries none.
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lock-no-default"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	bare := NewS3(client, "lock-no-default")
	if _, err := bare.Put(ctx, "traces/a.gz", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if r, err := bare.Retention(ctx, "traces/a.gz", ""); err != nil || r != (Retention{}) {
		t.Fatalf("retention of an object without any: %+v %v, want none", r, err)
	}
	// A reader without s3:GetObjectRetention gets an error, never "no retention" (HeadObject would say none).
	limited := NewS3(srv.ClientWith(srv.SessionCredentials(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["s3:ListBucket","s3:ListBucketVersions","s3:GetObject","s3:GetObjectVersion"],
		"Resource":["arn:aws:s3:::audit","arn:aws:s3:::audit/*"]}]}`)), "audit")
	if _, err := limited.Versions(ctx, "traces/", ""); err != nil {
		t.Fatalf("the limited reader cannot list: %v", err)
	}
	if r, err := limited.Retention(ctx, "traces/a.gz", first.VersionID); err == nil {
		t.Fatalf("retention read without permission: %+v, want an error", r)
	}
	if _, err := NewS3(client, "no-such-bucket").Versions(ctx, "traces/", ""); err == nil {
		t.Fatal("listing a bucket that does not exist succeeded")
	}
}
