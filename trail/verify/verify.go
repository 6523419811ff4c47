package verify

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
)

// RecordPrefix is where record objects are.
const RecordPrefix = "traces/"

// Verify checks the audit root in store as opts say and reports what it covered and found. It returns an
// error only when the root could not be checked: it does not exist, cannot be listed or read (credentials,
// permissions), or the digest walk could not read it; integrity problems are findings in the Report, never an
// error. Safe to call concurrently.
func Verify(ctx context.Context, store trail.Store, opts Options) (Report, error) {
	v := seal.NewVerifier(opts.Keys...)
	for id, k := range opts.LegacyKeyIDs {
		if err := v.AcceptLegacyKeyID(id, k); err != nil {
			return Report{}, fmt.Errorf("verify: key for %s: %w", id, err)
		}
	}
	return verifyWith(ctx, store, opts, v, v.Keys())
}

// verifyWith is Verify with the record verifier given (tests give one that reads records too).
func verifyWith(ctx context.Context, store trail.Store, opts Options, v recordVerifier, accepted []string) (Report, error) {
	opts = opts.withDefaults()
	r := &run{
		store: store, opts: opts, scanner: newScanner(v, opts.AllSignatures), fs: newFindings(opts.MaxFindingsPerKind),
		chains: map[string]*chain{}, unknown: map[string]*unknownKey{}, overwritten: map[string]int{}, recordFindings: map[string]int{},
		rep: Report{Root: store.Root(), Since: opts.Since, AcceptedKeys: accepted},
	}
	listed, err := store.Versions(ctx, RecordPrefix, "")
	if err != nil {
		return r.rep, fmt.Errorf("verify: list the records of %s: %w", store.Root(), err)
	}
	jobs := r.plan(listed)
	state, err := r.chainState()
	if err != nil {
		return r.rep, err
	}

	g, gctx := errgroup.WithContext(ctx)
	var retained []trail.Finding
	rr, keepsRetention := store.(trail.RetentionReader)
	if keepsRetention {
		oversize, err := store.Versions(ctx, audit.OversizePrefix, "")
		if err != nil {
			return r.rep, fmt.Errorf("verify: list the oversize objects of %s: %w", store.Root(), err)
		}
		versions := r.inWindow(slices.Concat(listed, oversize))
		r.rep.Versions = len(versions)
		g.Go(func() (err error) {
			retained, err = checkRetention(gctx, rr, versions, opts.Retention)
			return err
		})
	}
	var oversizeFindings []trail.Finding
	g.Go(func() error {
		oc := newOversizeChecker(gctx, store, DefaultOversizeWorkers)
		err := r.scan(gctx, jobs, oc)
		count, found, ocErr := oc.close() // before g.Wait returns, which cancels gctx
		r.rep.Oversize.Checked += count.Checked
		r.rep.Oversize.Valid += count.Valid
		r.rep.Oversize.Invalid += count.Invalid
		oversizeFindings = found
		return errors.Join(err, ocErr)
	})
	if err := g.Wait(); err != nil {
		return r.rep, fmt.Errorf("verify %s: %w", store.Root(), err)
	}
	r.fs.addAll(retained)
	for _, f := range oversizeFindings {
		if i := r.fs.add(f); i >= 0 {
			r.recordFindings[f.Key+"\x00"] = i
		}
	}
	r.finishChains(state)

	if opts.Digests != nil {
		if err := r.checkDigests(ctx); err != nil {
			return r.rep, err
		}
	}
	if r.rep.Records.Checked == 0 {
		r.fs.add(trail.Finding{Kind: KindNoRecords, Key: RecordPrefix, Detail: "no audit record in " + r.window() + ": nothing was verified"})
	}
	r.rep.Guarantees = r.guarantees(ctx, state, keepsRetention)
	r.report()
	return r.rep, nil
}

// run is the state of one Verify.
type run struct {
	store   trail.Store
	opts    Options
	scanner scanner
	fs      *findings
	chains  map[string]*chain
	unknown map[string]*unknownKey
	// overwritten maps a key written over to the index of its finding, for its later versions' outcome.
	overwritten map[string]int
	// recordFindings maps an object version (key, NUL, version id) to the index of the first finding on one of
	// its records, or on the oversize object (key, NUL: the current version); gaps are the missing-record
	// findings. The digest walk's findings on the same objects are
	// folded into these (one cause, one finding).
	recordFindings map[string]int
	gaps           []reportedGap
	rep            Report
	// digestsHeld is set by checkDigests when the digest walk found no problem; digestProblems counts them by
	// kind otherwise.
	digestsHeld    bool
	digestProblems string
}

// unknownKey tallies the records vouched for by one key that was not passed.
type unknownKey struct {
	records, objects int
	lastObject       string
	first            loc
	chain, traceID   string
	seq              int64
	issuer           string
}

func (r *run) windowed() bool { return !r.opts.Since.IsZero() }

func (r *run) window() string {
	if r.windowed() {
		return "the hour partitions since " + r.opts.Since.UTC().Format(time.RFC3339)
	}
	return r.store.Root() + "/" + RecordPrefix
}

// inWindow keeps the versions whose key lies in the window.
func (r *run) inWindow(versions []trail.Object) []trail.Object {
	var out []trail.Object
	for _, o := range versions {
		if !o.DeleteMarker && inWindow(o.Key, r.opts.Since) {
			out = append(out, o)
		}
	}
	return out
}

// plan turns the listing into the versions to read, oldest first for each key, and reports the keys that were
// written over or deleted (on a local root, neither can be seen).
func (r *run) plan(listed []trail.Object) []job {
	var jobs []job
	for i := 0; i < len(listed); {
		j := i + 1
		for j < len(listed) && listed[j].Key == listed[i].Key {
			j++
		}
		versions := listed[i:j] // newest first
		i = j
		key := versions[0].Key
		if !inWindow(key, r.opts.Since) {
			continue
		}
		var contents []trail.Object
		markers := 0
		for _, o := range versions {
			if o.DeleteMarker {
				markers++
			} else {
				contents = append(contents, o)
			}
		}
		slices.Reverse(contents)
		if markers > 0 {
			m := versions[0]
			what := fmt.Sprintf("deleted: a delete marker hides it since %s", m.LastModified.Format(time.RFC3339))
			if !m.DeleteMarker {
				what = fmt.Sprintf("deleted and written again: %d delete markers in its history", markers)
			}
			if len(contents) > 0 {
				what += fmt.Sprintf("; its %d locked versions remain, and are verified", len(contents))
			} else {
				what += "; no version of it remains"
			}
			r.fs.add(trail.Finding{Kind: KindDeleteMarker, Key: key, VersionID: m.VersionID, Detail: what})
		}
		if len(contents) > 1 {
			last := contents[len(contents)-1]
			r.overwritten[key] = r.fs.add(trail.Finding{Kind: KindOverwritten, Key: key, VersionID: last.VersionID,
				Detail: fmt.Sprintf("%d versions: written %s, then written over (last at %s); a record object is written once", len(contents),
					contents[0].LastModified.Format(time.RFC3339), last.LastModified.Format(time.RFC3339))})
		}
		for n, o := range contents {
			jobs = append(jobs, job{obj: o, overwrite: n > 0})
		}
	}
	return jobs
}

// chainState reads a local root's chain state: where its current chain ends. A store that keeps none (S3), or
// a root without one, gives nil.
func (r *run) chainState() (*seal.ChainState, error) {
	l, ok := r.store.(*trail.Local)
	if !ok {
		return nil, nil
	}
	st, err := seal.ReadChainState(filepath.Join(l.Root(), seal.ChainStateFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		r.fs.add(trail.Finding{Kind: KindChainStateUnreadable, Key: seal.ChainStateFile, Detail: err.Error()})
		return nil, nil
	}
	return &st, nil
}

// scan checks the jobs with a pool of workers and merges their results in job order.
func (r *run) scan(ctx context.Context, jobs []job, oc *oversizeChecker) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan job)
	futures := make(chan chan objectResult, 2*r.opts.Workers)
	var wg sync.WaitGroup
	for range r.opts.Workers {
		wg.Go(func() {
			for j := range work {
				res, err := r.scanner.scanObject(ctx, r.store, j)
				if err != nil {
					cancel(err)
				}
				j.out <- res
			}
		})
	}
	go func() {
		defer close(futures)
		defer close(work)
		for _, j := range jobs {
			j.out = make(chan objectResult, 1)
			select {
			case futures <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case work <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()
	for out := range futures {
		select {
		case res := <-out:
			if ctx.Err() == nil {
				r.merge(ctx, res, oc)
			}
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			cancel(nil)
			for range futures { // let the producer finish
			}
			return context.Cause(ctx)
		}
	}
	return nil
}

// dupRun tallies the duplicate copies of one chain's records in one object.
type dupRun struct {
	copies, uncompared int
	from, to           int64
}

// merge folds one object's results into the chains, in the order the objects were listed.
func (r *run) merge(ctx context.Context, res objectResult, oc *oversizeChecker) {
	o := res.obj
	r.rep.Objects.Checked++
	bad := res.unreadable != ""
	if bad {
		r.fs.add(trail.Finding{Kind: KindUnreadableObject, Key: o.Key, VersionID: o.VersionID, Detail: res.unreadable})
	}
	dups := map[string]*dupRun{}
	failed, firstFailure := 0, ""
	var strays []stray
	for i := range res.recs {
		rc := &res.recs[i]
		at := loc{key: o.Key, version: o.VersionID, line: rc.line}
		r.rep.Records.Checked++
		finding := -1
		if rc.ok {
			r.rep.Records.Valid++
			if rc.signed {
				r.rep.SignaturesChecked++
			}
			r.seen(rc.time)
		} else {
			r.rep.Records.Invalid++
			bad = true
			switch {
			case res.overwrite:
				// Folded into the key's overwritten finding: the one cause.
				if failed++; failed == 1 {
					firstFailure = fmt.Sprintf("line %d: %s", rc.line, rc.detail)
				}
				continue
			case rc.kind == KindUnknownKey:
				r.unknownKey(rc, at)
			default:
				finding = r.fs.add(trail.Finding{Kind: rc.kind, Key: o.Key, VersionID: o.VersionID, Line: rc.line, Chain: rc.chain, Seq: rc.seq, TraceID: rc.traceID, Detail: rc.detail})
				if _, seen := r.recordFindings[o.Key+"\x00"+o.VersionID]; !seen && finding >= 0 {
					r.recordFindings[o.Key+"\x00"+o.VersionID] = finding
				}
			}
		}
		if !rc.placeable() {
			if !rc.ok {
				strays = append(strays, stray{line: rc.line, finding: finding})
			}
			continue
		}
		c := r.chains[rc.chain]
		if c == nil {
			c = newChain(rc.chain)
			r.chains[rc.chain] = c
		}
		if rc.ok && rc.seq > c.next {
			strays = c.explain(rc.seq, at, strays, r.fs)
		}
		switch out := c.add(rc, at, finding, r.windowed(), r.fs); out {
		case floated:
			strays = append(strays, stray{line: rc.line, finding: finding})
		case placed:
			if rc.ok {
				for _, u := range rc.undelivered {
					c.declare(u, rc.seq)
				}
				r.oversize(ctx, rc, at, oc)
			}
		case duplicate, uncompared:
			r.rep.Duplicates++
			d := dups[rc.chain]
			if d == nil {
				d = &dupRun{from: rc.seq, to: rc.seq}
				dups[rc.chain] = d
			}
			d.copies++
			d.from, d.to = min(d.from, rc.seq), max(d.to, rc.seq)
			if out == uncompared {
				d.uncompared++
			}
		}
	}
	if bad {
		r.rep.Objects.Invalid++
	} else {
		r.rep.Objects.Valid++
	}
	if res.overwrite {
		if i := r.overwritten[o.Key]; i >= 0 && failed > 0 {
			r.fs.list[i].Detail += fmt.Sprintf("; version %s: %d of its %d records do not verify (first, %s)", o.VersionID, failed, len(res.recs), firstFailure)
		}
		return
	}
	ids := make([]string, 0, len(dups))
	for id := range dups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		d := dups[id]
		what := fmt.Sprintf("%d byte-identical copies of records %s stored before: a retried delivery", d.copies, span(d.from, d.to))
		if d.uncompared > 0 {
			what = fmt.Sprintf("%d copies of records %s stored before, %d of them too far behind the chain to compare byte for byte", d.copies, span(d.from, d.to), d.uncompared)
		}
		r.fs.add(trail.Finding{Kind: KindDuplicate, Key: o.Key, VersionID: o.VersionID, Chain: id, Seq: d.from, Detail: what})
	}
}

// seen widens the report's time range to t.
func (r *run) seen(t time.Time) {
	if t.IsZero() {
		return
	}
	if r.rep.From.IsZero() || t.Before(r.rep.From) {
		r.rep.From = t
	}
	if t.After(r.rep.Until) {
		r.rep.Until = t
	}
}

// unknownKey tallies a record vouched for by a key that was not passed; one finding per key at the end.
func (r *run) unknownKey(rc *rec, at loc) {
	u := r.unknown[rc.issuerKey]
	if u == nil {
		u = &unknownKey{first: at, chain: rc.chain, seq: rc.seq, traceID: rc.traceID, issuer: rc.issuer}
		r.unknown[rc.issuerKey] = u
	}
	u.records++
	if at.key != u.lastObject {
		u.objects, u.lastObject = u.objects+1, at.key
	}
}

// oversize hands the verified record's references to the oversize checker.
func (r *run) oversize(ctx context.Context, rc *rec, at loc, oc *oversizeChecker) {
	for _, ref := range rc.refs {
		if !insideOversize(ref.key) {
			r.rep.Oversize.Checked++
			r.rep.Oversize.Invalid++
			r.fs.add(trail.Finding{Kind: KindOversizeMismatch, Key: at.key, VersionID: at.version, Line: at.line, Chain: rc.chain, Seq: rc.seq, TraceID: rc.traceID,
				Detail: fmt.Sprintf("span %s references %q, outside %s", ref.spanID, ref.key, audit.OversizePrefix)})
			continue
		}
		oc.submit(ctx, oversizeTask{ref: ref, at: at, chain: rc.chain, seq: rc.seq, traceID: rc.traceID})
	}
}

// finishChains closes every chain (the chain state gives the end of its own) and reports the keys not passed.
func (r *run) finishChains(state *seal.ChainState) {
	ids := make([]string, 0, len(r.chains))
	for id := range r.chains {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := r.chains[id]
		var e *end
		if state != nil && state.Chain == id {
			e = &end{seq: state.Seq, prev: state.Prev, undelivered: state.Undelivered}
			c.endProof = fmt.Sprintf("proven: the chain state says it reached %d", state.Seq)
		}
		r.gaps = append(r.gaps, c.finish(e, r.windowed(), r.fs)...)
	}
	if state != nil && r.chains[state.Chain] == nil && !r.windowed() {
		r.fs.add(trail.Finding{Kind: KindChainEndMissing, Key: seal.ChainStateFile, Chain: state.Chain, Seq: 1,
			Detail: fmt.Sprintf("records %s missing: the chain state says the chain reached %d, and no record of it is here", span(1, state.Seq), state.Seq)})
	}
	keys := make([]string, 0, len(r.unknown))
	for k := range r.unknown {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		u := r.unknown[k]
		issuer := ""
		if u.issuer != "" && u.issuer != k {
			issuer = " (issuer " + u.issuer + ")"
		}
		r.fs.add(trail.Finding{Kind: KindUnknownKey, Key: u.first.key, VersionID: u.first.version, Line: u.first.line, Chain: u.chain, Seq: u.seq, TraceID: u.traceID,
			Detail: fmt.Sprintf("signed by key %s%s, which you did not pass: %d records in %d objects; pass its public key if it is yours", k, issuer, u.records, u.objects)})
	}
}

// checkDigests walks the digest chain with the digest keys.
func (r *run) checkDigests(ctx context.Context) error {
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range r.opts.Digests.Keys {
		fp, err := seal.Fingerprint(k)
		if err != nil {
			return fmt.Errorf("verify: digest key: %w", err)
		}
		keys[fp] = k
		r.rep.DigestKeys = append(r.rep.DigestKeys, fp)
	}
	slices.Sort(r.rep.DigestKeys)
	sum, found, err := digest.Check(ctx, r.store, keys, digest.CheckOptions{Since: r.opts.Since, Now: r.opts.Now})
	if err != nil {
		return fmt.Errorf("verify %s: %w", r.store.Root(), err)
	}
	r.rep.Digests = &sum
	byKind := map[trail.Kind]int{}
	for _, f := range found {
		if f.Severity == trail.Problem {
			byKind[f.Kind]++
		}
	}
	kinds := slices.Sorted(maps.Keys(byKind))
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%d %s", byKind[k], k))
	}
	r.digestProblems, r.digestsHeld = strings.Join(parts, ", "), len(parts) == 0
	r.fold(found)
	return nil
}

// fold adds the digest walk's findings, except where a finding of the records already stands for the same
// cause: an object changed after it was listed is the bad record in it; a version unlisted because the object
// was written over is the overwrite. An object listed but gone is kept, and the missing records it held (the
// gaps between the objects around it) are folded into it instead.
func (r *run) fold(found []trail.Finding) {
	for _, f := range found {
		switch f.Kind {
		case digest.KindListedChanged:
			if i, ok := r.recordFindings[f.Key+"\x00"+f.VersionID]; ok {
				r.fs.list[i].Detail += "; the digest walk agrees: " + f.Detail
				continue
			}
			if i, ok := r.recordFindings[f.Key+"\x00"]; ok && strings.HasPrefix(f.Key, audit.OversizePrefix) {
				r.fs.list[i].Detail += "; the digest walk agrees: " + f.Detail
				continue
			}
		case digest.KindUnlisted:
			if i, ok := r.overwritten[f.Key]; ok {
				if i >= 0 {
					r.fs.list[i].Detail += "; version " + f.VersionID + " is listed by no digest"
				}
				continue
			}
		case digest.KindListedGone:
			if i, ok := r.recordFindings[f.Key+"\x00"]; ok && strings.HasPrefix(f.Key, audit.OversizePrefix) {
				r.fs.list[i].Detail += "; the digest walk agrees: " + f.Detail
				continue
			}
			if strings.HasPrefix(f.Key, RecordPrefix) {
				var held []string
				for _, g := range r.gaps {
					if g.finding < 0 || r.fs.list[g.finding].Kind == "" || !between(g.after, f.Key, g.before) {
						continue
					}
					gf := &r.fs.list[g.finding]
					held = append(held, fmt.Sprintf("chain %s seq %d: %s", gf.Chain, gf.Seq, gf.Detail))
					r.fs.drop(g.finding)
				}
				if len(held) > 0 {
					f.Detail += "; it held the records the chains lack: " + strings.Join(held, "; ")
				}
			}
		}
		r.fs.add(f)
	}
}

// between reports whether object key may have held records between the objects after and before ("" for no
// bound): keys in Firehose's layout sort by the second their object was named in, then by a random suffix, so
// keys of one second are all taken as between.
func between(after, key, before string) bool {
	k := namedSecond(key)
	return (after == "" || namedSecond(after) <= k) && (before == "" || k <= namedSecond(before))
}

// objectSecond finds the time an object key names, in Firehose's layout (…-2026-11-01-10-00-00-<suffix>).
var objectSecond = regexp.MustCompile(`-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-`)

// namedSecond cuts a key after the second it names (the whole key when it names none).
func namedSecond(key string) string {
	if loc := objectSecond.FindAllStringIndex(key, -1); loc != nil {
		return key[:loc[len(loc)-1][1]]
	}
	return key
}

// report fills in the chains, the counts and the sorted findings.
func (r *run) report() {
	ids := make([]string, 0, len(r.chains))
	for id, c := range r.chains {
		if c.records > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := r.chains[id]
		ch := Chain{ID: id, Records: c.records, Verified: c.verified, First: c.first, Last: c.last, Legacy: c.legacy, End: c.endProof}
		fps := make([]string, 0, len(c.keys))
		for fp := range c.keys {
			fps = append(fps, fp)
		}
		slices.Sort(fps)
		for _, fp := range fps {
			k := c.keys[fp]
			ch.Keys = append(ch.Keys, ChainKey{Fingerprint: fp, Issuer: k.issuer, IssuerKey: k.issuerKey, Certified: k.certified, Records: k.records})
		}
		r.rep.Chains = append(r.rep.Chains, ch)
	}
	r.rep.Problems, r.rep.Notices = r.fs.problems, r.fs.notices
	r.rep.Verified = r.rep.Records.Checked > 0 && r.fs.problems == 0
	r.rep.Findings = r.fs.listed()
	trail.SortFindings(r.rep.Findings)
	if len(r.fs.suppressed) > 0 {
		r.rep.Suppressed = r.fs.suppressed
	}
}
