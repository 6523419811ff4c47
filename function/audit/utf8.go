package audit

import (
	"unicode/utf8"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// repairUTF8 replaces every invalid UTF-8 byte of every string in rs with U+FFFD (one per byte, as encoding/json
// and Go's []rune conversion do). OTLP strings must be valid UTF-8 and protobuf refuses to marshal one that is
// not, while the SDK passes attribute values through as they were set: without this, one stray byte in a tool
// result or a rejected payload would lose the whole trace. Hand-written because neither the SDK nor the OTLP
// packages offer it; it only allocates for strings that need the repair.
func repairUTF8(rs []*tracepb.ResourceSpans) {
	for _, r := range rs {
		if r.Resource != nil {
			repairKeyValues(r.Resource.Attributes)
		}
		r.SchemaUrl = validString(r.SchemaUrl)
		for _, ss := range r.ScopeSpans {
			if ss.Scope != nil {
				ss.Scope.Name = validString(ss.Scope.Name)
				ss.Scope.Version = validString(ss.Scope.Version)
				repairKeyValues(ss.Scope.Attributes)
			}
			ss.SchemaUrl = validString(ss.SchemaUrl)
			for _, s := range ss.Spans {
				s.Name = validString(s.Name)
				s.TraceState = validString(s.TraceState)
				repairKeyValues(s.Attributes)
				for _, e := range s.Events {
					e.Name = validString(e.Name)
					repairKeyValues(e.Attributes)
				}
				for _, l := range s.Links {
					l.TraceState = validString(l.TraceState)
					repairKeyValues(l.Attributes)
				}
				if s.Status != nil {
					s.Status.Message = validString(s.Status.Message)
				}
			}
		}
	}
}

func repairKeyValues(kvs []*commonpb.KeyValue) {
	for _, kv := range kvs {
		kv.Key = validString(kv.Key)
		repairValue(kv.Value)
	}
}

func repairValue(v *commonpb.AnyValue) {
	if v == nil {
		return
	}
	switch x := v.Value.(type) {
	case *commonpb.AnyValue_StringValue:
		x.StringValue = validString(x.StringValue)
	case *commonpb.AnyValue_ArrayValue:
		if x.ArrayValue != nil {
			for _, e := range x.ArrayValue.Values {
				repairValue(e)
			}
		}
	case *commonpb.AnyValue_KvlistValue:
		if x.KvlistValue != nil {
			repairKeyValues(x.KvlistValue.Values)
		}
	}
}

func validString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}
