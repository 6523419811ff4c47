package seal

import (
	"fmt"
	"slices"
)

// Chains collects verified records and checks that every chain is whole: no seq missing, every record's Prev
// the Hash of the record before it, no two different records at one position. Not safe for concurrent use.
type Chains struct {
	chains map[string]map[int64][]entry
	expect map[string]int64
}

type entry struct {
	rec   Record
	where string
}

// Problem is one break found in a chain.
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
	// Duplicates counts byte-identical copies of a record beyond the first (a retried delivery stores one).
	Duplicates int
	Problems   []Problem
}

// Add records r, found at where (an object name and line number, for messages).
func (c *Chains) Add(r Record, where string) {
	if c.chains == nil {
		c.chains = map[string]map[int64][]entry{}
	}
	ch := c.chains[r.Chain]
	if ch == nil {
		ch = map[int64][]entry{}
		c.chains[r.Chain] = ch
	}
	ch[r.Seq] = append(ch[r.Seq], entry{r, where})
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
// The end of a chain is checked only where Expect says how far it reached; elsewhere nothing records how long
// a chain grew, and Object Lock is what keeps its last records from being deleted.
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
		ch := c.chains[id]
		last, expected := c.expect[id]
		if len(ch) == 0 {
			if !windowed {
				rep.Problems = append(rep.Problems, Problem{Chain: id, Seq: 1, What: fmt.Sprintf("records 1..%d missing: the chain state says it reached %d, no record of it is here", last, last)})
			}
			continue
		}
		seqs := make([]int64, 0, len(ch))
		for s := range ch {
			seqs = append(seqs, s)
		}
		slices.Sort(seqs)
		bad := func(seq int64, where, format string, args ...any) {
			rep.Problems = append(rep.Problems, Problem{Chain: id, Seq: seq, Where: where, What: fmt.Sprintf(format, args...)})
		}
		for i, seq := range seqs {
			es := ch[seq]
			first := es[0]
			rep.Records++
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
				bad(1, "", "records 1..%d missing: the chain starts at %d", seq-1, seq)
			case i > 0 && seqs[i-1] != seq-1:
				from, to := seqs[i-1]+1, seq-1
				if from == to {
					bad(from, "", "record missing")
				} else {
					bad(from, "", "records %d..%d missing", from, to)
				}
			case i > 0 && first.rec.Prev != ch[seqs[i-1]][0].rec.Hash:
				bad(seq, first.where, "previous-record hash does not match record %d: it was replaced, or this one forged", seq-1)
			}
		}
		if top := seqs[len(seqs)-1]; expected && top < last {
			if top+1 == last {
				bad(last, "", "record missing at the end of the chain (the chain state says it reached %d)", last)
			} else {
				bad(top+1, "", "records %d..%d missing at the end of the chain (the chain state says it reached %d)", top+1, last, last)
			}
		}
	}
	return rep
}
