package seal

import (
	"fmt"
	"slices"
)

// Chains collects verified records and checks that every chain is whole: no seq missing unless a record of the
// chain declared it undelivered, every record's Prev the Hash of the record before it, no two different records
// at one position, and every key of the chain vouched for by an accepted issuer. It keeps every record's
// position in memory; trail/verify streams instead. Not safe for concurrent use.
type Chains struct {
	chains map[string]map[int64][]entry
	// declared maps a chain's declared-undelivered seqs to the seq of the record declaring them.
	declared map[string]map[int64]int64
	keys     map[string]map[string]*keyUse
	expect   map[string]int64
}

type entry struct {
	rec   Record
	where string
}

// keyUse is what a chain's records say of one of its keys.
type keyUse struct {
	certified   bool
	first, last int64
	records     int
}

// Problem is one break found in a chain, or one notice about it.
type Problem struct {
	Chain string
	Seq   int64
	// Where names the object (and line) of the record concerned; empty for a record that is missing.
	Where string
	What  string
}

func (p Problem) String() string {
	s := fmt.Sprintf("chain %s seq %d: %s", p.Chain, p.Seq, p.What)
	if p.Where != "" {
		s += " (" + p.Where + ")"
	}
	return s
}

// Report sums up a check.
type Report struct {
	Chains  int
	Records int
	// Duplicates counts copies of a record beyond the first (a retried delivery stores one).
	Duplicates int
	// Problems are breaks: the chains are not provably whole.
	Problems []Problem
	// Notices are reported without being breaks: seqs a record declared undelivered, records in seal format 1.
	Notices []Problem
}

// Add records r, found at where (an object name and line number, for messages).
func (c *Chains) Add(r Record, where string) {
	if c.chains == nil {
		c.chains, c.declared, c.keys = map[string]map[int64][]entry{}, map[string]map[int64]int64{}, map[string]map[string]*keyUse{}
	}
	ch := c.chains[r.Chain]
	if ch == nil {
		ch = map[int64][]entry{}
		c.chains[r.Chain] = ch
		c.declared[r.Chain] = map[int64]int64{}
		c.keys[r.Chain] = map[string]*keyUse{}
	}
	ch[r.Seq] = append(ch[r.Seq], entry{r, where})
	for _, s := range r.Undelivered {
		if _, seen := c.declared[r.Chain][s]; !seen {
			c.declared[r.Chain][s] = r.Seq
		}
	}
	k := c.keys[r.Chain][r.KeyFingerprint]
	if k == nil {
		k = &keyUse{first: r.Seq, last: r.Seq}
		c.keys[r.Chain][r.KeyFingerprint] = k
	}
	k.certified = k.certified || r.Certified
	k.first, k.last, k.records = min(k.first, r.Seq), max(k.last, r.Seq), k.records+1
}

// Expect declares that chain reached position last (a local root's chain state says so), so that Check also
// reports records missing after the last one it saw.
func (c *Chains) Expect(chain string, last int64) {
	if c.expect == nil {
		c.expect = map[string]int64{}
	}
	c.expect[chain] = last
}

// Check examines every chain. With windowed, the records are a time window of a longer history, so a chain may
// start after seq 1 and its first record's Prev cannot be checked; gaps inside the window are still reported.
// The end of a chain is checked only where Expect says how far it reached; elsewhere the signed digests of
// package trail/digest prove which objects exist.
func (c *Chains) Check(windowed bool) Report {
	rep := Report{Chains: len(c.chains)}
	ids := make([]string, 0, len(c.chains))
	for id := range c.chains {
		ids = append(ids, id)
	}
	for id := range c.expect {
		if _, seen := c.chains[id]; !seen {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		c.checkChain(id, windowed, &rep)
	}
	return rep
}

func (c *Chains) checkChain(id string, windowed bool, rep *Report) {
	ch := c.chains[id]
	last, expected := c.expect[id]
	bad := func(seq int64, where, format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{Chain: id, Seq: seq, Where: where, What: fmt.Sprintf(format, args...)})
	}
	if len(ch) == 0 {
		if !windowed {
			bad(1, "", "records 1..%d missing: the chain state says it reached %d, no record of it is here", last, last)
		}
		return
	}
	// gap reports the seqs from..to absent: runs a record declared undelivered as notices, the rest as missing.
	gap := func(from, to int64, why string) {
		for s := from; s <= to; {
			by, declared := c.declared[id][s]
			e := s
			for e < to {
				if _, d := c.declared[id][e+1]; d != declared {
					break
				}
				e++
			}
			switch {
			case declared:
				rep.Notices = append(rep.Notices, Problem{Chain: id, Seq: s, What: span(s, e, "declared undelivered") + fmt.Sprintf(" by record %d", by)})
			default:
				bad(s, "", "%s%s", span(s, e, "missing"), why)
			}
			s = e + 1
		}
	}
	seqs := make([]int64, 0, len(ch))
	for s := range ch {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	legacy := 0
	for i, seq := range seqs {
		es := ch[seq]
		first := es[0]
		rep.Records++
		if first.rec.Version == 1 {
			legacy++
		}
		for _, e := range es[1:] {
			if e.rec.Hash == first.rec.Hash {
				rep.Duplicates++
			} else {
				bad(seq, e.where, "a different record also claims this position (first at %s)", first.where)
			}
		}
		switch {
		case seq == 1 && first.rec.Prev != "":
			bad(seq, first.where, "first record of the chain names a previous record")
		case i == 0 && seq > 1 && !windowed:
			gap(1, seq-1, fmt.Sprintf(": the chain starts at %d", seq))
		case i > 0 && seqs[i-1] != seq-1:
			gap(seqs[i-1]+1, seq-1, "")
		case i > 0 && first.rec.Prev != ch[seqs[i-1]][0].rec.Hash:
			bad(seq, first.where, "previous-record hash does not match record %d: it was replaced, or this one forged", seq-1)
		}
	}
	if top := seqs[len(seqs)-1]; expected && top < last {
		gap(top+1, last, fmt.Sprintf(" at the end of the chain (the chain state says it reached %d)", last))
	}
	fps := make([]string, 0, len(c.keys[id]))
	for fp := range c.keys[id] {
		fps = append(fps, fp)
	}
	slices.Sort(fps)
	for _, fp := range fps {
		if k := c.keys[id][fp]; !k.certified {
			bad(k.first, "", "uncertified: %d records (seq %d..%d) are signed by key %s, which no record's certificate signed by an accepted issuer vouches for", k.records, k.first, k.last, fp)
		}
	}
	if legacy > 0 {
		rep.Notices = append(rep.Notices, Problem{Chain: id, Seq: seqs[0], What: fmt.Sprintf("legacy seal: %d records in seal format 1, whose links cover signature bytes, so a rewritten signature would show as a replaced record", legacy)})
	}
}

// span names the seqs from..to: "record missing" or "records 3..5 missing".
func span(from, to int64, what string) string {
	if from == to {
		return "record " + what
	}
	return fmt.Sprintf("records %d..%d %s", from, to, what)
}
