package digest

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// Writer defaults.
const (
	// DefaultPeriod is the digest period: one digest every 5 minutes.
	DefaultPeriod = 5 * time.Minute
	// DefaultLookback is how far back, in hour partitions, each listing reaches: 26 hours, because Firehose names
	// an object's prefix by its oldest record's arrival (up to one buffer interval before the write) and retries
	// S3 delivery for up to 24 hours.
	DefaultLookback = 26 * time.Hour
	// DefaultSettle is how long after a period's end the digest waits before listing: a version listed in a
	// digest has LastModified at least this long before the period's end, which absorbs the time between an
	// upload's start (its LastModified) and the moment it appears in listings.
	DefaultSettle = time.Minute
	// MaxCatchUp bounds the periods one Write call writes (a day at the default period); the next call continues.
	MaxCatchUp = 288
)

// Option configures a Writer.
type Option func(*Writer)

// WithPeriod sets the digest period (default DefaultPeriod), a whole number of seconds. Periods end on multiples
// of it since the zero time, which for a period dividing an hour are wall-clock boundaries in UTC.
func WithPeriod(d time.Duration) Option { return func(w *Writer) { w.period = d } }

// WithLookback sets how far back each listing reaches (default DefaultLookback).
func WithLookback(d time.Duration) Option { return func(w *Writer) { w.lookback = d } }

// WithSettle sets the wait between a period's end and its listing (default DefaultSettle).
func WithSettle(d time.Duration) Option { return func(w *Writer) { w.settle = d } }

// WithLogger sets where the writer logs what it wrote and what it found wrong (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(w *Writer) { w.log = l } }

// Writer writes the digest chain of an audit root. Its methods are safe for concurrent use (they serialise);
// two Writers on one root, in one process or several, must not run at once (the digest Lambda runs with a
// concurrency of one), or both write the same period and Check reports the digest as replaced.
type Writer struct {
	store    trail.Store
	issuer   seal.Signer
	pub      *ecdsa.PublicKey
	period   time.Duration
	lookback time.Duration
	settle   time.Duration
	log      *slog.Logger

	mu sync.Mutex
	// known caches what each digest in the lookback listed, by digest key, so a warm writer reads each once.
	known map[string]knownDigest
	// selfChecked is set once the writer has verified its own first signature under pub.
	selfChecked bool
	// wrote is the last digest this writer wrote: a warm writer chains from it even when the store's newest
	// digest is older or different, so removing or replacing the newest digest does not go unnoticed.
	wrote *stored
}

// knownDigest is what one digest version listed.
type knownDigest struct {
	versionID string
	periodEnd time.Time
	listed    []objectID
}

// objectID names one object version.
type objectID struct{ key, versionID string }

// NewWriter returns a writer storing digests in store, signed by issuer; pub is the issuer's public key (its
// fingerprint goes into every digest, and the writer checks its first signature against it).
func NewWriter(store trail.Store, issuer seal.Signer, pub *ecdsa.PublicKey, opts ...Option) *Writer {
	w := &Writer{
		store: store, issuer: issuer, pub: pub,
		period: DefaultPeriod, lookback: DefaultLookback, settle: DefaultSettle,
		log: slog.Default(), known: map[string]knownDigest{},
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// span is one period to write.
type span struct{ start, end, listedBefore time.Time }

// Write writes the digest of every period that has ended (period_end + settle <= now) since the last digest in
// the store, oldest first, or starts the chain with the period that ended last when there is none. It returns
// the keys written. Safe to call again after a failure: it resumes from the last digest stored. One call writes
// at most MaxCatchUp digests (the rest are left for the next call, and logged).
func (w *Writer) Write(ctx context.Context, now time.Time) ([]string, error) {
	if w.period < time.Second || w.period%time.Second != 0 || w.settle < 0 || w.lookback <= w.period {
		// Digest keys name their period's end to the second.
		return nil, fmt.Errorf("digest writer: period %s, settle %s, lookback %s: want a period of whole seconds, a longer lookback and a settle of 0 or more", w.period, w.settle, w.lookback)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	last, err := w.chainFrom(ctx, now)
	if err != nil {
		return nil, err
	}
	lastDue := now.UTC().Add(-w.settle).Truncate(w.period)
	var spans []span
	if last == nil {
		spans = []span{{start: lastDue.Add(-w.period), end: lastDue}}
	} else {
		start := last.d.PeriodEnd.UTC()
		for end := start.Truncate(w.period).Add(w.period); !end.After(lastDue); end = end.Add(w.period) {
			spans = append(spans, span{start: start, end: end})
			start = end
		}
	}
	if len(spans) > MaxCatchUp {
		w.log.WarnContext(ctx, "digest writer is catching up; the next call continues", "due", len(spans), "writing", MaxCatchUp)
		spans = spans[:MaxCatchUp]
	}
	for i := range spans {
		spans[i].listedBefore = spans[i].end.Add(-w.settle)
	}
	return w.write(ctx, last, spans, int64(w.period/time.Second), now)
}

// MTimeSlack is how far behind time.Now a file's modification time may be (Linux stamps it from the coarse
// clock, one scheduler tick of 1 to 10 ms; the slack leaves room to spare). WriteNow lists only after now is that
// far past.
const MTimeSlack = 50 * time.Millisecond

// WriteNow writes one digest whose period runs from the last digest's end to now, rounded up to the next
// second (or one second past the last digest's end, if that is later), listing every version with LastModified
// before now that no earlier digest listed: no settle time, because the caller asserts that whatever wrote to
// the root has finished (a local root after `audit run`). So the objects written before the call are covered
// right after it. The digest has period_seconds 0: it closes a period at a call, not on a schedule, so Check
// expects no digest after it by any time. It returns the key written.
//
// When now has not yet passed by MTimeSlack, WriteNow waits until it has before it lists: a file system stamps
// modification times from a coarse clock that may run a tick behind time.Now, so a file written just after now
// could carry an earlier time, fall inside the digest's coverage unlisted, and read as injected.
func (w *Writer) WriteNow(ctx context.Context, now time.Time) (string, error) {
	if w.lookback <= 0 {
		return "", fmt.Errorf("digest writer: lookback %s: want a positive lookback", w.lookback)
	}
	if wait := time.Until(now.Add(MTimeSlack)); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return "", fmt.Errorf("digest writer: %w", ctx.Err())
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	last, err := w.chainFrom(ctx, now)
	if err != nil {
		return "", err
	}
	now = now.UTC()
	end := now.Truncate(time.Second).Add(time.Second)
	s := span{start: end.Add(-time.Second), end: end, listedBefore: now}
	if last != nil {
		s.start = last.d.PeriodEnd.UTC()
		if !end.After(s.start) {
			s.end = s.start.Add(time.Second)
		}
		if s.listedBefore.Before(last.d.ListedBefore) {
			s.listedBefore = last.d.ListedBefore.UTC()
		}
	}
	keys, err := w.write(ctx, last, []span{s}, 0, now)
	if err != nil {
		return "", err
	}
	return keys[0], nil
}

// stored is a digest read back from the store.
type stored struct {
	key, versionID string
	d              *Digest
	hash           [32]byte
}

// write lists the objects once and writes a digest for each span, chained from last.
func (w *Writer) write(ctx context.Context, last *stored, spans []span, periodSeconds int64, now time.Time) ([]string, error) {
	if len(spans) == 0 {
		return nil, nil
	}
	fingerprint, err := seal.Fingerprint(w.pub)
	if err != nil {
		return nil, fmt.Errorf("digest writer: issuer public key: %w", err)
	}
	// A chain's first digest lists every version in the root; later ones reach back by the lookback only.
	from := time.Time{}
	if last != nil {
		from = spans[0].end.Add(-w.lookback)
	}
	listed, err := w.listedSince(ctx, from)
	if err != nil {
		return nil, err
	}
	versions, err := listVersions(ctx, w.store, from)
	if err != nil {
		return nil, err
	}
	seq, prev, prevKey := int64(1), "", ""
	if last != nil {
		seq, prev, prevKey = last.d.Seq+1, hex.EncodeToString(last.hash[:]), last.key
	}
	var written []string
	for _, s := range spans {
		d := &Digest{
			V: Version, Type: Type, Root: w.store.Root(), Seq: seq,
			PeriodStart: s.start, PeriodEnd: s.end, PeriodSeconds: periodSeconds, ListedBefore: s.listedBefore,
			WrittenAt: now.UTC(), Prev: prev, PrevKey: prevKey,
			Issuer: w.issuer.KeyID(), Key: fingerprint, Alg: Alg,
		}
		var ids []objectID
		for _, o := range versions {
			id := objectID{o.Key, o.VersionID}
			if o.DeleteMarker || !o.LastModified.Before(s.listedBefore) || listed[id] {
				continue
			}
			listed[id] = true
			ids = append(ids, id)
			d.Objects = append(d.Objects, entryOf(o))
		}
		body, hash, err := d.marshal(ctx, w.issuer)
		if err != nil {
			return written, fmt.Errorf("digest writer: period ending %s: %w", s.end.Format(time.RFC3339), err)
		}
		if !w.selfChecked {
			// The first signature of a writer is checked against the key its digests name, so a signer that is not
			// pub's key fails here, loudly, and not at audit time.
			if err := seal.VerifyDigest(w.pub, hash, d.Sig); err != nil {
				return written, fmt.Errorf("digest writer: the issuer %s signs with a key other than %s: %w", w.issuer.KeyID(), fingerprint, err)
			}
			w.selfChecked = true
		}
		key := KeyFor(s.end)
		obj, err := w.store.Put(ctx, key, body)
		if err != nil {
			return written, fmt.Errorf("digest writer: store %s: %w", key, err)
		}
		w.known[key] = knownDigest{versionID: obj.VersionID, periodEnd: s.end, listed: ids}
		w.wrote = &stored{key: key, versionID: obj.VersionID, d: d, hash: hash}
		w.log.InfoContext(ctx, "digest written", "key", key, "seq", seq, "objects", len(d.Objects))
		written = append(written, key)
		seq, prev, prevKey = seq+1, hex.EncodeToString(hash[:]), key
	}
	return written, nil
}

// chainFrom returns the digest the next one chains from: the newest in the store, unless this writer wrote a
// later one or the store's copy of its last one differs. Then that digest was removed or replaced after it was
// written; the writer logs it and chains from what it wrote, so the next digest's prev_key and prev name the
// digest the store no longer has and Check reports it. (A writer that starts cold knows only the store.)
func (w *Writer) chainFrom(ctx context.Context, now time.Time) (*stored, error) {
	last, err := w.lastDigest(ctx, now)
	if err != nil || w.wrote == nil {
		return last, err
	}
	switch {
	case last == nil || last.key < w.wrote.key:
		w.log.ErrorContext(ctx, "the newest digest this writer wrote is gone from the store; chaining from it so the gap shows", "key", w.wrote.key)
		return w.wrote, nil
	case last.key == w.wrote.key && last.hash != w.wrote.hash:
		w.log.ErrorContext(ctx, "the newest digest this writer wrote was replaced in the store; chaining from what it wrote", "key", w.wrote.key)
		return w.wrote, nil
	}
	return last, nil
}

// lastDigest returns the newest readable digest in the store, or nil when there is none. It looks back by the
// lookback first, then further, so a writer that was down longer than the lookback still continues its chain.
// A digest whose key's current version is a delete marker is still read (its newest version): the chain goes on
// from it, and Check reports the marker. An unreadable digest is logged and passed over.
func (w *Writer) lastDigest(ctx context.Context, now time.Time) (*stored, error) {
	for _, from := range []string{digestsFrom(now.Add(-w.lookback)), digestsFrom(now.Add(-40 * 24 * time.Hour)), ""} {
		vs, err := w.store.Versions(ctx, Prefix, from)
		if err != nil {
			return nil, fmt.Errorf("digest writer: list %s: %w", Prefix, err)
		}
		newest := newestVersions(vs)
		for i := len(newest) - 1; i >= 0; i-- {
			o := newest[i]
			data, err := w.store.Get(ctx, o.Key, o.VersionID)
			if err != nil {
				return nil, fmt.Errorf("digest writer: read %s: %w", o.Key, err)
			}
			d, hash, err := Parse(data)
			if err != nil {
				w.log.ErrorContext(ctx, "digest unreadable; chaining from the one before it", "key", o.Key, "version", o.VersionID, "err", err)
				continue
			}
			return &stored{key: o.Key, versionID: o.VersionID, d: d, hash: hash}, nil
		}
		if from == "" {
			break
		}
	}
	return nil, nil
}

// listedSince returns the object versions listed by the digests whose period ends after from (all, for the zero
// time), reading only the digests the writer has not read before. A digest that does not verify under the
// writer's key is logged and its list ignored, so a forged digest cannot hide an object from the next one.
func (w *Writer) listedSince(ctx context.Context, from time.Time) (map[objectID]bool, error) {
	start := ""
	if !from.IsZero() {
		start = digestsFrom(from)
	}
	vs, err := w.store.Versions(ctx, Prefix, start)
	if err != nil {
		return nil, fmt.Errorf("digest writer: list %s: %w", Prefix, err)
	}
	fingerprint, err := seal.Fingerprint(w.pub)
	if err != nil {
		return nil, fmt.Errorf("digest writer: issuer public key: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{fingerprint: w.pub}
	listed := map[objectID]bool{}
	current := map[string]bool{}
	for _, o := range newestVersions(vs) {
		end, _ := periodEndOfKey(o.Key)
		if !end.After(from) {
			continue
		}
		current[o.Key] = true
		k, ok := w.known[o.Key]
		if !ok || k.versionID != o.VersionID {
			data, err := w.store.Get(ctx, o.Key, o.VersionID)
			if err != nil {
				return nil, fmt.Errorf("digest writer: read %s: %w", o.Key, err)
			}
			k = knownDigest{versionID: o.VersionID, periodEnd: end}
			d, hash, err := Parse(data)
			if err == nil {
				err = d.Verify(hash, keys)
			}
			if err != nil {
				w.log.ErrorContext(ctx, "digest does not verify; its list is ignored", "key", o.Key, "version", o.VersionID, "err", err)
			} else {
				for _, e := range d.Objects {
					k.listed = append(k.listed, objectID{e.Key, e.VersionID})
				}
			}
			w.known[o.Key] = k
		}
		for _, id := range k.listed {
			listed[id] = true
		}
	}
	for key := range w.known {
		if !current[key] { // out of the lookback, or gone: keep the cache bounded by the window
			delete(w.known, key)
		}
	}
	return listed, nil
}

// newestVersions returns, in key order, the newest version that is not a delete marker of each digest key.
func newestVersions(vs []trail.Object) []trail.Object {
	var out []trail.Object
	for _, o := range vs {
		if o.DeleteMarker {
			continue
		}
		if _, ok := periodEndOfKey(o.Key); !ok {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Key == o.Key {
			continue // versions of one key come newest first
		}
		out = append(out, o)
	}
	return out
}

// listVersions lists the versions under the listed prefixes in the hour partitions from from on (every key, for
// the zero time).
func listVersions(ctx context.Context, store trail.Store, from time.Time) ([]trail.Object, error) {
	var all []trail.Object
	for _, p := range listedPrefixes {
		start := ""
		if !from.IsZero() {
			start = p + hourDir(from)
		}
		vs, err := store.Versions(ctx, p, start)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", p, err)
		}
		all = append(all, vs...)
	}
	slices.SortStableFunc(all, func(a, b trail.Object) int { return strings.Compare(a.Key, b.Key) })
	return all, nil
}

// digestsFrom is the startAfter that lists the digests of t's hour partition and later: a key prefix without
// its slash sorts before every key under it.
func digestsFrom(t time.Time) string { return Prefix + hourDir(t) }
