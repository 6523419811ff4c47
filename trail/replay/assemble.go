package replay

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"

	// Not compress/gzip: the same format, inflated faster (see trail/verify); multi-member objects (Firehose
	// may concatenate) read whole.
	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// Trace is one trace rebuilt from the trail.
type Trace struct {
	// ID is the trace ID, 32 lowercase hex digits.
	ID string
	// Data holds the trace's spans, each once, under the resources and scopes of the records they came from.
	Data ptrace.Traces
	// Records are the record lines that hold the trace's spans (duplicates included), in key and line order.
	Records []RecordRef
	// Oversize counts the spans whose content was put back from an oversize object.
	Oversize int
}

// Spans is the number of spans in the trace.
func (t Trace) Spans() int { return t.Data.SpanCount() }

// RecordRef locates one record line in the trail.
type RecordRef struct {
	Key string
	// Line is 1-based, counting every line of the object as trail/verify does.
	Line int
	// Chain is the seal chain the record belongs to ("" for an unsealed record).
	Chain string
}

// AssembleOptions says how traces are rebuilt.
type AssembleOptions struct {
	// StripAuditAttributes drops the seal (agent_audit.seal.*), record framing (agent_audit.record.*) and
	// oversize reference (agent_audit.oversize.*) attributes, after the oversize content is back.
	StripAuditAttributes bool
}

// maxRecordLineBytes bounds one record line; Firehose's record limit is 1,000 KiB, so 8 MiB is room to spare.
const maxRecordLineBytes = 8 << 20

// Assemble rebuilds trace id from the record objects keys of store. A span seen again (a duplicate record, a
// retried follow-up) is kept once, as first read in key order. A span naming an oversize object gets the
// attributes stored there back. It fails when an object cannot be read, a line holding the trace is not
// OTLP/JSON, an oversize object is missing, or no span of the trace is found.
func Assemble(ctx context.Context, store trail.Store, id string, keys []string, opts AssembleOptions) (Trace, error) {
	tid, err := parseTraceID(id)
	if err != nil {
		return Trace{}, err
	}
	keys = slices.Sorted(slices.Values(keys))
	t := Trace{ID: id, Data: ptrace.NewTraces()}
	seen := map[pcommon.SpanID]bool{}
	for _, key := range keys {
		raw, err := store.Get(ctx, key, "")
		if err != nil {
			return Trace{}, fmt.Errorf("trace %s: read %s: %w", id, key, err)
		}
		err = eachLine(raw, func(line []byte, n int) error {
			if !bytes.Contains(line, []byte(`"traceId":"`+id+`"`)) {
				return nil
			}
			var u ptrace.JSONUnmarshaler
			td, err := u.UnmarshalTraces(line)
			if err != nil {
				return fmt.Errorf("line %d is not OTLP/JSON: %w", n, err)
			}
			t.Records = append(t.Records, RecordRef{Key: key, Line: n, Chain: chainOf(td)})
			take(td, tid, seen, t.Data)
			return nil
		})
		if err != nil {
			return Trace{}, fmt.Errorf("trace %s: read %s: %w", id, key, err)
		}
	}
	if t.Data.SpanCount() == 0 {
		return Trace{}, fmt.Errorf("trace %s: no span of it in %d record objects", id, len(keys))
	}
	if t.Oversize, err = restoreOversize(ctx, store, t.Data); err != nil {
		return Trace{}, fmt.Errorf("trace %s: %w", id, err)
	}
	if opts.StripAuditAttributes {
		stripAuditAttributes(t.Data)
	}
	t.Data = mergeEqualResources(t.Data)
	return t, nil
}

// take appends to out the spans of trace tid in td that were not seen before, under copies of their resource
// and scope.
func take(td ptrace.Traces, tid pcommon.TraceID, seen map[pcommon.SpanID]bool, out ptrace.Traces) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		var dst ptrace.ResourceSpans
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			var dss ptrace.ScopeSpans
			for k := 0; k < ss.Spans().Len(); k++ {
				s := ss.Spans().At(k)
				if s.TraceID() != tid || seen[s.SpanID()] {
					continue
				}
				seen[s.SpanID()] = true
				if dss == (ptrace.ScopeSpans{}) {
					if dst == (ptrace.ResourceSpans{}) {
						dst = out.ResourceSpans().AppendEmpty()
						rs.Resource().CopyTo(dst.Resource())
						dst.SetSchemaUrl(rs.SchemaUrl())
					}
					dss = dst.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(dss.Scope())
					dss.SetSchemaUrl(ss.SchemaUrl())
				}
				s.CopyTo(dss.Spans().AppendEmpty())
			}
		}
	}
}

// chainOf is the seal chain of a record: the first resource's agent_audit.seal.chain.
func chainOf(td ptrace.Traces) string {
	if td.ResourceSpans().Len() == 0 {
		return ""
	}
	if v, ok := td.ResourceSpans().At(0).Resource().Attributes().Get(seal.AttrChain); ok {
		return v.Str()
	}
	return ""
}

// restoreOversize puts the content of every span that names an oversize object back onto the span, and
// returns how many spans it restored.
func restoreOversize(ctx context.Context, store trail.Store, td ptrace.Traces) (int, error) {
	n := 0
	var err error
	eachSpan(td, func(s ptrace.Span) {
		key, ok := s.Attributes().Get(audit.AttrOversizeKey)
		if !ok || err != nil {
			return
		}
		var content pcommon.Map
		if content, err = readOversize(ctx, store, key.Str()); err != nil {
			err = fmt.Errorf("span %s %q: %w", s.SpanID(), s.Name(), err)
			return
		}
		content.Range(func(k string, v pcommon.Value) bool {
			v.CopyTo(s.Attributes().PutEmpty(k))
			return true
		})
		n++
	})
	return n, err
}

// readOversize reads the attributes an oversize object holds: those of its one span.
func readOversize(ctx context.Context, store trail.Store, key string) (pcommon.Map, error) {
	raw, err := store.Get(ctx, key, "")
	if err != nil {
		return pcommon.Map{}, fmt.Errorf("read oversize content: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return pcommon.Map{}, fmt.Errorf("oversize content %s is not GZIP: %w", key, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return pcommon.Map{}, fmt.Errorf("oversize content %s: corrupt GZIP: %w", key, err)
	}
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(bytes.TrimSpace(data))
	if err != nil {
		return pcommon.Map{}, fmt.Errorf("oversize content %s is not OTLP/JSON: %w", key, err)
	}
	var attrs pcommon.Map
	found := false
	eachSpan(td, func(s ptrace.Span) {
		if !found {
			attrs, found = s.Attributes(), true
		}
	})
	if !found {
		return pcommon.Map{}, fmt.Errorf("oversize content %s holds no span", key)
	}
	return attrs, nil
}

// eachSpan calls f with every span of td.
func eachSpan(td ptrace.Traces, f func(ptrace.Span)) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		sss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				f(spans.At(k))
			}
		}
	}
}

// eachLine calls f with every non-empty line of a GZIP object and its 1-based number (empty lines count, as
// trail/verify counts them). It stops at f's first error.
func eachLine(raw []byte, f func(line []byte, n int) error) error {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not GZIP: %w", err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), maxRecordLineBytes)
	for n := 1; sc.Scan(); n++ {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			if err := f(line, n); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("corrupt object: %w", err)
	}
	return nil
}

// parseTraceID reads a trace ID of 32 hex digits.
func parseTraceID(id string) (pcommon.TraceID, error) {
	var tid pcommon.TraceID
	if len(id) != 32 || !isHex(id) {
		return tid, fmt.Errorf("trace id %q: want 32 lowercase hex digits", id)
	}
	for i := range tid {
		tid[i] = unhex(id[2*i])<<4 | unhex(id[2*i+1])
	}
	return tid, nil
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}
