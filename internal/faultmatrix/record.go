package faultmatrix

import (
	"bytes"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/audit"
)

// storedRecord is one record as Firehose stored it, parsed with the Collector's OTLP/JSON unmarshaler.
type storedRecord struct {
	Raw         []byte
	BatchKey    string
	Part, Parts int64
	Followup    bool
	Spans       []storedSpan
}

// storedSpan is one span of a stored record.
type storedSpan struct {
	TraceID, SpanID, Name string
	Error                 bool
	// Root is set for a span without parent (the matrix sends no traceparent).
	Root bool
	// Turns and ToolCalls are the root's run counters (agent_audit.run.*), zero elsewhere.
	Turns, ToolCalls int
	// OversizeKey and OversizeSHA256 reference content moved out of the record (empty when none was).
	OversizeKey, OversizeSHA256 string
}

// parseRecord parses one record: one '\n'-terminated OTLP/JSON line whose resources carry the framing
// attributes.
func parseRecord(raw []byte) (storedRecord, error) {
	rec := storedRecord{Raw: raw, Part: -1}
	if len(raw) == 0 || raw[len(raw)-1] != '\n' || bytes.Count(raw, []byte("\n")) != 1 {
		return rec, errors.New("not one newline-terminated line")
	}
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(raw)
	if err != nil {
		return rec, fmt.Errorf("not OTLP/JSON: %w", err)
	}
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		attrs := rs.Resource().Attributes()
		if v, ok := attrs.Get(audit.AttrBatchKey); ok {
			rec.BatchKey = v.Str()
		}
		if v, ok := attrs.Get(audit.AttrPart); ok {
			rec.Part = v.Int()
		}
		if v, ok := attrs.Get(audit.AttrParts); ok {
			rec.Parts = v.Int()
		}
		if v, ok := attrs.Get(audit.AttrFollowup); ok {
			rec.Followup = v.Bool()
		}
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				ss := storedSpan{
					TraceID: s.TraceID().String(),
					SpanID:  s.SpanID().String(),
					Name:    s.Name(),
					Error:   s.Status().Code() == ptrace.StatusCodeError,
					Root:    s.ParentSpanID().IsEmpty(),
				}
				if v, ok := s.Attributes().Get(runCounters[0]); ok {
					ss.Turns = int(v.Int())
				}
				if v, ok := s.Attributes().Get(runCounters[1]); ok {
					ss.ToolCalls = int(v.Int())
				}
				if v, ok := s.Attributes().Get(audit.AttrOversizeKey); ok {
					ss.OversizeKey = v.Str()
				}
				if v, ok := s.Attributes().Get(audit.AttrOversizeSHA256); ok {
					ss.OversizeSHA256 = v.Str()
				}
				rec.Spans = append(rec.Spans, ss)
			}
		}
	}
	if rec.BatchKey == "" || rec.Part < 0 || rec.Parts < 1 || rec.Part >= rec.Parts {
		return rec, fmt.Errorf("framing attributes missing or inconsistent (batch_key %q, part %d of %d)", rec.BatchKey, rec.Part, rec.Parts)
	}
	return rec, nil
}

// storedSpanIDs lists the span IDs present in records; records that do not parse are skipped.
func storedSpanIDs(records [][]byte) map[string]bool {
	ids := map[string]bool{}
	for _, raw := range records {
		rec, err := parseRecord(raw)
		if err != nil {
			continue
		}
		for _, s := range rec.Spans {
			ids[s.SpanID] = true
		}
	}
	return ids
}
