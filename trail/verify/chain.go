package verify

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/agent-audit/agent-audit/trail"
)

// loc is where a record is: object key, version and line.
type loc struct {
	key, version string
	line         int
}

func (l loc) String() string {
	if l.key == "" {
		return "an earlier object"
	}
	s := fmt.Sprintf("%s line %d", l.key, l.line)
	if l.version != "" {
		s = fmt.Sprintf("%s (version %s) line %d", l.key, l.version, l.line)
	}
	return s
}

// slot is a remembered position: the record's hash ("" when it did not verify), where it is, and, for one that
// did not verify, the index of its finding.
type slot struct {
	seq     int64
	hash    string
	at      loc
	finding int
}

// gap is a run of seqs below a chain's frontier that no record holds yet. Records arrive almost in order, so
// a chain has few open gaps at a time; the ones left at the end are missing records.
type gap struct {
	from, to int64
	// prevHash is the Hash of the verified record at from-1, at prevAt ("" when unknown); nextPrev is the Prev
	// that the verified record at to+1, at nextAt, claims ("" when unknown). A record filling the gap's edge is
	// checked against them.
	prevHash, nextPrev string
	prevAt, nextAt     loc
	// beforeWindow marks the seqs before a windowed chain's first record: not reported.
	beforeWindow bool
	// declaredBy is, for a seq a record declared undelivered (a gap of one), that record's seq; 0 otherwise.
	declaredBy int64
	// atEnd marks seqs past the chain's last record that the chain state says it reached.
	atEnd bool
}

func (g gap) size() int64 { return g.to - g.from + 1 }

// float is a record that did not verify and whose claimed position could not be given to it (a verified
// record holds it, or it lies beyond the frontier): its seal may have been altered, seq included.
type float struct {
	seq     int64
	finding int
}

// keyUse is what a chain's records say of one of its keys.
type keyUse struct {
	issuer, issuerKey string
	certified         bool
	records           int
	firstSeq          int64
	first             loc
}

// chain is the streaming state of one chain: bounded by its open gaps and DefaultRecentSeqs remembered
// positions, whatever its length.
type chain struct {
	id string
	// records counts the positions taken; verified those taken by records that verified.
	records, verified int
	legacy            int
	legacyFirst       loc
	first, last       Position
	// next is the frontier: one past the highest seq taken. lastHash is the Hash of the record at next-1 when
	// it verified, at lastAt.
	next     int64
	lastHash string
	lastAt   loc
	gaps     []gap
	recent   []slot
	keys     map[string]*keyUse
	floating []float
	// endProof says what proves where the chain ends, for the report.
	endProof string
}

func newChain(id string) *chain {
	return &chain{id: id, next: 1, keys: map[string]*keyUse{}}
}

// outcome is what adding a record did.
type outcome int

const (
	// placed: the record took a position no record held (or one a record that did not verify held).
	placed outcome = iota
	// duplicate: a byte-identical copy of the record at its position.
	duplicate
	// uncompared: the position is taken, by a record too old to compare with; counted as a duplicate.
	uncompared
	// forked: a different verified record holds the position.
	forked
	// floated: the record did not verify and its position is taken or beyond reach.
	floated
)

// add places r, found at at, in the chain. finding is the index of r's finding when it did not verify.
func (c *chain) add(r *rec, at loc, finding int, windowed bool, fs *findings) outcome {
	s := r.seq
	hash := ""
	if r.ok {
		hash = r.hash
	}
	switch {
	case s == c.next || s > c.next && r.ok:
		if s > c.next {
			g := gap{from: c.next, to: s - 1, prevHash: c.lastHash, prevAt: c.lastAt, beforeWindow: c.records == 0 && windowed}
			g.nextPrev, g.nextAt = r.prev, at
			c.gaps = append(c.gaps, g)
		} else if r.ok && s > 1 && c.lastHash != "" && r.prev != c.lastHash {
			c.linkMismatch(fs, s, at, r.prev, c.lastAt, c.lastHash)
		}
		if r.ok && s == 1 && r.prev != "" {
			fs.add(trail.Finding{Kind: KindLinkMismatch, Key: at.key, VersionID: at.version, Line: at.line, Chain: c.id, Seq: 1, TraceID: r.traceID,
				Detail: "the first record of the chain names a previous record"})
		}
		c.next, c.lastHash, c.lastAt = s+1, hash, at
		c.take(r, at, finding)
		return placed
	case s > c.next:
		c.floating = append(c.floating, float{s, finding})
		return floated
	}
	if i, ok := c.gapAt(s); ok {
		c.fill(i, r, at, fs)
		c.take(r, at, finding)
		return placed
	}
	old, known := c.recall(s)
	switch {
	case !r.ok:
		c.floating = append(c.floating, float{s, finding})
		return floated
	case !known:
		return uncompared
	case old.hash == "":
		// The position was held by a record that did not verify; this one does, so that one's seal lies.
		c.floating = append(c.floating, float{s, old.finding})
		if prev, ok := c.recall(s - 1); ok && prev.hash != "" && r.prev != prev.hash {
			c.linkMismatch(fs, s, at, r.prev, prev.at, prev.hash)
		}
		c.records--
		c.take(r, at, finding)
		return placed
	case old.hash == r.hash:
		return duplicate
	}
	fs.add(trail.Finding{Kind: KindFork, Key: at.key, VersionID: at.version, Line: at.line, Chain: c.id, Seq: s, TraceID: r.traceID,
		Detail: fmt.Sprintf("a different validly sealed record also claims seq %d of the chain (first at %s): whoever sealed it held the chain's key", s, old.at)})
	return forked
}

// take records that r holds its position: the summary's counts, first and last, keys, and the recent hashes.
func (c *chain) take(r *rec, at loc, finding int) {
	c.records++
	pos := Position{Seq: r.seq, Time: r.time, Key: at.key, Line: at.line}
	if c.records == 1 || r.seq < c.first.Seq {
		c.first = pos
	}
	if c.records == 1 || r.seq >= c.last.Seq {
		c.last = pos
	}
	if r.ok {
		c.verified++
		if r.version == 1 {
			if c.legacy == 0 {
				c.legacyFirst = at
			}
			c.legacy++
		}
		k := c.keys[r.keyFP]
		if k == nil {
			k = &keyUse{issuer: r.issuer, issuerKey: r.issuerKey, firstSeq: r.seq, first: at}
			c.keys[r.keyFP] = k
		}
		k.records++
		k.certified = k.certified || r.certified
	}
	s := slot{seq: r.seq, at: at, finding: finding}
	if r.ok {
		s.hash = r.hash
	}
	c.remember(s)
}

// remember keeps s among the chain's DefaultRecentSeqs latest positions, a ring indexed by seq.
func (c *chain) remember(s slot) {
	if c.recent == nil {
		c.recent = make([]slot, DefaultRecentSeqs)
	}
	c.recent[s.seq%DefaultRecentSeqs] = s
}

func (c *chain) recall(seq int64) (slot, bool) {
	if c.recent == nil || seq < 1 {
		return slot{}, false
	}
	s := c.recent[seq%DefaultRecentSeqs]
	return s, s.seq == seq
}

// gapAt finds the open gap holding seq.
func (c *chain) gapAt(seq int64) (int, bool) {
	i, _ := slices.BinarySearchFunc(c.gaps, seq, func(g gap, s int64) int {
		switch {
		case g.to < s:
			return -1
		case g.from > s:
			return 1
		}
		return 0
	})
	return i, i < len(c.gaps) && c.gaps[i].from <= seq && seq <= c.gaps[i].to
}

// fill gives r the position inside gap i and checks it against the gap's neighbours.
func (c *chain) fill(i int, r *rec, at loc, fs *findings) {
	g, s := c.gaps[i], r.seq
	hash := ""
	if r.ok {
		hash = r.hash
		if s == g.from && g.prevHash != "" && r.prev != g.prevHash {
			c.linkMismatch(fs, s, at, r.prev, g.prevAt, g.prevHash)
		}
		if s == g.to && g.nextPrev != "" && hash != g.nextPrev {
			c.linkMismatch(fs, s+1, g.nextAt, g.nextPrev, at, hash)
		}
	}
	var parts []gap
	if s > g.from {
		left := g
		left.to, left.nextPrev, left.nextAt = s-1, "", at
		if r.ok {
			left.nextPrev = r.prev
		}
		parts = append(parts, left)
	}
	if s < g.to {
		right := g
		right.from, right.prevHash, right.prevAt = s+1, hash, at
		right.beforeWindow = false // between two records of the window: inside it
		parts = append(parts, right)
	}
	c.gaps = slices.Replace(c.gaps, i, i+1, parts...)
}

// declare marks seq, declared undelivered by the record at by, as a declared gap of its own.
func (c *chain) declare(seq, by int64) {
	i, ok := c.gapAt(seq)
	if !ok || c.gaps[i].declaredBy != 0 {
		return // the record is here after all, or already declared
	}
	g := c.gaps[i]
	mid := gap{from: seq, to: seq, declaredBy: by, beforeWindow: g.beforeWindow}
	var parts []gap
	if seq > g.from {
		left := g
		left.to, left.nextPrev = seq-1, ""
		parts = append(parts, left)
	} else {
		mid.prevHash, mid.prevAt = g.prevHash, g.prevAt
	}
	parts = append(parts, mid)
	if seq < g.to {
		right := g
		right.from, right.prevHash = seq+1, ""
		parts = append(parts, right)
	} else {
		mid.nextPrev, mid.nextAt = g.nextPrev, g.nextAt
		parts[len(parts)-1] = mid
	}
	c.gaps = slices.Replace(c.gaps, i, i+1, parts...)
}

func (c *chain) linkMismatch(fs *findings, seq int64, at loc, prev string, prevAt loc, prevHash string) {
	fs.add(trail.Finding{Kind: KindLinkMismatch, Key: at.key, VersionID: at.version, Line: at.line, Chain: c.id, Seq: seq,
		Detail: fmt.Sprintf("the record names %s as the hash of record %d, but the record %d at %s, which verifies, hashes to %s: one of the two was replaced by another validly sealed record",
			short(prev), seq-1, seq-1, prevAt, short(prevHash))})
}

// short abbreviates a hex hash for messages.
func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return `""`
	}
	return h
}

// end is what is known of where a chain ends: the chain state of a local root.
type end struct {
	seq         int64
	prev        string
	undelivered []int64
}

// stray is a record of the object being merged that did not verify and holds no position: unsealed, its seal
// unreadable, or its claimed position unavailable.
type stray struct {
	line, finding int
}

// explain handles a verified record at seq beyond the frontier: when the strays of its object that lie between
// the chain's last record and it are exactly as many as the seqs between the two, they are those records, their
// seals altered or removed. They take the positions (unverified), their findings say so, and no gap is reported.
// It returns the strays it did not use.
func (c *chain) explain(seq int64, at loc, strays []stray, fs *findings) []stray {
	if c.records == 0 || c.lastAt.key != at.key || c.lastAt.version != at.version {
		return strays
	}
	var between, rest []stray
	for _, s := range strays {
		if c.lastAt.line < s.line && s.line < at.line {
			between = append(between, s)
		} else {
			rest = append(rest, s)
		}
	}
	if len(between) == 0 || int64(len(between)) != seq-c.next {
		return strays
	}
	what := fmt.Sprintf("; the chain %s lacks %s where this record stands: it is probably that record, its seal altered or removed", c.id, span(c.next, seq-1))
	for _, s := range between {
		if s.finding >= 0 {
			fs.list[s.finding].Detail += what
		}
		c.floating = slices.DeleteFunc(c.floating, func(f float) bool { return f.finding == s.finding && s.finding >= 0 })
	}
	c.records += len(between)
	c.next, c.lastHash = seq, ""
	return rest
}

// finish reports what the chain's state says at the end: its remaining gaps (missing, or declared undelivered),
// the end the chain state proves, keys never certified, and a legacy format. It first gives the records that
// floated the gaps at their claimed seqs, and when the records that still float are exactly as many as the
// seqs still missing, it reports them as those records with an altered seal instead of as missing too.
func (c *chain) finish(e *end, windowed bool, fs *findings) []reportedGap {
	var reported []reportedGap
	if e != nil {
		for _, u := range e.undelivered {
			c.declare(u, e.seq)
		}
		top := c.next - 1
		switch {
		case e.seq > top:
			c.gaps = append(c.gaps, gap{from: top + 1, to: e.seq, prevHash: c.lastHash, prevAt: c.lastAt, atEnd: true})
			for _, u := range e.undelivered {
				c.declare(u, e.seq)
			}
		case e.seq == top && c.lastHash != "" && e.prev != "" && e.prev != c.lastHash:
			fs.add(trail.Finding{Kind: KindLinkMismatch, Key: c.lastAt.key, VersionID: c.lastAt.version, Line: c.lastAt.line, Chain: c.id, Seq: top,
				Detail: fmt.Sprintf("the chain state says the last record, seq %d, hashes to %s; the one here hashes to %s: it was replaced", top, short(e.prev), short(c.lastHash))})
		}
	}
	// Records that did not verify and arrived before the records around them take their claimed seqs now, if
	// no record holds them.
	slices.SortFunc(c.floating, func(a, b float) int { return cmp.Compare(a.seq, b.seq) })
	var still []float
	for _, f := range c.floating {
		if i, ok := c.gapAt(f.seq); ok && c.gaps[i].declaredBy == 0 && !c.gaps[i].beforeWindow {
			c.fill(i, &rec{seq: f.seq}, loc{}, fs)
			c.records++
			continue
		}
		if f.seq >= c.next && f.seq < c.next+DefaultRecentSeqs && (e == nil || f.seq <= e.seq) {
			if f.seq > c.next {
				c.gaps = append(c.gaps, gap{from: c.next, to: f.seq - 1, prevAt: c.lastAt, beforeWindow: c.records == 0 && windowed})
			}
			c.next, c.lastHash = f.seq+1, ""
			c.records++
			c.last.Seq = f.seq
			continue
		}
		still = append(still, f)
	}
	var missing int64
	for _, g := range c.gaps {
		if g.declaredBy == 0 && !g.beforeWindow {
			missing += g.size()
		}
	}
	absorb := len(still) > 0 && int64(len(still)) == missing
	var seqs []string
	for _, g := range c.gaps {
		switch {
		case g.beforeWindow:
		case g.declaredBy != 0:
			fs.add(trail.Finding{Kind: KindDeclaredUndelivered, Chain: c.id, Seq: g.from,
				Detail: fmt.Sprintf("record %d was sealed but never delivered, as record %d of the chain declares", g.from, g.declaredBy)})
		case absorb:
			seqs = append(seqs, span(g.from, g.to))
		default:
			reported = append(reported, reportedGap{finding: c.missing(g, e, fs), after: g.prevAt.key, before: g.nextAt.key})
		}
	}
	if absorb {
		for _, f := range still {
			if f.finding >= 0 {
				fs.list[f.finding].Detail += fmt.Sprintf("; the chain lacks %s, and this record claims seq %d, which it cannot hold: it is probably that record, its seal altered", strings.Join(seqs, ", "), f.seq)
			}
		}
	}
	fps := make([]string, 0, len(c.keys))
	for fp := range c.keys {
		fps = append(fps, fp)
	}
	slices.Sort(fps)
	for _, fp := range fps {
		if k := c.keys[fp]; !k.certified {
			fs.add(trail.Finding{Kind: KindUncertified, Key: k.first.key, VersionID: k.first.version, Line: k.first.line, Chain: c.id, Seq: k.firstSeq,
				Detail: fmt.Sprintf("%d records of the chain are signed by key %s, but none carries its certificate signed by an accepted issuer: no root key vouches for them", k.records, fp)})
		}
	}
	if c.legacy > 0 {
		fs.add(trail.Finding{Kind: KindLegacySeal, Key: c.legacyFirst.key, VersionID: c.legacyFirst.version, Line: c.legacyFirst.line, Chain: c.id,
			Detail: fmt.Sprintf("%d records are sealed in format 1: they verify, but their links cover signature bytes, so anyone can make a genuine record look replaced", c.legacy)})
	}
	return reported
}

// reportedGap is a missing-record finding and the objects its gap lies between ("" for none): what the digest
// walk's removed objects are matched against.
type reportedGap struct {
	finding       int
	after, before string
}

// missing reports one gap left at the end, and returns its finding's index.
func (c *chain) missing(g gap, e *end, fs *findings) int {
	kind, what := KindMissingRecord, "record "+span(g.from, g.to)+" missing"
	if g.size() > 1 {
		what = "records " + span(g.from, g.to) + " missing"
	}
	switch {
	case g.atEnd:
		kind = KindChainEndMissing
		what += fmt.Sprintf(" at the end of the chain: the chain state says it reached %d", e.seq)
	case g.from == 1 && c.records > 0:
		what += fmt.Sprintf(": the chain starts at %d", g.to+1)
	case g.prevAt.key != "" && g.nextAt.key != "":
		what += fmt.Sprintf(" between %s and %s", g.prevAt, g.nextAt)
	}
	at := g.nextAt
	if at.key == "" {
		at = g.prevAt
	}
	return fs.add(trail.Finding{Kind: kind, Key: at.key, VersionID: at.version, Chain: c.id, Seq: g.from, Detail: what})
}

// span writes a run of seqs.
func span(from, to int64) string {
	if from == to {
		return fmt.Sprint(from)
	}
	return fmt.Sprintf("%d..%d", from, to)
}

// Position is one end of a chain in a report.
type Position struct {
	Seq int64 `json:"seq"`
	// Time is the record's seal time (format 2; zero for format 1, which does not carry one).
	Time time.Time `json:"time,omitzero"`
	Key  string    `json:"key"`
	Line int       `json:"line"`
}
