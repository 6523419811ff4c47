package replay

import (
	"fmt"

	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify"
)

// refusals indexes the problems of a verify.Report by what they are about, so that each trace can be checked
// against the records it is made of.
type refusals struct {
	byTrace  map[string]trail.Finding
	byRecord map[recordAt]trail.Finding
	byObject map[string]trail.Finding
	byChain  map[string]trail.Finding
}

type recordAt struct {
	key  string
	line int
}

// chainWide are the kinds reported once for a chain (or a chain key) that stand for every record of it: none of
// the chain's records is vouched for by an accepted key.
var chainWide = map[trail.Kind]bool{verify.KindUnknownKey: true, verify.KindUncertified: true}

func newRefusals(rep verify.Report) refusals {
	r := refusals{byTrace: map[string]trail.Finding{}, byRecord: map[recordAt]trail.Finding{}, byObject: map[string]trail.Finding{}, byChain: map[string]trail.Finding{}}
	for _, f := range rep.Findings {
		if f.Severity != trail.Problem {
			continue
		}
		switch {
		case chainWide[f.Kind] && f.Chain != "":
			r.byChain[f.Chain] = f
		case f.Line > 0:
			r.byRecord[recordAt{f.Key, f.Line}] = f
		case f.Key != "":
			r.byObject[f.Key] = f
		}
		if f.TraceID != "" {
			r.byTrace[f.TraceID] = f
		}
	}
	return r
}

// refuse returns why t must not be sent: the first problem found about the trace, one of its records, an
// object holding one, or the chain of one; nil when there is none. Problems about no record of the trace (a
// record missing from a chain, a digest) do not refuse it.
func (r refusals) refuse(t Trace) error {
	if f, ok := r.byTrace[t.ID]; ok {
		return refusal(f)
	}
	for _, rec := range t.Records {
		if f, ok := r.byRecord[recordAt{rec.Key, rec.Line}]; ok {
			return refusal(f)
		}
		if f, ok := r.byObject[rec.Key]; ok {
			return refusal(f)
		}
		if f, ok := r.byChain[rec.Chain]; ok && rec.Chain != "" {
			return refusal(f)
		}
	}
	return nil
}

// ErrRefused is wrapped by the failure of a trace that verification refused.
var ErrRefused = fmt.Errorf("refused: its records fail verification")

func refusal(f trail.Finding) error {
	at := f.Key
	if f.Line > 0 {
		at = fmt.Sprintf("%s line %d", f.Key, f.Line)
	}
	return fmt.Errorf("%w: %s at %s: %s", ErrRefused, f.Kind, at, f.Detail)
}
