package audit

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// ErrSpanTooLarge is wrapped by the error for a span that does not fit a record even on its own.
var ErrSpanTooLarge = errors.New("span too large for one audit record")

// spanRef locates one span in a ptrace.Traces.
type spanRef struct{ rs, ss, span int }

// split frames td as the parts of one shipment, each of at most e.limit() bytes as a record, and renders them
// as records (the caller seals the parts instead when it has a Sealer). The common case, a shipment that fits,
// costs one marshal. Otherwise spans are measured one by one (oversize ones have their content stored first)
// and packed greedily, in order, into parts; every part is then marshalled and checked, and a part that still
// overflows (the measure is an estimate of the shared envelope) is packed again with a larger allowance for it.
func (e *Encoder) split(ctx context.Context, td ptrace.Traces, key string, followup bool) ([]ptrace.Traces, [][]byte, error) {
	limit := e.limit()
	whole, err := marshalRecord(td, key, 0, 1, followup)
	if err != nil {
		return nil, nil, err
	}
	if len(whole) <= limit {
		return []ptrace.Traces{td}, [][]byte{whole}, nil
	}

	refs, sizes, envelope, err := e.measure(ctx, td, key, followup, limit)
	if err != nil {
		return nil, nil, err
	}
	for slack := 64; slack < limit; slack *= 2 {
		groups := pack(sizes, limit-envelope-slack)
		parts := make([]ptrace.Traces, 0, len(groups))
		records := make([][]byte, 0, len(groups))
		fits := true
		for i, g := range groups {
			part := subset(td, refs[g[0]:g[1]])
			rec, err := marshalRecord(part, key, i, len(groups), followup)
			if err != nil {
				return nil, nil, err
			}
			if len(rec) > limit {
				fits = false
				break
			}
			parts, records = append(parts, part), append(records, rec)
		}
		if fits {
			return parts, records, nil
		}
	}
	return nil, nil, fmt.Errorf("split trace into records of %d bytes: no packing fits", limit)
}

// measure returns every span's reference, the bytes it adds to a record (its record's size less the record's
// envelope: resource, scope and framing), and the largest envelope. A span whose record alone exceeds limit
// has its content moved to the OversizeStore; one that still does not fit, or with no store, fails with
// ErrSpanTooLarge.
func (e *Encoder) measure(ctx context.Context, td ptrace.Traces, key string, followup bool, limit int) (refs []spanRef, sizes []int, envelope int, err error) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		sss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				ref := spanRef{i, j, k}
				one := subset(td, []spanRef{ref})
				rec, err := marshalRecord(one, key, 0, 1, followup)
				if err != nil {
					return nil, nil, 0, err
				}
				if len(rec) > limit {
					if one, rec, err = e.offload(ctx, td, ref, key, followup, limit, len(rec)); err != nil {
						return nil, nil, 0, err
					}
				}
				one.ResourceSpans().At(0).ScopeSpans().At(0).Spans().RemoveIf(func(ptrace.Span) bool { return true })
				empty, err := marshalRecord(one, key, 0, 1, followup)
				if err != nil {
					return nil, nil, 0, err
				}
				envelope = max(envelope, len(empty))
				refs = append(refs, ref)
				sizes = append(sizes, len(rec)-len(empty)+1) // +1: the comma between spans
			}
		}
	}
	return refs, sizes, envelope, nil
}

// pack groups consecutive spans, as [from, to) ranges, so that each group's summed size stays within budget.
// A group whose spans come from several resources or scopes carries more than one envelope; the caller checks
// the real size and packs again with more slack if a record overflows.
func pack(sizes []int, budget int) [][2]int {
	var groups [][2]int
	start, sum := 0, 0
	for i, s := range sizes {
		if i > start && sum+s > budget {
			groups = append(groups, [2]int{start, i})
			start, sum = i, 0
		}
		sum += s
	}
	return append(groups, [2]int{start, len(sizes)})
}

// subset copies the given spans, with their resources and scopes, into a new Traces, keeping their order and
// grouping.
func subset(td ptrace.Traces, refs []spanRef) ptrace.Traces {
	out := ptrace.NewTraces()
	lastRS, lastSS := -1, -1
	var rsOut ptrace.ResourceSpans
	var ssOut ptrace.ScopeSpans
	for _, r := range refs {
		rs := td.ResourceSpans().At(r.rs)
		if r.rs != lastRS {
			rsOut = out.ResourceSpans().AppendEmpty()
			rs.Resource().CopyTo(rsOut.Resource())
			rsOut.SetSchemaUrl(rs.SchemaUrl())
			lastRS, lastSS = r.rs, -1
		}
		ss := rs.ScopeSpans().At(r.ss)
		if r.ss != lastSS {
			ssOut = rsOut.ScopeSpans().AppendEmpty()
			ss.Scope().CopyTo(ssOut.Scope())
			ssOut.SetSchemaUrl(ss.SchemaUrl())
			lastSS = r.ss
		}
		ss.Spans().At(r.span).CopyTo(ssOut.Spans().AppendEmpty())
	}
	return out
}
