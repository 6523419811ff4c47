package seal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/function/seal"
)

func TestResumedSealersFormOneChainAndItsEndIsChecked(t *testing.T) {
	k := newKey(t)
	signer, _ := seal.NewFileSigner(k)
	state := filepath.Join(t.TempDir(), seal.ChainStateFile)
	v := seal.NewVerifier(&k.PublicKey)
	var lines [][]byte
	// Three "processes" in turn. Each holds the lock until the process ends, so the test releases it by hand:
	// flock locks belong to the open file, and a new open in the same process conflicts like another process.
	for run := range 3 {
		s, fresh, err := seal.ResumeSealer(signer, state, seal.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		if (run == 0) != (fresh != "") {
			t.Fatalf("run %d: fresh %q", run, fresh)
		}
		lines = append(lines, sealN(t, s, 2)...)
		s.Close()
	}
	st, err := seal.ReadChainState(state)
	if err != nil || st.Seq != 6 {
		t.Fatalf("state %+v, %v", st, err)
	}
	check := func(pick []int) []string {
		var c seal.Chains
		for _, i := range pick {
			r, err := v.Verify(lines[i])
			if err != nil {
				t.Fatal(err)
			}
			c.Add(r, fmt.Sprint("line ", i))
		}
		c.Expect(st.Chain, st.Seq)
		var got []string
		for _, p := range c.Check(false).Problems {
			got = append(got, p.String())
		}
		return got
	}
	if got := check([]int{0, 1, 2, 3, 4, 5}); len(got) != 0 {
		t.Fatalf("three runs do not form one whole chain: %q", got)
	}
	// Each process sealed with a key of its own, certified for the one chain by the same key file.
	keys := map[string]bool{}
	for _, l := range lines {
		r, _ := v.Verify(l)
		keys[r.KeyFingerprint] = true
		if !r.Certified || r.Chain != st.Chain {
			t.Fatalf("record %d: certified %v, chain %s", r.Seq, r.Certified, r.Chain)
		}
	}
	if len(keys) != 3 {
		t.Fatalf("%d sealing keys for three processes", len(keys))
	}
	if got := check([]int{0, 1, 2, 3}); len(got) != 1 || !strings.Contains(got[0], "seq 5: records 5..6 missing at the end") {
		t.Fatalf("deleted tail: %q", got)
	}
	if got := check(nil); len(got) != 1 || !strings.Contains(got[0], "records 1..6 missing") {
		t.Fatalf("everything deleted: %q", got)
	}
}

func TestAResumedChainStartsAfreshWhenItCannotContinue(t *testing.T) {
	k, other := newKey(t), newKey(t)
	signer, _ := seal.NewFileSigner(k)
	otherSigner, _ := seal.NewFileSigner(other)
	dir := t.TempDir()
	state := filepath.Join(dir, seal.ChainStateFile)

	s1, _, err := seal.ResumeSealer(signer, state, seal.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	sealN(t, s1, 1)
	s2, fresh, err := seal.ResumeSealer(signer, state, seal.WithLogger(quiet))
	if err != nil || !strings.Contains(fresh, "another process") || s2.Chain() == s1.Chain() {
		t.Fatalf("while locked: fresh %q, err %v, same chain %v", fresh, err, s2.Chain() == s1.Chain())
	}
	s1.Close()

	s3, fresh, err := seal.ResumeSealer(otherSigner, state, seal.WithLogger(quiet))
	if err != nil || !strings.Contains(fresh, "another key") {
		t.Fatalf("other key: fresh %q, err %v", fresh, err)
	}
	s3.Close()

	if err := os.WriteFile(state, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	s4, fresh, err := seal.ResumeSealer(signer, state, seal.WithLogger(quiet))
	if err != nil || !strings.Contains(fresh, "malformed") {
		t.Fatalf("malformed: fresh %q, err %v", fresh, err)
	}
	l := sealN(t, s4, 1)[0]
	if r, _ := seal.NewVerifier(&k.PublicKey).Verify(l); r.Seq != 1 {
		t.Fatalf("a fresh chain starts at 1, got %d", r.Seq)
	}
	s4.Close()

	// A chain recorded in seal format 1 (no "v" in its state, prev over whole lines) is not continued.
	if err := os.WriteFile(state, []byte(`{"chain":"0123456789abcdef0123456789abcdef","seq":4,"prev":"ab","key":"`+signer.KeyID()+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s5, fresh, err := seal.ResumeSealer(signer, state, seal.WithLogger(quiet))
	if err != nil || !strings.Contains(fresh, "seal format 1") || s5.Chain() == "0123456789abcdef0123456789abcdef" {
		t.Fatalf("format-1 state: fresh %q, err %v", fresh, err)
	}
	s5.Close()
}
