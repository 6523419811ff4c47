package digest

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// Kinds of the findings Check returns.
const (
	// KindChainEmpty: no digest in the window, so nothing shows the trail complete (problem).
	KindChainEmpty trail.Kind = "digest-chain-empty"
	// KindPeriodMissing: no digest covers a period inside the chain, before the window's first digest, or since
	// the last one although its writer runs on a schedule (problem).
	KindPeriodMissing trail.Kind = "digest-period-missing"
	// KindEarlierMissing: the oldest digest in the store is not its chain's first (the digests before it expired
	// with the bucket's retention, or were removed); what came before it is not covered (notice; check a window
	// with Since to prove one).
	KindEarlierMissing trail.Kind = "digest-earlier-missing"
	// KindBadSignature: a digest's signature does not verify under the key it names (problem).
	KindBadSignature trail.Kind = "digest-bad-signature"
	// KindUnknownKey: a digest names a key that was not passed (problem: no accepted key vouches for it).
	KindUnknownKey trail.Kind = "digest-unknown-key"
	// KindMalformed: an object under digests/ is not a digest file or not at a digest key (problem).
	KindMalformed trail.Kind = "digest-malformed"
	// KindReplaced: a digest is not the one its chain links to: the next digest names another hash, it sits at
	// another period's key, or its key holds more than one version or a delete marker (problem).
	KindReplaced trail.Kind = "digest-replaced"
	// KindListedGone: a digest lists an object version the store no longer has (problem). A version removed with
	// the governance bypass leaves no delete marker; this is what names it.
	KindListedGone trail.Kind = "listed-version-gone"
	// KindListedChanged: a listed version's size, ETag or SHA-256 differs from what the digest lists (problem).
	KindListedChanged trail.Kind = "listed-version-changed"
	// KindUnlisted: an object version under traces/ or oversize/ that the covered range should list but no digest
	// lists: written around the digests, injected (problem).
	KindUnlisted trail.Kind = "unlisted-object"
	// KindNotYetCovered: a version newer than the last digest's listing; the next digest lists it (notice).
	KindNotYetCovered trail.Kind = "not-yet-covered"
)

// CheckOptions bounds the digests checked.
type CheckOptions struct {
	// Since and Until select the digests whose period ends in (Since, Until]; the zero time leaves that side
	// open. Object versions are compared when a digest in the window lists them, or when their LastModified lies
	// in the range the window's digests cover.
	Since, Until time.Time
	// Now is the time a schedule's missing digests are measured against when Until is zero (default time.Now()).
	Now time.Time
}

// Summary says what Check covered, as an auditor files it.
type Summary struct {
	// Digests is the number of digests (current versions) checked; Valid of them verified under an accepted key.
	Digests, Valid int
	// FirstPeriodStart and LastPeriodEnd bound the periods the checked digests cover.
	FirstPeriodStart, LastPeriodEnd time.Time
	// CoveredBefore is the last digest's ListedBefore: versions written before it are proven listed.
	CoveredBefore time.Time
	// ObjectsListed is the number of object versions the checked digests list; ObjectsCompared the number of
	// versions in the store compared with a digest's entry or found in the covered range.
	ObjectsListed, ObjectsCompared int
	// Unproven is the number of versions no digest lists that were written in the range of a digest already
	// reported (missing, replaced, or failing its signature): that finding stands for them, one by one they are
	// not reported.
	Unproven int
	// Keys are the fingerprints of the keys that signed the valid digests, sorted.
	Keys []string
}

// tailPeriods is how many periods past its end the last digest of a scheduled chain may be before Check reports
// the periods after it missing: the schedule runs once a period, and one more absorbs a late or retried run.
const tailPeriods = 2

// Check walks the digest chain of store over opts' window and compares the object versions the digests list
// with the store. keys are the accepted digest public keys by fingerprint (seal.Fingerprint); a digest's key
// field selects its key. It returns what was covered, the findings in trail.SortFindings order (kinds above), and
// an error only when the store could not be listed or read. It names: a missing period (in the chain, before
// the window's first digest, or after the last of a scheduled chain); a digest that fails its signature, was
// replaced or moved; a listed version that is gone (also one removed with the governance bypass) or changed; a
// version under traces/ or oversize/ that no digest lists although the covered range includes it; and, as a
// notice, versions newer than the last digest's listing. Each tampering is reported once: a digest already
// reported is not reported again by the link from the next one.
func Check(ctx context.Context, store trail.Store, keys map[string]*ecdsa.PublicKey, opts CheckOptions) (Summary, []trail.Finding, error) {
	c := &checker{store: store, keys: keys, opts: opts, listed: map[objectID]listing{}, reportedKeys: map[string]bool{}}
	if c.opts.Now.IsZero() {
		c.opts.Now = time.Now()
	}
	if err := c.walk(ctx); err != nil {
		return Summary{}, nil, err
	}
	if len(c.chain) == 0 {
		c.add(trail.Finding{Kind: KindChainEmpty, Severity: trail.Problem, Key: Prefix,
			Detail: "no digest in the window: nothing shows the trail complete (is the digest writer deployed? `audit digest` writes a local root's)"})
	} else if err := c.compare(ctx); err != nil {
		return Summary{}, nil, err
	}
	trail.SortFindings(c.findings)
	return c.summary(), c.findings, nil
}

// checker is the state of one Check.
type checker struct {
	store    trail.Store
	keys     map[string]*ecdsa.PublicKey
	opts     CheckOptions
	chain    []*link
	listed   map[objectID]listing
	findings []trail.Finding
	compared int
	unproven int
	// reportedKeys are digest keys that hold something other than their digest, already reported.
	reportedKeys map[string]bool
	// suspect are the LastModified ranges a reported digest should have listed.
	suspect []timeRange
	// low is the LastModified from which the window's digests are the ones that list a version (the zero time
	// when the window starts at the chain's first digest, which lists every earlier version).
	low time.Time
}

// timeRange is [from, to).
type timeRange struct{ from, to time.Time }

// link is one digest of the walk.
type link struct {
	key, versionID string
	d              *Digest
	hash           [32]byte
	valid          bool // verified under an accepted key
	reported       bool // already has a finding: the next digest's link to it is not reported again
}

// listing is the digest that listed an object version, and what it listed.
type listing struct {
	entry  Entry
	digest string
}

func (c *checker) add(f trail.Finding) { c.findings = append(c.findings, f) }

// walk reads the window's digests and checks each one and its link to the one before.
func (c *checker) walk(ctx context.Context) error {
	start := ""
	if !c.opts.Since.IsZero() {
		start = digestsFrom(c.opts.Since)
	}
	vs, err := c.store.Versions(ctx, Prefix, start)
	if err != nil {
		return fmt.Errorf("check digests: list %s: %w", Prefix, err)
	}
	for i := 0; i < len(vs); {
		j := i + 1
		for j < len(vs) && vs[j].Key == vs[i].Key {
			j++
		}
		versions := vs[i:j]
		i = j
		end, ok := periodEndOfKey(versions[0].Key)
		if !ok {
			c.add(trail.Finding{Kind: KindMalformed, Severity: trail.Problem, Key: versions[0].Key, VersionID: versions[0].VersionID,
				Detail: "not a digest key: nothing but digests is written under " + Prefix})
			continue
		}
		if !end.After(c.opts.Since) || (!c.opts.Until.IsZero() && end.After(c.opts.Until)) {
			continue
		}
		if err := c.digest(ctx, versions); err != nil {
			return err
		}
	}
	if len(c.chain) == 0 {
		return nil
	}
	if err := c.head(ctx); err != nil {
		return err
	}
	c.tail()
	c.markSuspects()
	return nil
}

// markSuspects records, for each digest already reported, the range of LastModified its list should cover: from
// the previous digest's cutoff to the next one's.
func (c *checker) markSuspects() {
	for i, l := range c.chain {
		if !l.reported {
			continue
		}
		r := timeRange{from: c.low, to: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
		if i > 0 {
			r.from = c.chain[i-1].d.ListedBefore
		}
		if i+1 < len(c.chain) {
			r.to = c.chain[i+1].d.ListedBefore
		}
		c.suspect = append(c.suspect, r)
	}
}

// digest checks the versions of one digest key (newest first) and appends the newest readable one to the chain.
func (c *checker) digest(ctx context.Context, versions []trail.Object) error {
	key := versions[0].Key
	var l *link
	var others int
	for _, o := range versions {
		if o.DeleteMarker {
			continue
		}
		data, err := c.store.Get(ctx, key, o.VersionID)
		if err != nil {
			return fmt.Errorf("check digests: read %s version %q: %w", key, o.VersionID, err)
		}
		d, hash, err := Parse(data)
		if err != nil {
			c.add(trail.Finding{Kind: KindMalformed, Severity: trail.Problem, Key: key, VersionID: o.VersionID, Detail: err.Error()})
			continue
		}
		if l != nil {
			others++
			if d.Verify(hash, c.keys) == nil {
				c.list(key, d) // an overwritten version's list still counts: whatever it listed must still be there
			}
			continue
		}
		l = &link{key: key, versionID: o.VersionID, d: d, hash: hash}
	}
	if l == nil {
		return nil
	}
	if KeyFor(l.d.PeriodEnd) != key {
		// Not this key's digest: no link of the chain, so the period it should cover is missing, which this
		// finding already says.
		c.add(trail.Finding{Kind: KindReplaced, Severity: trail.Problem, Key: key, VersionID: l.versionID,
			Detail: fmt.Sprintf("holds the digest of the period ending %s (seq %d): a digest copied from another key", l.d.PeriodEnd.UTC().Format(time.RFC3339), l.d.Seq)})
		c.reportedKeys[key] = true
		return nil
	}
	c.chain = append(c.chain, l)
	if err := l.d.Verify(l.hash, c.keys); err != nil {
		kind := KindBadSignature
		if errors.Is(err, seal.ErrUnknownKey) {
			kind = KindUnknownKey
		}
		c.add(trail.Finding{Kind: kind, Severity: trail.Problem, Key: key, VersionID: l.versionID,
			Detail: err.Error() + "; its list is not trusted, and the objects of its period are not proven complete"})
		l.reported = true
	} else {
		l.valid = true
		c.list(key, l.d)
	}
	if others > 0 || versions[0].DeleteMarker {
		detail := fmt.Sprintf("%d versions: a digest is written once, and this one was overwritten", others+1)
		if versions[0].DeleteMarker {
			detail = "a delete marker hides this digest from plain reads"
		}
		c.add(trail.Finding{Kind: KindReplaced, Severity: trail.Problem, Key: key, VersionID: l.versionID, Detail: detail})
		l.reported = true
	}
	if n := len(c.chain); n > 1 {
		c.linkTo(c.chain[n-2], l)
	}
	return nil
}

// list records the object versions d lists.
func (c *checker) list(key string, d *Digest) {
	for _, e := range d.Objects {
		id := objectID{e.Key, e.VersionID}
		if _, ok := c.listed[id]; !ok {
			c.listed[id] = listing{entry: e, digest: key}
		}
	}
}

// linkTo checks that b follows a: contiguous periods, the next seq, and a's key and signed hash. A b that does
// not verify claims nothing: its finding covers its link too.
func (c *checker) linkTo(a, b *link) {
	if !b.valid {
		return
	}
	switch {
	case b.d.PeriodStart.After(a.d.PeriodEnd):
		key := b.d.PrevKey
		if key == "" || key == a.key {
			key = KeyFor(b.d.PeriodStart)
		}
		if !c.reportedKeys[key] {
			c.add(trail.Finding{Kind: KindPeriodMissing, Severity: trail.Problem, Key: key,
				Detail: fmt.Sprintf("no digest for %s (the next digest is %s): removed, or the writer did not run; versions written then are not proven complete", periods(a.d.PeriodEnd, b.d.PeriodStart, a.d.PeriodSeconds), b.key)})
		}
		c.suspect = append(c.suspect, timeRange{from: a.d.ListedBefore, to: b.d.ListedBefore})
	case b.d.PeriodStart.Before(a.d.PeriodEnd):
		c.add(trail.Finding{Kind: KindReplaced, Severity: trail.Problem, Key: b.key, VersionID: b.versionID,
			Detail: fmt.Sprintf("its period starts at %s, inside the period of %s: two chains overlap", b.d.PeriodStart.UTC().Format(time.RFC3339), a.key)})
		b.reported = true
	case b.d.PrevKey != a.key || b.d.Prev != hex.EncodeToString(a.hash[:]) || b.d.Seq != a.d.Seq+1:
		if !a.reported {
			c.add(trail.Finding{Kind: KindReplaced, Severity: trail.Problem, Key: a.key, VersionID: a.versionID,
				Detail: fmt.Sprintf("the next digest %s (seq %d) links to %s seq %d hash %s, but this is seq %d hash %s: it was replaced after the next one was written",
					b.key, b.d.Seq, b.d.PrevKey, b.d.Seq-1, b.d.Prev, a.d.Seq, hex.EncodeToString(a.hash[:]))})
			a.reported = true
		}
	}
}

// head checks what comes before the window's first digest and sets low.
func (c *checker) head(ctx context.Context) error {
	first := c.chain[0]
	if first.d.Seq == 1 {
		return nil // the first digest of a chain lists every version written before it
	}
	c.low = first.d.PeriodStart.Add(-first.d.PeriodEnd.Sub(first.d.ListedBefore)) // the previous digest's cutoff, if it had this settle
	var data []byte
	err := fs.ErrNotExist
	if first.d.PrevKey != "" {
		data, err = c.store.Get(ctx, first.d.PrevKey, "")
	}
	if errors.Is(err, fs.ErrNotExist) {
		if c.opts.Since.IsZero() {
			c.add(trail.Finding{Kind: KindEarlierMissing, Severity: trail.Notice, Key: first.d.PrevKey,
				Detail: fmt.Sprintf("the oldest digest, %s, is seq %d: the digests before it expired with the bucket's retention or were removed, and versions written before %s are not covered", first.key, first.d.Seq, c.low.UTC().Format(time.RFC3339))})
		} else if first.d.PeriodStart.After(c.opts.Since) {
			c.add(trail.Finding{Kind: KindPeriodMissing, Severity: trail.Problem, Key: first.d.PrevKey,
				Detail: fmt.Sprintf("no digest for %s (the next digest is %s): removed", periods(c.opts.Since, first.d.PeriodStart, first.d.PeriodSeconds), first.key)})
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("check digests: read %s: %w", first.d.PrevKey, err)
	}
	prev, hash, err := Parse(data)
	if err != nil || first.d.Prev != hex.EncodeToString(hash[:]) {
		c.add(trail.Finding{Kind: KindReplaced, Severity: trail.Problem, Key: first.d.PrevKey,
			Detail: fmt.Sprintf("the digest %s (seq %d) links to this one by hash %s, which it does not have: it was replaced", first.key, first.d.Seq, first.d.Prev)})
		return nil
	}
	c.low = prev.ListedBefore // authentic: the first digest's signed link vouches for its bytes
	return nil
}

// tail reports the periods after the last digest missing when its chain runs on a schedule and the next digest
// is overdue at the window's end.
func (c *checker) tail() {
	last := c.chain[len(c.chain)-1].d
	if last.PeriodSeconds <= 0 {
		return // a period closed at a call (WriteNow): nothing says when the next comes
	}
	end := c.opts.Until
	if end.IsZero() {
		end = c.opts.Now
	}
	period := time.Duration(last.PeriodSeconds) * time.Second
	settle := last.PeriodEnd.Sub(last.ListedBefore)
	if end.Sub(last.PeriodEnd) <= settle+tailPeriods*period {
		return
	}
	due := end.Add(-settle).Truncate(period)
	c.add(trail.Finding{Kind: KindPeriodMissing, Severity: trail.Problem, Key: KeyFor(last.PeriodEnd.Add(period)),
		Detail: fmt.Sprintf("no digest since %s: %s are missing (the writer stopped, or its newest digests were removed)", last.PeriodEnd.UTC().Format(time.RFC3339), periods(last.PeriodEnd, due, last.PeriodSeconds))})
}

// periods describes the span from a to b, and how many periods it is on a schedule.
func periods(a, b time.Time, periodSeconds int64) string {
	s := fmt.Sprintf("the period from %s to %s", a.UTC().Format(time.RFC3339), b.UTC().Format(time.RFC3339))
	if periodSeconds > 0 {
		n := int64(b.Sub(a) / (time.Duration(periodSeconds) * time.Second))
		s = fmt.Sprintf("the %d periods from %s to %s", n, a.UTC().Format(time.RFC3339), b.UTC().Format(time.RFC3339))
	}
	return s
}

// compare lists the versions under traces/ and oversize/ (all of them: an object injected under an old hour
// partition has a recent LastModified) and compares them with what the digests list.
func (c *checker) compare(ctx context.Context) error {
	versions, err := listVersions(ctx, c.store, time.Time{})
	if err != nil {
		return fmt.Errorf("check digests: %w", err)
	}
	last := c.chain[len(c.chain)-1].d
	seen := map[objectID]bool{}
	for _, o := range versions {
		if o.DeleteMarker {
			continue // a hidden version is still there; trail/verify reports the marker
		}
		id := objectID{o.Key, o.VersionID}
		seen[id] = true
		if l, ok := c.listed[id]; ok {
			c.compared++
			if diff := changed(l.entry, o); diff != "" {
				c.add(trail.Finding{Kind: KindListedChanged, Severity: trail.Problem, Key: o.Key, VersionID: o.VersionID,
					Detail: fmt.Sprintf("%s lists it with %s: changed after it was listed", l.digest, diff)})
			}
			continue
		}
		switch t := o.LastModified; {
		case t.Before(c.low):
			// written before the window: an earlier digest lists it
		case !t.Before(last.ListedBefore):
			if c.opts.Until.IsZero() {
				c.compared++
				c.add(trail.Finding{Kind: KindNotYetCovered, Severity: trail.Notice, Key: o.Key, VersionID: o.VersionID,
					Detail: fmt.Sprintf("written %s, after the last digest's listing (%s): the next digest lists it", t.UTC().Format(time.RFC3339), last.ListedBefore.UTC().Format(time.RFC3339))})
			}
		case c.inSuspect(t):
			c.compared++
			c.unproven++
		default:
			c.compared++
			c.add(trail.Finding{Kind: KindUnlisted, Severity: trail.Problem, Key: o.Key, VersionID: o.VersionID,
				Detail: fmt.Sprintf("written %s, inside the range the digests cover (to %s), but no digest lists it: injected, or written around the digest writer", t.UTC().Format(time.RFC3339), last.ListedBefore.UTC().Format(time.RFC3339))})
		}
	}
	for id, l := range c.listed {
		if !seen[id] {
			c.add(trail.Finding{Kind: KindListedGone, Severity: trail.Problem, Key: id.key, VersionID: id.versionID,
				Detail: fmt.Sprintf("%s lists it (%d bytes, written %s), but the store has no such version: it was removed (on a locked bucket, with the governance bypass, which leaves no delete marker)",
					l.digest, l.entry.Size, l.entry.LastModified.UTC().Format(time.RFC3339))})
		}
	}
	return nil
}

// inSuspect reports whether t lies in the range of a digest already reported.
func (c *checker) inSuspect(t time.Time) bool {
	return slices.ContainsFunc(c.suspect, func(r timeRange) bool { return !t.Before(r.from) && t.Before(r.to) })
}

// changed names how o differs from what e lists; "" when it does not. A checksum only one side knows is not
// compared.
func changed(e Entry, o trail.Object) string {
	switch {
	case e.Size != o.Size:
		return fmt.Sprintf("%d bytes, and it has %d", e.Size, o.Size)
	case e.ETag != "" && o.ETag != "" && e.ETag != o.ETag:
		return fmt.Sprintf("ETag %s, and it has %s", e.ETag, o.ETag)
	case e.SHA256 != "" && o.SHA256 != "" && e.SHA256 != o.SHA256:
		return fmt.Sprintf("SHA-256 %s, and it has %s", e.SHA256, o.SHA256)
	}
	return ""
}

func (c *checker) summary() Summary {
	s := Summary{Digests: len(c.chain), ObjectsListed: len(c.listed), ObjectsCompared: c.compared, Unproven: c.unproven}
	for _, l := range c.chain {
		if l.valid {
			s.Valid++
			if !slices.Contains(s.Keys, l.d.Key) {
				s.Keys = append(s.Keys, l.d.Key)
			}
		}
	}
	slices.Sort(s.Keys)
	if n := len(c.chain); n > 0 {
		s.FirstPeriodStart = c.chain[0].d.PeriodStart.UTC()
		s.LastPeriodEnd = c.chain[n-1].d.PeriodEnd.UTC()
		s.CoveredBefore = c.chain[n-1].d.ListedBefore.UTC()
	}
	return s
}
