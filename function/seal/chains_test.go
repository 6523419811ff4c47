package seal_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/function/seal"
)

func TestChainsFindBreaks(t *testing.T) {
	k := newKey(t)
	iss := newIssuer(t, k)
	v := seal.NewVerifier(&k.PublicKey)
	s := newSealer(t, iss)
	lines := sealN(t, s, 6)
	// A forged record at position 3: certified by the same issuer but from another chain's history.
	forged := sealN(t, newSealer(t, iss), 3)[2]
	tests := []struct {
		name     string
		pick     []int // indexes into lines
		windowed bool
		want     []string
		dups     int
	}{
		{"an intact chain has no problem", []int{0, 1, 2, 3, 4, 5}, false, nil, 0},
		{"order of arrival does not matter", []int{5, 3, 1, 0, 2, 4}, false, nil, 0},
		{"a retried delivery is a duplicate, not a problem", []int{0, 1, 1, 2, 3, 4, 5}, false, nil, 1},
		{"a missing record is reported", []int{0, 1, 3, 4, 5}, false, []string{"seq 3: record missing"}, 0},
		{"missing records are reported as a range", []int{0, 4, 5}, false, []string{"seq 2: records 2..4 missing"}, 0},
		{"a missing start is reported", []int{2, 3, 4, 5}, false, []string{"seq 1: records 1..2 missing: the chain starts at 3"}, 0},
		{"a window may start late", []int{2, 3, 4, 5}, true, nil, 0},
		{"a window still reports gaps", []int{2, 4, 5}, true, []string{"seq 4: record missing"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var picked [][]byte
			for _, i := range tt.pick {
				picked = append(picked, lines[i])
			}
			rep := check(t, v, picked, tt.windowed)
			got := problems(rep)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %q, want it to say %q", got[i], tt.want[i])
				}
			}
			if rep.Duplicates != tt.dups {
				t.Errorf("duplicates %d, want %d", rep.Duplicates, tt.dups)
			}
		})
	}

	t.Run("a replaced record breaks the link to it", func(t *testing.T) {
		r, err := v.Verify(forged)
		if err != nil {
			t.Fatal(err)
		}
		var c seal.Chains
		for _, i := range []int{0, 1, 3} {
			ri, _ := v.Verify(lines[i])
			c.Add(ri, fmt.Sprint("line ", i))
		}
		// Only the chain id is rewritten in the verified record, as if it had been signed for this chain: the
		// link check is what catches a record that verifies but belongs elsewhere in history.
		r.Chain = s.Chain()
		c.Add(r, "forged")
		got := problems(c.Check(false))
		if len(got) != 2 || !strings.Contains(got[0], "seq 3: previous-record hash does not match") || !strings.Contains(got[1], "seq 4: previous-record hash does not match") {
			t.Errorf("problems %q", got)
		}
	})
	t.Run("two different records at one position are reported", func(t *testing.T) {
		var c seal.Chains
		for _, i := range []int{0, 1, 2} {
			ri, _ := v.Verify(lines[i])
			c.Add(ri, fmt.Sprint("line ", i))
		}
		r, _ := v.Verify(forged)
		r.Chain = s.Chain()
		c.Add(r, "forged")
		rep := c.Check(false)
		if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].String(), "a different record also claims this position") || rep.Problems[0].Where != "forged" {
			t.Errorf("problems %v", rep.Problems)
		}
	})
}

func TestDeclaredUndeliveredSeqsAreNoticesNotGaps(t *testing.T) {
	k := newKey(t)
	v := seal.NewVerifier(&k.PublicKey)
	s := newSealer(t, newIssuer(t, k))
	lines := sealN(t, s, 3)
	s.Undelivered(2, 3)
	lines = append(lines, sealN(t, s, 2)...)
	if r, _ := v.Verify(lines[3]); fmt.Sprint(r.Undelivered) != "[2 3]" {
		t.Fatalf("record 4 declares %v, want [2 3]", r.Undelivered)
	}
	if r, _ := v.Verify(lines[4]); len(r.Undelivered) != 0 {
		t.Fatalf("record 5 declares %v again", r.Undelivered)
	}
	delivered := [][]byte{lines[0], lines[3], lines[4]}
	rep := check(t, v, delivered, false)
	if len(rep.Problems) != 0 || len(rep.Notices) != 1 || !strings.Contains(rep.Notices[0].String(), "seq 2: records 2..3 declared undelivered by record 4") {
		t.Fatalf("problems %q, notices %v", problems(rep), rep.Notices)
	}
	// A record declared undelivered that turned up after all (its acknowledgement was lost) simply verifies.
	if rep := check(t, v, lines, false); len(rep.Problems) != 0 || len(rep.Notices) != 0 {
		t.Fatalf("all delivered: problems %q, notices %v", problems(rep), rep.Notices)
	}
	// The declaration is what excuses the gap: without the declaring record, the seqs are missing.
	if got := problems(check(t, v, [][]byte{lines[0], lines[4]}, false)); len(got) != 1 || !strings.Contains(got[0], "seq 2: records 2..4 missing") {
		t.Fatalf("declaring record gone: %q", got)
	}
}

func TestADeclaringRecordLostItselfIsDeclaredWithWhatItDeclared(t *testing.T) {
	k := newKey(t)
	v := seal.NewVerifier(&k.PublicKey)
	s := newSealer(t, newIssuer(t, k))
	lines := sealN(t, s, 2)
	s.Undelivered(2)
	lines = append(lines, sealN(t, s, 1)...) // 3 declares 2
	s.Undelivered(3)                         // ... and is lost too
	lines = append(lines, sealN(t, s, 1)...)
	if r, _ := v.Verify(lines[3]); fmt.Sprint(r.Undelivered) != "[2 3]" {
		t.Fatalf("record 4 declares %v, want [2 3]", r.Undelivered)
	}
	if rep := check(t, v, [][]byte{lines[0], lines[3]}, false); len(rep.Problems) != 0 || len(rep.Notices) != 1 {
		t.Fatalf("problems %q, notices %v", problems(rep), rep.Notices)
	}
}

func TestDeclarationsAreBoundedPerRecord(t *testing.T) {
	k := newKey(t)
	v := seal.NewVerifier(&k.PublicKey)
	s := newSealer(t, newIssuer(t, k))
	n := seal.MaxUndelivered + 4
	sealN(t, s, n)
	var all []int64
	for q := int64(1); q <= int64(n); q++ {
		all = append(all, q)
	}
	s.Undelivered(append(all, 0, -1, 999)...) // unknown seqs are ignored
	next := sealN(t, s, 2)
	r1, _ := v.Verify(next[0])
	r2, _ := v.Verify(next[1])
	if len(r1.Undelivered) != seal.MaxUndelivered || r1.Undelivered[0] != 1 || len(r2.Undelivered) != 4 || r2.Undelivered[3] != int64(n) {
		t.Fatalf("declared %v then %v", r1.Undelivered, r2.Undelivered)
	}
	if rep := check(t, v, next, false); len(rep.Problems) != 0 || len(rep.Notices) != 1 || !strings.Contains(rep.Notices[0].What, fmt.Sprintf("records 1..%d declared undelivered", n)) {
		t.Fatalf("problems %q, notices %v", problems(rep), rep.Notices)
	}
}
