package verify

import (
	"bytes"
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify/verifytest"
)

// countingVerifier counts the records whose own signature is checked.
type countingVerifier struct {
	*seal.Verifier
	verifies atomic.Int64
}

func (v *countingVerifier) Verify(line []byte) (seal.Record, error) {
	v.verifies.Add(1)
	return v.Verifier.Verify(line)
}

func (f fixture) verifyReading(t *testing.T, opts Options) (Report, int64) {
	t.Helper()
	v := &countingVerifier{Verifier: seal.NewVerifier(&f.key.PublicKey)}
	rep, err := verifyWith(context.Background(), trail.NewLocal(f.Dir), opts, v, v.Keys())
	if err != nil {
		t.Fatal(err)
	}
	return rep, v.verifies.Load()
}

func TestOneSignaturePerRunOfLinkedRecords(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 40, PerObject: 10, Chains: 2})
	rep, verifies := f.verifyReading(t, Options{})
	// 4 objects, each holding a run of 5 records of each of the 2 chains: 8 signatures checked for 40 records.
	if !rep.Verified || rep.Records.Valid != 40 || rep.SignaturesChecked != 8 || verifies != 8 {
		t.Fatalf("verified %v, records %+v, %d signatures counted, %d checked\n%s", rep.Verified, rep.Records, rep.SignaturesChecked, verifies, dump(rep))
	}
	rep, verifies = f.verifyReading(t, Options{AllSignatures: true})
	if !rep.Verified || rep.SignaturesChecked != 40 || verifies != 40 {
		t.Fatalf("every signature: %d counted, %d checked", rep.SignaturesChecked, verifies)
	}
}

func TestARunWithABadRecordIsCheckedRecordByRecord(t *testing.T) {
	for _, seq := range []int64{3, 5} { // inside a run of 1..5 of the first chain, and at its end
		f := newFixture(t, verifytest.Options{Records: 20, PerObject: 10, Chains: 2})
		f.editLine(t, seq, replaceOnce(t, `"invoke_agent"`, `"invoke_agenT"`))
		rep, _ := f.verifyReading(t, Options{})
		full := f.verify(t, Options{})
		if got := problems(rep); !slices.Equal(got, []trail.Kind{KindBadSignature}) || rep.Findings[0].Seq != seq || !slices.Equal(rep.Findings, full.Findings) {
			t.Fatalf("record %d changed: %v\n%s\nevery signature checked:\n%s", seq, got, dump(rep), dump(full))
		}
	}
}

func TestARewrittenSignatureInsideARunChangesNothingVerifiedUnlessEverySignatureIsChecked(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 10, PerObject: 10})
	// Swap the signature of record 3 for record 4's: bytes the next record's link does not cover.
	key, _ := f.Line(f.Chains[0], 3)
	f.edit(t, key, func(b []byte) []byte {
		lines := bytes.SplitAfter(b, []byte("\n"))
		sig := func(l []byte) []byte {
			field := []byte(`{"key":"` + seal.AttrSig + `","value":{"stringValue":"`)
			at := bytes.Index(l, field) + len(field)
			return l[at : at+bytes.IndexByte(l[at:], '"')]
		}
		lines[2] = bytes.Replace(lines[2], sig(lines[2]), sig(lines[3]), 1)
		return bytes.Join(lines, nil)
	})
	if rep, _ := f.verifyReading(t, Options{}); !rep.Verified || rep.Records.Valid != 10 {
		t.Fatalf("the content of every record is authenticated through the chain:\n%s", dump(rep))
	}
	rep, _ := f.verifyReading(t, Options{AllSignatures: true})
	if got := problems(rep); !slices.Equal(got, []trail.Kind{KindBadSignature}) || rep.Findings[0].Seq != 3 {
		t.Fatalf("with every signature checked: %v\n%s", got, dump(rep))
	}
}
