package replay

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/seal"
)

// AuditResourceAttributes are the resource attributes the trail adds to every record: the seal (package seal)
// and the record framing (package audit). StripAuditAttributes drops them.
var AuditResourceAttributes = []string{
	seal.AttrVersion, seal.AttrChain, seal.AttrSeq, seal.AttrPrev, seal.AttrUndelivered, seal.AttrKey,
	seal.AttrCert, seal.AttrCertSig, seal.AttrTime, seal.AttrAlg, seal.AttrSig, seal.AttrUnsealed,
	audit.AttrBatchKey, audit.AttrPart, audit.AttrParts, audit.AttrFollowup,
}

// AuditSpanAttributes are the span attributes the trail adds to a span whose content it stored apart: the
// oversize references. StripAuditAttributes drops them.
var AuditSpanAttributes = []string{
	audit.AttrOversizeURI, audit.AttrOversizeKey, audit.AttrOversizeSHA256, audit.AttrOversizeBytes, audit.AttrOversizeAttributes,
}

// stripAuditAttributes removes AuditResourceAttributes from every resource of td and AuditSpanAttributes from
// every span.
func stripAuditAttributes(td ptrace.Traces) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		removeKeys(td.ResourceSpans().At(i).Resource().Attributes(), AuditResourceAttributes)
	}
	eachSpan(td, func(s ptrace.Span) { removeKeys(s.Attributes(), AuditSpanAttributes) })
}

func removeKeys(m pcommon.Map, keys []string) {
	for _, k := range keys {
		m.Remove(k)
	}
}
