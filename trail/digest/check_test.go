package digest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/trail"
)

// end is when the fixtures' trail is checked: a minute after the last digest was written.
var end = t0.Add(32 * time.Minute)

func TestAnUntouchedTrailPasses(t *testing.T) {
	for _, versioned := range []bool{true, false} {
		t.Run(storeName(versioned), func(t *testing.T) {
			f := newFixture(t, versioned)
			f.sixPeriods(t)
			sum, findings := f.check(t, end, CheckOptions{})
			requireFindings(t, findings)
			want := Summary{Digests: 6, Valid: 6, FirstPeriodStart: t0, LastPeriodEnd: t0.Add(30 * time.Minute),
				CoveredBefore: t0.Add(29 * time.Minute), ObjectsListed: 14, ObjectsCompared: 14}
			for fp := range f.keys {
				want.Keys = []string{fp}
			}
			if fmt.Sprint(sum) != fmt.Sprint(want) {
				t.Fatalf("summary\n %+v\nwant\n %+v", sum, want)
			}
		})
	}
}

func storeName(versioned bool) string {
	if versioned {
		return "versioned bucket"
	}
	return "local root"
}

// attack is one tampering with the standard trail and the findings it must produce.
type attack struct {
	name string
	// local says whether the attack applies to a local root too (some need versions).
	local bool
	do    func(t *testing.T, f *fixture, digests []string) (opts CheckOptions, want []trail.Finding)
}

func want(kind trail.Kind, key string) trail.Finding { return trail.Finding{Kind: kind, Key: key} }

// objectKey is the key of the fixture's record object name in period i.
func objectKey(name string, i int) string {
	return fmt.Sprintf("traces/%s/%s.gz", hourDir(t0.Add(time.Duration(i)*5*time.Minute)), name)
}

var attacks = []attack{
	{"a digest removed (with the governance bypass on a locked bucket): its period is missing", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		f.store.remove(t, d[2], f.store.latest(t, d[2]).VersionID)
		return CheckOptions{}, []trail.Finding{want(KindPeriodMissing, d[2])}
	}},
	{"a digest altered in place: its signature fails, once", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		data, _ := f.store.Get(context.Background(), d[3], "")
		f.store.remove(t, d[3], f.store.latest(t, d[3]).VersionID)
		f.store.putAt(d[3], bytes.Replace(data, []byte(`b-3.gz"`), []byte(`c-3.gz"`), 1), time.Time{})
		return CheckOptions{}, []trail.Finding{want(KindBadSignature, d[3])}
	}},
	{"a digest replaced by another validly signed one that drops an object: the next digest's link names it", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		old := f.read(t, d[1])
		old.Objects = old.Objects[:1]
		body, _, err := old.marshal(context.Background(), f.signer)
		if err != nil {
			t.Fatal(err)
		}
		f.store.remove(t, d[1], f.store.latest(t, d[1]).VersionID)
		f.store.putAt(d[1], body, time.Time{})
		return CheckOptions{}, []trail.Finding{want(KindReplaced, d[1])}
	}},
	{"a digest overwritten by a new version", false, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		data, _ := f.store.Get(context.Background(), d[3], "")
		f.store.putAt(d[3], data, time.Time{})
		return CheckOptions{}, []trail.Finding{want(KindReplaced, d[3])}
	}},
	{"a digest hidden by a delete marker", false, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		f.store.hide(d[4])
		return CheckOptions{}, []trail.Finding{want(KindReplaced, d[4])}
	}},
	{"a digest copied over another period's key", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		data, _ := f.store.Get(context.Background(), d[1], "")
		f.store.remove(t, d[2], f.store.latest(t, d[2]).VersionID)
		f.store.putAt(d[2], data, time.Time{})
		return CheckOptions{}, []trail.Finding{want(KindReplaced, d[2])}
	}},
	{"a listed version removed with the governance bypass, no delete marker left", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		k := objectKey("b-2", 2)
		f.store.remove(t, k, f.store.latest(t, k).VersionID)
		return CheckOptions{}, []trail.Finding{want(KindListedGone, k)}
	}},
	{"a whole seal chain's objects removed", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		var w []trail.Finding
		for i := 0; i < 6; i++ {
			k := objectKey(fmt.Sprintf("a-%d", i), i)
			f.store.remove(t, k, f.store.latest(t, k).VersionID)
			w = append(w, want(KindListedGone, k))
		}
		return CheckOptions{}, w
	}},
	{"a listed object rewritten in place", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		k := objectKey("a-1", 1)
		if f.store.versioned {
			return CheckOptions{}, nil // a bucket keeps the listed version; trail/verify reports the second one
		}
		f.store.putAt(k, []byte("records of a-X"), t0.Add(6*time.Minute))
		return CheckOptions{}, []trail.Finding{want(KindListedChanged, k)}
	}},
	{"an object injected into an old hour partition, and one outside the layout", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		old := "traces/" + hourDir(t0.Add(-30*time.Hour)) + "/injected.gz"
		f.store.putAt(old, []byte("forged"), t0.Add(17*time.Minute))
		f.store.putAt("traces/a.gz", []byte("forged"), t0.Add(3*time.Minute))
		return CheckOptions{}, []trail.Finding{want(KindUnlisted, "traces/a.gz"), want(KindUnlisted, old)}
	}},
	{"the newest digests removed with their objects: the chain stops short", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		for i := 4; i < 6; i++ {
			f.store.remove(t, d[i], f.store.latest(t, d[i]).VersionID)
			for _, n := range []string{"a", "b"} {
				k := objectKey(fmt.Sprintf("%s-%d", n, i), i)
				f.store.remove(t, k, f.store.latest(t, k).VersionID)
			}
		}
		return CheckOptions{}, []trail.Finding{want(KindPeriodMissing, KeyFor(t0.Add(25*time.Minute)))}
	}},
	{"every digest removed", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		for _, k := range d {
			f.store.remove(t, k, f.store.latest(t, k).VersionID)
		}
		return CheckOptions{}, []trail.Finding{want(KindChainEmpty, Prefix)}
	}},
	{"the digests at a window's start removed", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		f.store.remove(t, d[2], f.store.latest(t, d[2]).VersionID)
		f.store.remove(t, d[3], f.store.latest(t, d[3]).VersionID)
		return CheckOptions{Since: t0.Add(12 * time.Minute)}, []trail.Finding{want(KindPeriodMissing, d[3])}
	}},
	{"junk under digests/", true, func(t *testing.T, f *fixture, d []string) (CheckOptions, []trail.Finding) {
		f.store.putAt(Prefix+"notes.txt", []byte("x"), time.Time{})
		f.store.putAt(KeyFor(t0.Add(35*time.Minute)), []byte("{}\n"), time.Time{})
		return CheckOptions{}, []trail.Finding{want(KindMalformed, Prefix+"notes.txt"), want(KindMalformed, KeyFor(t0.Add(35*time.Minute)))}
	}},
}

func TestEachAttackIsNamed(t *testing.T) {
	for _, versioned := range []bool{true, false} {
		for _, a := range attacks {
			if !versioned && !a.local {
				continue
			}
			t.Run(storeName(versioned)+"/"+a.name, func(t *testing.T) {
				f := newFixture(t, versioned)
				digests := f.sixPeriods(t)
				opts, w := a.do(t, f, digests)
				_, findings := f.check(t, end, opts)
				requireFindings(t, findings, w...)
			})
		}
	}
}

func TestAWindowChecksOnlyItsDigestsAndTheLinkIntoIt(t *testing.T) {
	f := newFixture(t, true)
	d := f.sixPeriods(t)
	sum, findings := f.check(t, end, CheckOptions{Since: t0.Add(12 * time.Minute), Until: t0.Add(25 * time.Minute)})
	requireFindings(t, findings)
	if sum.Digests != 3 || !sum.FirstPeriodStart.Equal(t0.Add(10*time.Minute)) || !sum.LastPeriodEnd.Equal(t0.Add(25*time.Minute)) {
		t.Fatalf("summary %+v", sum)
	}
	// The digest before the window is read for the link into it: replaced, it is named.
	prev := f.read(t, d[1])
	prev.Objects = nil
	body, _, _ := prev.marshal(context.Background(), f.signer)
	f.store.remove(t, d[1], f.store.latest(t, d[1]).VersionID)
	f.store.putAt(d[1], body, time.Time{})
	_, findings = f.check(t, end, CheckOptions{Since: t0.Add(12 * time.Minute)})
	requireFindings(t, findings, want(KindReplaced, d[1]))
}

func TestObjectsAfterTheLastDigestAreANoticeUntilTheNextListsThem(t *testing.T) {
	f := newFixture(t, true)
	f.sixPeriods(t)
	k := f.object("new", t0.Add(31*time.Minute)).Key
	_, findings := f.check(t, end, CheckOptions{})
	requireFindings(t, findings, want(KindNotYetCovered, k))
	if findings[0].Severity != trail.Notice {
		t.Fatalf("not yet covered is a %s", findings[0].Severity)
	}
	f.write(t, t0.Add(36*time.Minute))
	_, findings = f.check(t, t0.Add(37*time.Minute), CheckOptions{})
	requireFindings(t, findings)
}

func TestAScheduledChainWithoutRecentDigestsIsReported(t *testing.T) {
	f := newFixture(t, true)
	f.sixPeriods(t)
	// The last digest ends at t0+30m; the next two runs may be late, not three.
	if _, findings := f.check(t, t0.Add(41*time.Minute), CheckOptions{}); len(findings) != 0 {
		t.Fatalf("within two periods of the last digest: %s", show(findings))
	}
	_, findings := f.check(t, t0.Add(47*time.Minute), CheckOptions{})
	requireFindings(t, findings, want(KindPeriodMissing, KeyFor(t0.Add(35*time.Minute))))
	if !strings.Contains(findings[0].Detail, "the 3 periods from 2026-11-01T20:30:00Z to 2026-11-01T20:45:00Z") {
		t.Fatalf("detail: %s", findings[0].Detail)
	}
}

func TestDigestsSignedByAKeyNotPassedAreNamedSo(t *testing.T) {
	f := newFixture(t, true)
	f.sixPeriods(t)
	other, _, otherFP := testKey(t)
	f.keys = map[string]*ecdsa.PublicKey{otherFP: &other.PublicKey}
	sum, findings := f.check(t, end, CheckOptions{})
	if len(findings) != 6 || sum.Valid != 0 {
		t.Fatalf("valid %d, findings:\n%s", sum.Valid, show(findings))
	}
	for _, fd := range findings {
		if fd.Kind != KindUnknownKey || !strings.Contains(fd.Detail, "which was not passed") {
			t.Fatalf("finding %+v", fd)
		}
	}
}

func TestTheOldestDigestNotBeingTheChainsFirstIsANotice(t *testing.T) {
	f := newFixture(t, true)
	d := f.sixPeriods(t)
	for _, k := range d[:2] { // expired with the bucket's retention, say, together with their objects' digests
		f.store.remove(t, k, f.store.latest(t, k).VersionID)
	}
	_, findings := f.check(t, end, CheckOptions{})
	requireFindings(t, findings, want(KindEarlierMissing, d[1]))
	if findings[0].Severity != trail.Notice {
		t.Fatalf("severity %s", findings[0].Severity)
	}
	// A window that starts after the gap proves itself whole.
	_, findings = f.check(t, end, CheckOptions{Since: t0.Add(10 * time.Minute)})
	requireFindings(t, findings)
}
