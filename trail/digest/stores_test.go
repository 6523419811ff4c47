package digest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/miniotest"
	"github.com/agent-audit/agent-audit/trail"
)

// realRoot is a real store and what an attacker can do to it.
type realRoot struct {
	name  string
	store trail.Store
	// remove deletes key's current version for good: os.Remove, or DeleteObject with its version id and the
	// governance bypass, which leaves no delete marker.
	remove func(t *testing.T, key string)
	// put writes body at key: a new file, or a new version.
	put func(t *testing.T, key string, body []byte)
	// hide puts a delete marker on key (no bypass needed); nil on a local root.
	hide func(t *testing.T, key string)
	// write writes the due digests at now.
	write func(t *testing.T, now time.Time) []string
	// signer is the digest key, for the attack by someone who holds it.
	signer seal.Signer
}

func s3Root(t *testing.T, srv *miniotest.Server, client *s3.Client, bucket string, signer seal.Signer, pub *ecdsa.PublicKey, lookback time.Duration) *realRoot {
	srv.LockedBucket(t, bucket, types.ObjectLockRetentionModeGovernance, 1)
	st := trail.NewS3(client, bucket)
	w := NewWriter(st, signer, pub, WithPeriod(time.Second), WithSettle(300*time.Millisecond), WithLookback(lookback), WithLogger(quiet()))
	ctx := context.Background()
	return &realRoot{
		name: bucket, store: st, signer: signer,
		remove: func(t *testing.T, key string) {
			t.Helper()
			vs, err := st.Versions(ctx, key, "")
			if err != nil || len(vs) == 0 || vs[0].Key != key {
				t.Fatalf("versions of %s: %v %v", key, vs, err)
			}
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
				VersionId: aws.String(vs[0].VersionID), BypassGovernanceRetention: aws.Bool(true)}); err != nil {
				t.Fatalf("delete %s %s with the governance bypass: %v", key, vs[0].VersionID, err)
			}
		},
		put: func(t *testing.T, key string, body []byte) {
			t.Helper()
			if _, err := st.Put(ctx, key, body); err != nil {
				t.Fatal(err)
			}
		},
		hide: func(t *testing.T, key string) {
			t.Helper()
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
		},
		write: func(t *testing.T, now time.Time) []string {
			t.Helper()
			keys, err := w.Write(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			return keys
		},
	}
}

func localRoot(t *testing.T, name string, signer seal.Signer, pub *ecdsa.PublicKey) *realRoot {
	dir := filepath.Join(t.TempDir(), name)
	st := trail.NewLocal(dir)
	w := NewWriter(st, signer, pub, WithLogger(quiet()))
	return &realRoot{
		name: name, store: st, signer: signer,
		remove: func(t *testing.T, key string) {
			t.Helper()
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(key))); err != nil {
				t.Fatal(err)
			}
		},
		put: func(t *testing.T, key string, body []byte) {
			t.Helper()
			p := filepath.Join(dir, filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, body, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		write: func(t *testing.T, now time.Time) []string {
			t.Helper()
			key, err := w.WriteNow(context.Background(), now)
			if err != nil {
				t.Fatal(err)
			}
			return []string{key}
		},
	}
}

// realAttack tampers with a root written by writeRealTrail; digests are the digest keys in order.
type realAttack struct {
	name string
	// s3Only marks attacks that need versions (a local root has none).
	s3Only bool
	// beforeLast runs before the last digest is written (an injection the writer must not launder).
	beforeLast func(t *testing.T, r *realRoot)
	do         func(t *testing.T, r *realRoot, digests []string, objects []string) []trail.Finding
}

var realAttacks = []realAttack{
	{name: "untouched"},
	{name: "a digest removed", do: func(t *testing.T, r *realRoot, d, _ []string) []trail.Finding {
		r.remove(t, d[2])
		return []trail.Finding{want(KindPeriodMissing, d[2])}
	}},
	{name: "a digest altered", do: func(t *testing.T, r *realRoot, d, _ []string) []trail.Finding {
		data, err := r.store.Get(context.Background(), d[3], "")
		if err != nil {
			t.Fatal(err)
		}
		r.remove(t, d[3])
		r.put(t, d[3], bytes.Replace(data, []byte(`"seq":4`), []byte(`"seq":5`), 1))
		return []trail.Finding{want(KindBadSignature, d[3])}
	}},
	{name: "a digest replaced by a validly signed one that drops an object", do: func(t *testing.T, r *realRoot, d, _ []string) []trail.Finding {
		i := 1
		for len(mustParse(t, r, d[i]).Objects) == 0 { // a catch-up run writes an empty period too
			i++
		}
		forged := mustParse(t, r, d[i])
		forged.Objects = forged.Objects[1:]
		body, _, err := forged.marshal(context.Background(), r.signer)
		if err != nil {
			t.Fatal(err)
		}
		r.remove(t, d[i])
		r.put(t, d[i], body)
		return []trail.Finding{want(KindReplaced, d[i])}
	}},
	{name: "a listed version removed", do: func(t *testing.T, r *realRoot, _, o []string) []trail.Finding {
		r.remove(t, o[3])
		return []trail.Finding{want(KindListedGone, o[3])}
	}},
	{name: "a seal chain's objects removed", do: func(t *testing.T, r *realRoot, _, o []string) []trail.Finding {
		var w []trail.Finding
		for _, k := range o {
			if strings.Contains(k, "/chain-a-") {
				r.remove(t, k)
				w = append(w, want(KindListedGone, k))
			}
		}
		return w
	}},
	{name: "objects injected where the writer does not look",
		beforeLast: func(t *testing.T, r *realRoot) {
			r.put(t, "traces/"+hourDir(time.Now().Add(-30*time.Hour))+"/injected.gz", []byte("forged"))
			r.put(t, "traces/a.gz", []byte("forged"))
		},
		do: func(t *testing.T, r *realRoot, _, _ []string) []trail.Finding {
			return []trail.Finding{want(KindUnlisted, "traces/a.gz"), want(KindUnlisted, "traces/"+hourDir(time.Now().Add(-30*time.Hour))+"/injected.gz")}
		}},
	{name: "a digest copied over the next period's key", do: func(t *testing.T, r *realRoot, d, _ []string) []trail.Finding {
		data, _ := r.store.Get(context.Background(), d[1], "")
		r.remove(t, d[2])
		r.put(t, d[2], data)
		return []trail.Finding{want(KindReplaced, d[2])}
	}},
	{name: "a digest overwritten by a new version", s3Only: true, do: func(t *testing.T, r *realRoot, d, _ []string) []trail.Finding {
		data, _ := r.store.Get(context.Background(), d[2], "")
		r.put(t, d[2], data)
		return []trail.Finding{want(KindReplaced, d[2])}
	}},
	{name: "a digest hidden by a delete marker", s3Only: true, do: func(t *testing.T, r *realRoot, d, _ []string) []trail.Finding {
		r.hide(t, d[2])
		return []trail.Finding{want(KindReplaced, d[2])}
	}},
	{name: "the newest digests removed with their objects", s3Only: true, do: func(t *testing.T, r *realRoot, d, o []string) []trail.Finding {
		cut := len(d) - 3
		removedAfter := mustParse(t, r, d[cut-1]).ListedBefore
		for _, k := range d[cut:] {
			r.remove(t, k)
		}
		for _, k := range o {
			vs, _ := r.store.Versions(context.Background(), k, "")
			if !vs[0].LastModified.Before(removedAfter) {
				r.remove(t, k)
			}
		}
		return []trail.Finding{want(KindPeriodMissing, KeyFor(mustParse(t, r, d[cut-1]).PeriodEnd.Add(time.Second)))}
	}},
}

func mustParse(t *testing.T, r *realRoot, key string) *Digest {
	t.Helper()
	data, err := r.store.Get(context.Background(), key, "")
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// writeRealTrail writes, into every root at once, six rounds of two record objects (seal chains a and b) and
// the due digests, a round a period, and returns each root's digest and object keys.
func writeRealTrail(t *testing.T, roots []*realRoot, attacks []realAttack) (map[string][]string, map[string][]string) {
	digests, objects := map[string][]string{}, map[string][]string{}
	for round := 0; round < 6; round++ {
		now := time.Now()
		for i, r := range roots {
			if round == 5 && attacks[i].beforeLast != nil {
				attacks[i].beforeLast(t, r)
			}
			for _, c := range []string{"a", "b"} {
				k := fmt.Sprintf("traces/%s/chain-%s-%d.gz", hourDir(now), c, round)
				r.put(t, k, []byte(k))
				objects[r.name] = append(objects[r.name], k)
			}
		}
		// Write once a period (one second) has ended whose cutoff (its end minus the 300 ms settle) is after the
		// objects just written, and has settled.
		end := time.Now().Add(300 * time.Millisecond).Truncate(time.Second).Add(time.Second)
		time.Sleep(time.Until(end.Add(350 * time.Millisecond)))
		now = time.Now()
		for _, r := range roots {
			digests[r.name] = append(digests[r.name], r.write(t, now)...)
		}
	}
	return digests, objects
}

func runRealAttacks(t *testing.T, roots []*realRoot, attacks []realAttack, keys map[string]*ecdsa.PublicKey) {
	digests, objects := writeRealTrail(t, roots, attacks)
	now := time.Now()
	for i, r := range roots {
		a := attacks[i]
		t.Run(a.name, func(t *testing.T) {
			if n := len(digests[r.name]); n < 6 {
				t.Fatalf("%d digests written: %v", n, digests[r.name])
			}
			var w []trail.Finding
			if a.do != nil {
				w = a.do(t, r, digests[r.name], objects[r.name])
			}
			sum, findings, err := Check(context.Background(), r.store, keys, CheckOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			requireFindings(t, findings, w...)
			if a.do == nil && (sum.Valid != len(digests[r.name]) || sum.ObjectsListed != len(objects[r.name])) {
				t.Fatalf("untouched: %+v, want %d digests and %d objects", sum, len(digests[r.name]), len(objects[r.name]))
			}
		})
	}
}

// TestEachAttackIsNamedOnARealS3 carries out every attack on MinIO buckets under GOVERNANCE Object Lock (the
// removals use the governance bypass, which leaves no delete marker) and shows each named, and an untouched
// bucket passing.
func TestEachAttackIsNamedOnARealS3(t *testing.T) {
	srv := miniotest.Start(t)
	client := srv.Client(t)
	k, signer, fp := testKey(t)
	var roots []*realRoot
	for i := range realAttacks {
		// The writer's lookback is short so an injection into a partition of 30 hours ago is out of its sight
		// (the default 26 hours are as blind to one three days old).
		roots = append(roots, s3Root(t, srv, client, fmt.Sprintf("audit-%d", i), signer, &k.PublicKey, 2*time.Hour))
	}
	runRealAttacks(t, roots, realAttacks, map[string]*ecdsa.PublicKey{fp: &k.PublicKey})
}

// TestEachAttackIsNamedOnALocalRoot carries out the attacks that apply to a local root (it keeps no versions)
// on real directories whose digests WriteNow wrote, as `audit run` does.
func TestEachAttackIsNamedOnALocalRoot(t *testing.T) {
	k, signer, fp := testKey(t)
	var roots []*realRoot
	var attacks []realAttack
	for _, a := range realAttacks {
		if a.s3Only {
			continue
		}
		attacks = append(attacks, a)
		roots = append(roots, localRoot(t, fmt.Sprintf("root-%d", len(roots)), signer, &k.PublicKey))
	}
	attacks = append(attacks, realAttack{name: "a listed object rewritten", do: func(t *testing.T, r *realRoot, _, o []string) []trail.Finding {
		r.put(t, o[4], []byte("rewritten"))
		return []trail.Finding{want(KindListedChanged, o[4])}
	}})
	roots = append(roots, localRoot(t, "rewritten", signer, &k.PublicKey))
	if !slices.ContainsFunc(attacks, func(a realAttack) bool { return a.beforeLast != nil }) {
		t.Fatal("no injection among the local attacks")
	}
	runRealAttacks(t, roots, attacks, map[string]*ecdsa.PublicKey{fp: &k.PublicKey})
}
