package main

import (
	"context"
	"crypto/ecdsa"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/kmstest"
	"github.com/agent-audit/agent-audit/internal/miniotest"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
)

// localDigestKeys are the accepted digest keys of a local root: the local signing key, by fingerprint.
func localDigestKeys(t *testing.T) map[string]*ecdsa.PublicKey {
	t.Helper()
	pub := publicKey(t, defaultKeyFile())
	fp, err := seal.Fingerprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*ecdsa.PublicKey{fp: pub}
}

// checkDigests runs digest.Check over a store and returns the findings.
func checkDigests(t *testing.T, store trail.Store, keys map[string]*ecdsa.PublicKey) (digest.Summary, []trail.Finding) {
	t.Helper()
	sum, findings, err := digest.Check(context.Background(), store, keys, digest.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sum, findings
}

func TestRunWritesTheDigestThatCoversItsRecords(t *testing.T) {
	root := filepath.Join(t.TempDir(), "audit-data")
	for i := range 2 {
		_, stderr, err := execute(t, "run", "--root", root, "What is 6 * 7?")
		if err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, stderr)
		}
		if !strings.Contains(stderr, "audit digest written to "+filepath.Join(root, "digests")) {
			t.Fatalf("run %d does not say where its digest went: %s", i, stderr)
		}
		sum, findings := checkDigests(t, trail.NewLocal(root), localDigestKeys(t))
		if len(findings) != 0 || sum.Digests != i+1 || sum.ObjectsListed != i+1 {
			t.Fatalf("after run %d: %+v\n%v", i, sum, findings)
		}
	}
}

func TestDemoWritesTheDigestOfItsRoot(t *testing.T) {
	root, _ := demoRoot(t)
	sum, findings := checkDigests(t, trail.NewLocal(root), localDigestKeys(t))
	if len(findings) != 0 || sum.Digests != 1 || sum.ObjectsListed < 20 {
		t.Fatalf("after the demo: %+v\n%v", sum, findings)
	}
}

func TestDigestClosesALocalRootsPeriodNow(t *testing.T) {
	root := sealedRoot(t, 1)
	// Something written after the run's digest (another tool, by hand) is not yet covered...
	lateKey := "traces/" + time.Now().UTC().Format("year=2006/month=01/day=02/hour=15") + "/late.gz"
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(lateKey)), []byte("late"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, findings := checkDigests(t, trail.NewLocal(root), localDigestKeys(t))
	if len(findings) != 1 || findings[0].Kind != digest.KindNotYetCovered || findings[0].Key != lateKey {
		t.Fatalf("findings %v", findings)
	}
	// ...until `audit digest` closes the period.
	out, _, err := execute(t, "digest", "--root", root)
	if err != nil || !strings.HasPrefix(out, "digest written: "+filepath.Join(root, "digests")+string(filepath.Separator)) {
		t.Fatalf("digest: %v\n%s", err, out)
	}
	sum, findings := checkDigests(t, trail.NewLocal(root), localDigestKeys(t))
	if len(findings) != 0 || sum.Digests != 2 || sum.ObjectsListed != 2 {
		t.Fatalf("after audit digest: %+v\n%v", sum, findings)
	}

	if _, _, err := execute(t, "digest", "--root", filepath.Join(t.TempDir(), "typo")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("a missing root: %v", err)
	}
}

// TestDigestWritesABucketsDigestsWithKMS runs `audit digest` against a locked MinIO bucket with a KMS key, as the
// digest Lambda does: the first call starts the chain, a later one writes the periods since.
func TestDigestWritesABucketsDigestsWithKMS(t *testing.T) {
	keys := kmstest.New(t)
	srv := miniotest.Start(t)
	srv.LockedBucket(t, "audit", types.ObjectLockRetentionModeGovernance, 1)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3":         srv.Endpoint,
		"AWS_ENDPOINT_URL_KMS":        keys.URL,
		"AWS_REGION":                  miniotest.Region,
		"AWS_ACCESS_KEY_ID":           srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       srv.SecretKey,
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		agentenv.S3ForcePathStyle:     "true",
	} {
		t.Setenv(k, v)
	}
	store := trail.NewS3(srv.Client(t), "audit")
	obj, err := store.Put(context.Background(), "traces/"+time.Now().UTC().Format("year=2006/month=01/day=02/hour=15")+"/a.gz", []byte("records"))
	if err != nil {
		t.Fatal(err)
	}

	if _, _, err := execute(t, "digest", "--root", "s3://audit"); err == nil || !strings.Contains(err.Error(), "--kms-key-id") || exitCode(err) != ExitUsage {
		t.Fatalf("a bucket without a key: %v", err)
	}
	// Wait for the end of the first 1 s period whose listing (its end less the 100 ms settle) comes after the
	// object was written, then a little longer: that period has ended and settled, and its digest lists the object.
	written := time.Now()
	end := written.Truncate(time.Second).Add(time.Second)
	if !end.Add(-100 * time.Millisecond).After(written) {
		end = end.Add(time.Second)
	}
	time.Sleep(time.Until(end.Add(200 * time.Millisecond)))
	out, stderr, err := execute(t, "digest", "--root", "s3://audit", "--kms-key-id", keys.KeyARN, "--period", "1s", "--settle", "100ms")
	if err != nil || strings.Count(out, "digest written: s3://audit/digests/") != 1 {
		t.Fatalf("digest: %v\n%s%s", err, out, stderr)
	}
	fp, _ := seal.Fingerprint(keys.PublicKey())
	sum, findings, err := digest.Check(context.Background(), store, map[string]*ecdsa.PublicKey{fp: keys.PublicKey()}, digest.CheckOptions{})
	if err != nil || len(findings) != 0 || sum.Digests != 1 || sum.ObjectsListed != 1 || sum.Keys[0] != fp {
		t.Fatalf("check: %v %+v %v", err, sum, findings)
	}
	data, _ := store.Get(context.Background(), digest.KeyFor(sum.LastPeriodEnd), "")
	if d, _, err := digest.Parse(data); err != nil || d.Issuer != keys.KeyARN || d.Objects[0].VersionID != obj.VersionID {
		t.Fatalf("digest %+v %v", d, err)
	}

	time.Sleep(2 * time.Second)
	out, _, err = execute(t, "digest", "--root", "s3://audit", "--kms-key-id", keys.KeyARN, "--period", "1s", "--settle", "100ms")
	if err != nil || strings.Count(out, "digest written:") < 2 {
		t.Fatalf("the catch-up run: %v\n%s", err, out)
	}
	if n := keys.Calls("Sign"); n != strings.Count(out, "digest written:")+1 {
		t.Fatalf("%d kms:Sign calls for %d digests", n, strings.Count(out, "digest written:")+1)
	}
}

func TestDigestUsageErrorsExitTwo(t *testing.T) {
	root := t.TempDir()
	for _, args := range [][]string{
		{"digest", "--root", root, "--period", "0s"},
		{"digest", "--root", root, "--period", "5m", "--lookback", "1m"},
		{"digest", "--root", root, "--settle", "-1s"},
	} {
		if _, _, err := execute(t, args...); err == nil || exitCode(err) != ExitUsage {
			t.Errorf("%v: %v (exit %d), want exit %d", args, err, exitCode(err), ExitUsage)
		}
	}
}
