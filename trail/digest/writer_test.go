package digest

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestWriteStartsTheChainWithThePeriodThatEndedLastListingEveryVersion(t *testing.T) {
	f := newFixture(t, true)
	old := f.object("two-days-old", t0.Add(-48*time.Hour))
	recent := f.object("recent", t0.Add(time.Minute))
	f.object("in-the-settle-time", t0.Add(4*time.Minute+30*time.Second))
	keys := f.write(t, t0.Add(7*time.Minute)) // periods end every 5 min; the one ending t0+5m has settled at t0+6m
	if len(keys) != 1 || keys[0] != KeyFor(t0.Add(5*time.Minute)) {
		t.Fatalf("wrote %v, want the digest of the period ending %s", keys, t0.Add(5*time.Minute))
	}
	d := f.read(t, keys[0])
	if d.Seq != 1 || d.Prev != "" || d.PrevKey != "" || !d.PeriodStart.Equal(t0) || d.PeriodSeconds != 300 || !d.ListedBefore.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("first digest %+v", d)
	}
	if len(d.Objects) != 2 || d.Objects[0] != entryOf(old) || d.Objects[1] != entryOf(recent) {
		t.Fatalf("the first digest lists %+v, want the recent and the two-days-old object (not the one in the settle time)", d.Objects)
	}
}

func TestWriteCatchesUpEveryMissedPeriodOldestFirstChainedToTheLast(t *testing.T) {
	f := newFixture(t, true)
	f.write(t, t0.Add(6*time.Minute))
	settling := f.object("settling", t0.Add(9*time.Minute+30*time.Second)) // within the settle time of t0+10m
	keys := f.write(t, t0.Add(21*time.Minute))                             // the runs at t0+11m and t0+16m failed
	want := []string{KeyFor(t0.Add(10 * time.Minute)), KeyFor(t0.Add(15 * time.Minute)), KeyFor(t0.Add(20 * time.Minute))}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("wrote %v, want %v", keys, want)
	}
	prevKey := KeyFor(t0.Add(5 * time.Minute))
	for i, key := range keys {
		data, _ := f.store.Get(context.Background(), key, "")
		d, _, _ := Parse(data)
		prevData, _ := f.store.Get(context.Background(), prevKey, "")
		_, prevHash, _ := Parse(prevData)
		if d.Seq != int64(i+2) || d.PrevKey != prevKey || d.Prev != hex.EncodeToString(prevHash[:]) || !d.PeriodStart.Equal(d.PeriodEnd.Add(-5*time.Minute)) {
			t.Fatalf("digest %d: seq %d prev %s %s period %s..%s", i, d.Seq, d.PrevKey, d.Prev, d.PeriodStart, d.PeriodEnd)
		}
		switch i {
		case 0:
			if !bytes.Contains(data, []byte(`"objects":[]`)) {
				t.Errorf("an empty period's digest lists no objects as []: %s", data)
			}
		case 1:
			if len(d.Objects) != 1 || d.Objects[0] != entryOf(settling) {
				t.Errorf("the object written in the settle time of t0+10m belongs to the next period: %+v", d.Objects)
			}
		}
		prevKey = key
	}
	if again := f.write(t, t0.Add(21*time.Minute)); len(again) != 0 {
		t.Fatalf("a second run in the same period wrote %v", again)
	}
}

// TestALateObjectIsListedByTheNextDigestNeverMissed: Firehose names an object's prefix by its oldest record's
// arrival, and a retried delivery lands hours later in an old hour partition; an upload can also appear in
// listings after the digest of the period its LastModified falls in was written. Either way the next digest
// lists it, once, and the chain checks clean.
func TestALateObjectIsListedByTheNextDigestNeverMissed(t *testing.T) {
	f := newFixture(t, true)
	f.write(t, t0.Add(6*time.Minute))
	f.object("on-time", t0.Add(7*time.Minute))
	f.write(t, t0.Add(11*time.Minute))
	// Written at t0+12m into the partition of three hours before (a retried delivery)...
	retried := f.store.putAt("traces/"+hourDir(t0.Add(-3*time.Hour))+"/retried.gz", []byte("retried"), t0.Add(12*time.Minute))
	// ...and one whose upload began at t0+8m (its LastModified, before the t0+10m digest's cutoff) but appeared
	// only after that digest was written.
	slow := f.store.putAt("traces/"+hourDir(t0)+"/slow.gz", []byte("slow"), t0.Add(8*time.Minute))
	keys := f.write(t, t0.Add(16*time.Minute))
	d := f.read(t, keys[0])
	if len(d.Objects) != 2 || d.Objects[0] != entryOf(retried) || d.Objects[1] != entryOf(slow) {
		t.Fatalf("the next digest lists %+v, want the slow and the retried object", d.Objects)
	}
	// A writer in a new container (nothing cached) lists neither again.
	f.writer = NewWriter(f.store, f.signer, &f.key.PublicKey, WithLogger(quiet()))
	f.object("later", t0.Add(17*time.Minute))
	d = f.read(t, f.write(t, t0.Add(21*time.Minute))[0])
	if len(d.Objects) != 1 || !strings.HasSuffix(d.Objects[0].Key, "/later.gz") {
		t.Fatalf("a cold writer lists %+v, want only the new object", d.Objects)
	}
	_, findings := f.check(t, t0.Add(22*time.Minute), CheckOptions{})
	requireFindings(t, findings)
}

func TestWriteNowCoversEverythingWrittenBeforeTheCall(t *testing.T) {
	f := newFixture(t, false)
	now := t0.Add(90*time.Second + 250*time.Millisecond)
	run := f.object("run-1", now.Add(-time.Millisecond))
	key, err := f.writer.WriteNow(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	d := f.read(t, key)
	if key != KeyFor(t0.Add(91*time.Second)) || d.PeriodSeconds != 0 || !d.ListedBefore.Equal(now) || len(d.Objects) != 1 || d.Objects[0] != entryOf(run) {
		t.Fatalf("WriteNow wrote %s: %+v", key, d)
	}
	// A second run within the same second: its period ends a second after the last one.
	run2 := f.object("run-2", now.Add(100*time.Millisecond))
	key2, err := f.writer.WriteNow(context.Background(), now.Add(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	d2 := f.read(t, key2)
	if key2 != KeyFor(t0.Add(92*time.Second)) || !d2.PeriodStart.Equal(d.PeriodEnd) || d2.Seq != 2 || len(d2.Objects) != 1 || d2.Objects[0] != entryOf(run2) {
		t.Fatalf("second WriteNow wrote %s: %+v", key2, d2)
	}
	// A period closed at a call has no schedule: days later, no digest is missing.
	sum, findings := f.check(t, t0.Add(72*time.Hour), CheckOptions{})
	requireFindings(t, findings)
	if sum.Digests != 2 || sum.Valid != 2 || sum.ObjectsListed != 2 || !sum.CoveredBefore.Equal(now.Add(200*time.Millisecond)) {
		t.Fatalf("summary %+v", sum)
	}
}

func TestWriteRefusesAnIssuerThatIsNotThePublicKey(t *testing.T) {
	f := newFixture(t, true)
	other, _, _ := testKey(t)
	w := NewWriter(f.store, f.signer, &other.PublicKey, WithLogger(quiet()))
	if keys, err := w.Write(context.Background(), t0.Add(6*time.Minute)); err == nil || !strings.Contains(err.Error(), "signs with a key other than") {
		t.Fatalf("wrote %v, %v", keys, err)
	}
	if vs, _ := f.store.Versions(context.Background(), Prefix, ""); len(vs) != 0 {
		t.Fatalf("a digest no key verifies was stored: %v", vs)
	}
}

func TestWriteCatchesUpAtMostMaxCatchUpPeriodsPerCall(t *testing.T) {
	f := newFixture(t, true)
	f.write(t, t0.Add(6*time.Minute))
	later := t0.Add(6*time.Minute + (MaxCatchUp+10)*DefaultPeriod)
	if n := len(f.write(t, later)); n != MaxCatchUp {
		t.Fatalf("one call wrote %d digests, want %d", n, MaxCatchUp)
	}
	if n := len(f.write(t, later)); n != 10 {
		t.Fatalf("the next call wrote %d, want the 10 left", n)
	}
	_, findings := f.check(t, later, CheckOptions{})
	requireFindings(t, findings)
}

func TestAWriterContinuesAChainWhoseNewestDigestIsOlderThanTheLookback(t *testing.T) {
	f := newFixture(t, true)
	f.write(t, t0.Add(6*time.Minute))
	w := NewWriter(f.store, f.signer, &f.key.PublicKey, WithLogger(quiet()), WithLookback(time.Hour))
	f.writer = w
	keys := f.write(t, t0.Add(3*time.Hour+time.Minute))
	if d := f.read(t, keys[0]); d.Seq != 2 {
		t.Fatalf("after a pause longer than the lookback the chain restarted: %+v", d)
	}
}

func TestAForgedDigestCannotHideAnObjectFromTheNextDigest(t *testing.T) {
	f := newFixture(t, true)
	first := f.write(t, t0.Add(6*time.Minute))[0]
	f.write(t, t0.Add(11*time.Minute))
	hidden := f.object("hidden", t0.Add(12*time.Minute))
	// Someone with write access to digests/ but not the digest key adds a version claiming the object is listed.
	_, forger, _ := testKey(t)
	forged := f.read(t, first)
	forged.Objects = []Entry{entryOf(hidden)}
	body, _, err := forged.marshal(context.Background(), forger)
	if err != nil {
		t.Fatal(err)
	}
	f.store.putAt(first, body, t0.Add(13*time.Minute))
	f.writer = NewWriter(f.store, f.signer, &f.key.PublicKey, WithLogger(quiet())) // a cold writer reads it
	d := f.read(t, f.write(t, t0.Add(16*time.Minute))[0])
	if len(d.Objects) != 1 || d.Objects[0] != entryOf(hidden) {
		t.Fatalf("the next digest lists %+v, want the object the forged digest claimed", d.Objects)
	}
}

// TestAWarmWriterChainsFromWhatItWroteWhenTheNewestDigestIsRemovedOrReplaced: someone holding the governance
// bypass removes the newest digest and the object it lists before the next run. A writer that remembers its last
// digest chains from it, so the removal shows as a missing period instead of being written over.
func TestAWarmWriterChainsFromWhatItWroteWhenTheNewestDigestIsRemovedOrReplaced(t *testing.T) {
	f := newFixture(t, true)
	f.write(t, t0.Add(6*time.Minute))
	o := f.object("removed", t0.Add(7*time.Minute))
	newest := f.write(t, t0.Add(11*time.Minute))[0]
	f.store.remove(t, newest, f.store.latest(t, newest).VersionID)
	f.store.remove(t, o.Key, o.VersionID)
	next := f.write(t, t0.Add(16*time.Minute))
	if d := f.read(t, next[0]); len(next) != 1 || d.PrevKey != newest || d.Seq != 3 {
		t.Fatalf("wrote %v: %+v; want the digest after %s", next, d, newest)
	}
	_, findings := f.check(t, t0.Add(17*time.Minute), CheckOptions{})
	requireFindings(t, findings, want(KindPeriodMissing, newest))

	// Replaced by a digest that drops an object, re-signed by the key's holder: the next digest links to the
	// original, and Check names the replacement.
	p := f.object("dropped", t0.Add(17*time.Minute))
	newest = f.write(t, t0.Add(21*time.Minute))[0]
	forged := f.read(t, newest)
	forged.Objects = nil
	body, _, _ := forged.marshal(context.Background(), f.signer)
	f.store.remove(t, newest, f.store.latest(t, newest).VersionID)
	f.store.putAt(newest, body, t0.Add(21*time.Minute))
	f.store.remove(t, p.Key, p.VersionID)
	f.write(t, t0.Add(26*time.Minute))
	_, findings = f.check(t, t0.Add(27*time.Minute), CheckOptions{})
	requireFindings(t, findings, want(KindPeriodMissing, KeyFor(t0.Add(10*time.Minute))), want(KindReplaced, newest))
}

func TestWriteRefusesPeriodsItCannotName(t *testing.T) {
	f := newFixture(t, true)
	for _, opt := range []Option{WithPeriod(1500 * time.Millisecond), WithPeriod(0), WithSettle(-time.Second), WithLookback(time.Minute)} {
		w := NewWriter(f.store, f.signer, &f.key.PublicKey, WithLogger(quiet()), WithPeriod(5*time.Minute), opt)
		if _, err := w.Write(context.Background(), t0.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "want a period of whole seconds") {
			t.Errorf("Write: %v", err)
		}
	}
}
