package audit

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/agentenv"
)

// Reference attributes of a span whose content was stored outside its record; see the package documentation.
const (
	AttrOversizeURI        = "agent_audit.oversize.uri"
	AttrOversizeKey        = "agent_audit.oversize.key"
	AttrOversizeSHA256     = "agent_audit.oversize.sha256"
	AttrOversizeBytes      = "agent_audit.oversize.bytes"
	AttrOversizeAttributes = "agent_audit.oversize.attributes"
)

// OversizePrefix is the key prefix of oversize objects in the audit root (the component grants the function
// s3:PutObject under it and nothing else).
const OversizePrefix = agentenv.OversizePrefix

// OversizeStore keeps the content of spans too large for a record (the GenAI semantic conventions' "store
// content externally and record references on the spans"). Implementations are safe for concurrent use.
type OversizeStore interface {
	// URI names the object stored under key (relative to the audit root): s3://bucket/key, file:///path.
	URI(key string) string
	// Put stores object under key. It blocks until the object is durable, or fails.
	Put(ctx context.Context, key string, object []byte) error
}

// offload moves the largest attributes of the span at ref, largest first, into one object in the oversize
// store until the span's record fits limit, and leaves the reference attributes in their place (in td). The
// object is a gzip'd OTLP/JSON line holding the span with only the moved attributes, so any OTLP reader reads
// it. It returns the span's single-span record after the move; size is its size before.
func (e *Encoder) offload(ctx context.Context, td ptrace.Traces, ref spanRef, key string, followup bool, limit, size int) (ptrace.Traces, []byte, error) {
	span := td.ResourceSpans().At(ref.rs).ScopeSpans().At(ref.ss).Spans().At(ref.span)
	tooLarge := func(why string) error {
		return fmt.Errorf("trace %s span %s %q: %d bytes on its own exceeds the record limit of %d bytes%s: %w",
			span.TraceID(), span.SpanID(), span.Name(), size, limit, why, ErrSpanTooLarge)
	}
	if e.store == nil {
		return ptrace.Traces{}, nil, tooLarge(" and no oversize store is configured")
	}
	type attr struct {
		key  string
		size int
	}
	var attrs []attr
	span.Attributes().Range(func(k string, v pcommon.Value) bool {
		attrs = append(attrs, attr{k, valueSize(v)})
		return true
	})
	slices.SortFunc(attrs, func(a, b attr) int { return cmp.Or(cmp.Compare(b.size, a.size), cmp.Compare(a.key, b.key)) })

	written := e.now().UTC()
	for n := 1; n <= len(attrs); n++ {
		moved := make([]string, n)
		for i := range moved {
			moved[i] = attrs[i].key
		}
		content, err := oversizeContent(td, ref, moved)
		if err != nil {
			return ptrace.Traces{}, nil, err
		}
		sum := sha256.Sum256(content)
		sha := hex.EncodeToString(sum[:])
		objKey := fmt.Sprintf("%syear=%04d/month=%02d/day=%02d/hour=%02d/%s/%s-%s.json.gz", OversizePrefix,
			written.Year(), written.Month(), written.Day(), written.Hour(), span.TraceID(), span.SpanID(), sha)

		one := subset(td, []spanRef{ref})
		setReference(one.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0), moved, e.store.URI(objKey), objKey, sha, len(content))
		rec, err := marshalRecord(one, key, 0, 1, followup)
		if err != nil {
			return ptrace.Traces{}, nil, err
		}
		if len(rec) > limit {
			continue
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write(content); err != nil {
			return ptrace.Traces{}, nil, fmt.Errorf("compress oversize content: %w", err)
		}
		if err := zw.Close(); err != nil {
			return ptrace.Traces{}, nil, fmt.Errorf("compress oversize content: %w", err)
		}
		if err := e.store.Put(ctx, objKey, gz.Bytes()); err != nil {
			return ptrace.Traces{}, nil, fmt.Errorf("trace %s span %s: store %d bytes of oversize content at %s: %w",
				span.TraceID(), span.SpanID(), len(content), objKey, err)
		}
		setReference(span, moved, e.store.URI(objKey), objKey, sha, len(content))
		return one, rec, nil
	}
	return ptrace.Traces{}, nil, tooLarge(" even with all its attributes stored apart")
}

// oversizeContent renders the span at ref, with its resource and scope and only the attributes moved, as one
// '\n'-terminated OTLP/JSON line.
func oversizeContent(td ptrace.Traces, ref spanRef, moved []string) ([]byte, error) {
	one := subset(td, []spanRef{ref})
	sp := one.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	sp.Attributes().RemoveIf(func(k string, _ pcommon.Value) bool { return !slices.Contains(moved, k) })
	sp.Events().RemoveIf(func(ptrace.SpanEvent) bool { return true })
	sp.Links().RemoveIf(func(ptrace.SpanLink) bool { return true })
	var m ptrace.JSONMarshaler
	b, err := m.MarshalTraces(one)
	if err != nil {
		return nil, fmt.Errorf("marshal oversize content: %w", err)
	}
	return append(b, '\n'), nil
}

// setReference removes the moved attributes from span and records where they went.
func setReference(span ptrace.Span, moved []string, uri, key, sha string, size int) {
	attrs := span.Attributes()
	attrs.RemoveIf(func(k string, _ pcommon.Value) bool { return slices.Contains(moved, k) })
	attrs.PutStr(AttrOversizeURI, uri)
	attrs.PutStr(AttrOversizeKey, key)
	attrs.PutStr(AttrOversizeSHA256, sha)
	attrs.PutInt(AttrOversizeBytes, int64(size))
	list := attrs.PutEmptySlice(AttrOversizeAttributes)
	for _, k := range moved {
		list.AppendEmpty().SetStr(k)
	}
}

// valueSize estimates the bytes a value adds to a record.
func valueSize(v pcommon.Value) int {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return len(v.Str())
	case pcommon.ValueTypeBytes:
		return v.Bytes().Len() * 4 / 3
	case pcommon.ValueTypeSlice, pcommon.ValueTypeMap:
		return len(v.AsString())
	default:
		return 16
	}
}
