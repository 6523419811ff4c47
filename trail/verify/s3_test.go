package verify

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/internal/miniotest"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
	"github.com/agent-audit/agent-audit/trail/verify/verifytest"
)

// TestVerifyOnARealS3 uploads a sealed root into a bucket under Object Lock on MinIO (versions, delete markers
// and retention as S3 keeps them) and carries out what someone with write access to the bucket can do.
func TestVerifyOnARealS3(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	client := srv.Client(t)
	f := newFixture(t, verifytest.Options{Records: 12, PerObject: 3})
	upload := func(t *testing.T, bucket string) *trail.S3 {
		t.Helper()
		srv.LockedBucket(t, bucket, types.ObjectLockRetentionModeGovernance, 1)
		store := trail.NewS3(client, bucket)
		for _, o := range f.Objects {
			data, err := os.ReadFile(f.path(o.Key))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Put(ctx, o.Key, data); err != nil {
				t.Fatal(err)
			}
		}
		return store
	}
	check := func(t *testing.T, store trail.Store, opts Options) Report {
		t.Helper()
		opts.Keys = []*ecdsa.PublicKey{&f.key.PublicKey}
		rep, err := Verify(ctx, store, opts)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		return rep
	}

	t.Run("an untouched bucket verifies, retention included", func(t *testing.T) {
		rep := check(t, upload(t, "intact"), Options{Retention: 24 * time.Hour})
		if !rep.Verified || rep.Versions != 4 || rep.Guarantees.Retention.Status != Held || rep.Guarantees.Completeness.Status != NotChecked {
			t.Fatalf("versions %d, guarantees %+v\n%s", rep.Versions, rep.Guarantees, dump(rep))
		}
		rep = check(t, trail.NewS3(client, "intact"), Options{Retention: 30 * 24 * time.Hour})
		if got := problems(rep); len(got) != 4 || got[0] != KindRetentionShort || rep.Guarantees.Retention.Status != Failed {
			t.Fatalf("a 30-day horizon over 1-day retention: %v", got)
		}
	})
	t.Run("an overwritten object is one finding, its bad record folded in", func(t *testing.T) {
		store := upload(t, "overwritten")
		key := f.Objects[1].Key
		original, _ := os.ReadFile(f.path(key))
		f.edit(t, key, replaceOnce(t, `"invoke_agent"`, `"invoke_agenT"`))
		data, _ := os.ReadFile(f.path(key))
		os.WriteFile(f.path(key), original, 0o644) // the other buckets get the trail untouched
		if _, err := store.Put(ctx, key, data); err != nil {
			t.Fatal(err)
		}
		rep := check(t, store, Options{})
		if got := problems(rep); !slices.Equal(got, []trail.Kind{KindOverwritten}) || !strings.Contains(rep.Findings[0].Detail, "1 of its 3 records do not verify") || rep.Records.Valid != 14 {
			t.Fatalf("problems %v, records %+v\n%s", got, rep.Records, dump(rep))
		}
	})
	t.Run("a deleted object is its delete marker; the locked version still verifies", func(t *testing.T) {
		store := upload(t, "deleted")
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("deleted"), Key: aws.String(f.Objects[2].Key)}); err != nil {
			t.Fatal(err)
		}
		rep := check(t, store, Options{})
		if got := problems(rep); !slices.Equal(got, []trail.Kind{KindDeleteMarker}) || rep.Records.Valid != 12 {
			t.Fatalf("problems %v, records %+v\n%s", got, rep.Records, dump(rep))
		}
	})
	t.Run("a version removed with the governance bypass is named by the digests, with the records it held", func(t *testing.T) {
		store := upload(t, "bypassed")
		w := digest.NewWriter(store, newIssuer(t, f.key), &f.key.PublicKey, digest.WithLogger(slog.New(slog.DiscardHandler)))
		if _, err := w.WriteNow(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		digests := &DigestOptions{Keys: []*ecdsa.PublicKey{&f.key.PublicKey}}
		if rep := check(t, store, Options{Digests: digests}); !rep.Verified || rep.Guarantees.Completeness.Status != Held || rep.Guarantees.Digests.Status != Held {
			t.Fatalf("before: guarantees %+v\n%s", rep.Guarantees, dump(rep))
		}
		versions, err := store.Versions(ctx, f.Objects[3].Key, "")
		if err != nil || len(versions) != 1 {
			t.Fatalf("%v %v", versions, err)
		}
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bypassed"), Key: aws.String(f.Objects[3].Key),
			VersionId: aws.String(versions[0].VersionID), BypassGovernanceRetention: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		// Without the digests the newest records are simply gone: nothing says the chain went further.
		if rep := check(t, store, Options{}); !rep.Verified || rep.Guarantees.Completeness.Status != NotChecked {
			t.Fatalf("without digests: %+v\n%s", rep.Guarantees, dump(rep))
		}
		rep := check(t, store, Options{Digests: digests})
		if got := problems(rep); !slices.Equal(got, []trail.Kind{digest.KindListedGone}) || rep.Guarantees.Completeness.Status != Failed {
			t.Fatalf("problems %v, guarantees %+v\n%s", got, rep.Guarantees, dump(rep))
		}
	})
	t.Run("a reader without s3:GetObjectRetention cannot check, and says so", func(t *testing.T) {
		upload(t, "refused")
		limited := trail.NewS3(srv.ClientWith(srv.SessionCredentials(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
			"Action":["s3:ListBucket","s3:ListBucketVersions","s3:GetObject","s3:GetObjectVersion"],
			"Resource":["arn:aws:s3:::refused","arn:aws:s3:::refused/*"]}]}`)), "refused")
		if _, err := Verify(ctx, limited, Options{Keys: []*ecdsa.PublicKey{&f.key.PublicKey}}); err == nil || !strings.Contains(err.Error(), "retention") {
			t.Fatalf("verify without permission to read retention: %v, want an error", err)
		}
	})
}
