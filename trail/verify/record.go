package verify

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// rec is what Verify keeps of one record line: what its seal claims and how checking it went, never its
// bytes. When ok is false, chain and seq are unverified claims, used only to place the record.
type rec struct {
	line int
	ok   bool
	// signed is set when the record's own signature was checked; a record that is ok without it is
	// authenticated by the next record of its run (see recordReader). readOK and after are the run's
	// bookkeeping: the record was read, and the index+1 of the record before it in its run (0: none).
	signed bool
	readOK bool
	after  int
	// kind and detail say why the record did not verify.
	kind   trail.Kind
	detail string

	version                  int
	chain                    string
	seq                      int64
	prev, hash               string
	traceID                  string
	time                     time.Time
	keyFP, issuer, issuerKey string
	certified                bool
	undelivered              []int64
	refs                     []oversizeRef
}

// placeable reports whether the record says where in which chain it belongs.
func (r *rec) placeable() bool { return len(r.chain) == 32 && r.seq >= 1 }

// oversizeRef is what a span says of its oversize object.
type oversizeRef struct {
	key, sha256 string
	bytes       int64
	spanID      string
}

// oversizeMarker is in every line whose spans reference oversize objects; others are not searched for one. It
// is the attribute's key without its first letters: a search for text that starts with a rare byte ('_') runs
// several times faster over JSON than one starting with '"'.
var oversizeMarker = []byte(audit.AttrOversizeKey[strings.IndexByte(audit.AttrOversizeKey, '_'):] + `"`)

// checkRecord checks one line with check (a seal Verifier's Verify or Inspect) and reads the oversize references of
// a record that passes.
func checkRecord(check func([]byte) (seal.Record, error), line []byte, n int) rec {
	sr, err := check(line)
	r := rec{line: n, version: sr.Version, chain: sr.Chain, seq: sr.Seq, traceID: sr.TraceID}
	if err != nil {
		r.kind, r.detail = kindOf(err), err.Error()
		r.issuer, r.issuerKey = sr.Issuer, sr.IssuerKey
		if r.kind == KindUnknownKey && r.issuerKey == "" {
			r.issuerKey, r.issuer = namedKey(r.detail), namedIssuer(r.detail)
		}
		return r
	}
	r.ok = true
	r.prev, r.hash, r.time = sr.Prev, sr.Hash, sr.SealTime
	r.keyFP, r.issuer, r.issuerKey, r.certified = sr.KeyFingerprint, sr.Issuer, sr.IssuerKey, sr.Certified
	r.undelivered = sr.Undelivered
	if bytes.Contains(line, oversizeMarker) {
		refs, err := oversizeRefs(line)
		if err != nil {
			// The record verified, so its bytes are what was sealed: a reference that cannot be read is a
			// defect of what was sealed, reported on the record.
			r.ok, r.kind, r.detail = false, KindMalformedRecord, err.Error()
			return r
		}
		r.refs = refs
	}
	return r
}

// kindOf maps the seal Verifier's error to a finding kind.
func kindOf(err error) trail.Kind {
	switch {
	case errors.Is(err, seal.ErrUnknownKey):
		return KindUnknownKey
	case errors.Is(err, seal.ErrUnsealed):
		return KindUnsealed
	case errors.Is(err, seal.ErrCertificate):
		return KindBadCertificate
	case errors.Is(err, seal.ErrBadSignature):
		return KindBadSignature
	}
	return KindMalformedRecord
}

// keyName finds the key an ErrUnknownKey names (the seal package's errors name it: a fingerprint, or a format-1
// record's KMS key ARN).
var keyName = regexp.MustCompile(`sha256:[0-9a-f]{64}|arn:[^\s,)]+`)

// issuerName finds the issuer a certificate's ErrUnknownKey names.
var issuerName = regexp.MustCompile(`\(issuer ([^)\s]+)\)`)

func namedIssuer(msg string) string {
	if m := issuerName.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

func namedKey(msg string) string {
	if k := keyName.FindString(msg); k != "" {
		return k
	}
	return "an unnamed key"
}

// oversizeRefs reads the oversize references of a record's spans. Only lines holding one are read with pdata
// (whole): they are few.
func oversizeRefs(line []byte) ([]oversizeRef, error) {
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(line)
	if err != nil {
		return nil, fmt.Errorf("read the oversize references: %w", err)
	}
	var refs []oversizeRef
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				key, ok := sp.Attributes().Get(audit.AttrOversizeKey)
				if !ok {
					continue
				}
				sha, _ := sp.Attributes().Get(audit.AttrOversizeSHA256)
				size, _ := sp.Attributes().Get(audit.AttrOversizeBytes)
				refs = append(refs, oversizeRef{key: key.Str(), sha256: sha.Str(), bytes: size.Int(), spanID: sp.SpanID().String()})
			}
		}
	}
	return refs, nil
}

// insideOversize reports whether a reference names an object under oversize/ (and nothing above it).
func insideOversize(key string) bool {
	return strings.HasPrefix(key, audit.OversizePrefix) && !strings.Contains(key, "..")
}
