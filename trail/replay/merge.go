package replay

import (
	"reflect"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// mergeEqualResources returns td with the spans of equal resources under one ResourceSpans, and of equal scopes
// under one ScopeSpans, in first-seen order. The records of one shipment share resource and scope but for
// their seal and framing attributes, so once those are stripped a split trace is one resource again; with them
// kept, each record's resource stays as stored. Hand-written: pdata has no grouping helper.
func mergeEqualResources(td ptrace.Traces) ptrace.Traces {
	out := ptrace.NewTraces()
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		dst := findResource(out, rs)
		if dst == (ptrace.ResourceSpans{}) {
			dst = out.ResourceSpans().AppendEmpty()
			rs.Resource().CopyTo(dst.Resource())
			dst.SetSchemaUrl(rs.SchemaUrl())
		}
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			dss := findScope(dst, ss)
			if dss == (ptrace.ScopeSpans{}) {
				dss = dst.ScopeSpans().AppendEmpty()
				ss.Scope().CopyTo(dss.Scope())
				dss.SetSchemaUrl(ss.SchemaUrl())
			}
			ss.Spans().MoveAndAppendTo(dss.Spans())
		}
	}
	return out
}

func findResource(td ptrace.Traces, rs ptrace.ResourceSpans) ptrace.ResourceSpans {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		c := td.ResourceSpans().At(i)
		if c.SchemaUrl() == rs.SchemaUrl() && c.Resource().DroppedAttributesCount() == rs.Resource().DroppedAttributesCount() &&
			reflect.DeepEqual(c.Resource().Attributes().AsRaw(), rs.Resource().Attributes().AsRaw()) {
			return c
		}
	}
	return ptrace.ResourceSpans{}
}

func findScope(rs ptrace.ResourceSpans, ss ptrace.ScopeSpans) ptrace.ScopeSpans {
	for i := 0; i < rs.ScopeSpans().Len(); i++ {
		c := rs.ScopeSpans().At(i)
		if c.SchemaUrl() == ss.SchemaUrl() && c.Scope().Name() == ss.Scope().Name() && c.Scope().Version() == ss.Scope().Version() &&
			reflect.DeepEqual(c.Scope().Attributes().AsRaw(), ss.Scope().Attributes().AsRaw()) {
			return c
		}
	}
	return ptrace.ScopeSpans{}
}
