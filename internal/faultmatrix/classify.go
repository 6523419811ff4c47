package faultmatrix

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/function/seal"
)

// Row is one line of the matrix: a kind run in one mode, every invocation accounted for.
type Row struct {
	Kind string
	Mode string
	// Invocations = OK + Error (an invocation that returned neither counts as an error with kind "none").
	Invocations, OK, Error int
	// Stored + Lost = Invocations.
	Stored, Lost int
	// Duplicates counts extra byte-identical copies of a (batch_key, part): Firehose's at-least-once delivery,
	// which readers de-duplicate.
	Duplicates int
	// Unexplained counts repetitions readers cannot de-duplicate on (batch_key, part): a copy whose bytes differ,
	// or a span stored under two different (batch_key, part).
	Unexplained int
	// Malformed counts stored records that are not one OTLP/JSON line with the framing attributes.
	Malformed int
	// FollowUps counts distinct follow-up records stored (late spans).
	FollowUps int
	// Records counts the records stored, duplicates included.
	Records int
	// ErrorKinds counts errors by kind and type, e.g. "agent_run/timeout".
	ErrorKinds map[string]int
	// SIGTERMs counts invocations that received SIGTERM mid-run.
	SIGTERMs int
	// Oversize counts spans whose oversize content was found in the bucket and matched its SHA-256.
	Oversize int
	// SealBreaks counts records whose seal does not verify and breaks in the seal chains (a sealed record
	// missing from the store, a position claimed twice by different records).
	SealBreaks int

	FirehoseCalls, FirehoseFaults int
	BedrockCalls, BedrockFaults   int
	// Problems describes every lost invocation and unexplained duplicate, one line each.
	Problems []string
	// Seconds is the run's wall-clock duration (reported, never asserted).
	Seconds float64
}

// traceStore is what the stored records hold of one trace, de-duplicated by (batch_key, part).
type traceStore struct {
	spans map[string]storedSpan
	// where is the (batch_key, part) each span was first seen in.
	where map[string]string
	// incomplete lists shipments of this trace with parts missing.
	incomplete []string
}

// Classify accounts for every invocation of obs; see the package documentation and docs/reliability.md for the
// definitions.
func Classify(obs Observed) Row {
	row := Row{
		Kind: obs.Kind.Name, Mode: obs.Mode, Invocations: len(obs.Outcomes), ErrorKinds: map[string]int{},
		Records: len(obs.Records), FirehoseCalls: obs.FirehoseCalls, FirehoseFaults: obs.FirehoseFaults,
		BedrockCalls: obs.BedrockCalls, BedrockFaults: obs.BedrockFaults,
		Seconds: obs.Elapsed.Seconds(),
	}
	problem := func(format string, args ...any) { row.Problems = append(row.Problems, fmt.Sprintf(format, args...)) }

	// One copy per (batch_key, part); further copies are duplicates, explained when byte-identical.
	type shipment struct {
		parts int64
		seen  map[int64]bool
		trace map[string]bool
	}
	first := map[string][]byte{}
	shipments := map[string]*shipment{}
	traces := map[string]*traceStore{}
	for i, raw := range obs.Records {
		rec, err := parseRecord(raw)
		if err != nil {
			row.Malformed++
			problem("record %d: %v", i, err)
			continue
		}
		key := rec.BatchKey + "/" + strconv.FormatInt(rec.Part, 10)
		if prev, ok := first[key]; ok {
			if bytes.Equal(prev, raw) {
				row.Duplicates++
			} else {
				row.Unexplained++
				problem("record %d: (batch_key, part) %s stored twice with different bytes", i, key)
			}
			continue
		}
		first[key] = raw
		if rec.Followup {
			row.FollowUps++
		}
		sh := shipments[rec.BatchKey]
		if sh == nil {
			sh = &shipment{parts: rec.Parts, seen: map[int64]bool{}, trace: map[string]bool{}}
			shipments[rec.BatchKey] = sh
		}
		sh.seen[rec.Part] = true
		for _, s := range rec.Spans {
			sh.trace[s.TraceID] = true
			ts := traces[s.TraceID]
			if ts == nil {
				ts = &traceStore{spans: map[string]storedSpan{}, where: map[string]string{}}
				traces[s.TraceID] = ts
			}
			if at, dup := ts.where[s.SpanID]; dup {
				row.Unexplained++
				problem("trace %s: span %s %q stored under %s and again under %s", s.TraceID, s.SpanID, s.Name, at, key)
				continue
			}
			ts.spans[s.SpanID], ts.where[s.SpanID] = s, key
		}
	}
	row.SealBreaks = checkSeals(obs, problem)
	for bk, sh := range shipments {
		if int64(len(sh.seen)) == sh.parts {
			continue
		}
		for id := range sh.trace {
			traces[id].incomplete = append(traces[id].incomplete, fmt.Sprintf("%s has %d of %d parts", bk, len(sh.seen), sh.parts))
		}
	}

	for _, o := range obs.Outcomes {
		if o.OK {
			row.OK++
		} else {
			row.Error++
			kind := o.ErrKind
			if kind == "" {
				kind = "none"
			}
			if o.ErrType != "" {
				kind += "/" + o.ErrType
			}
			row.ErrorKinds[kind]++
		}
		if o.SIGTERMDelivered {
			row.SIGTERMs++
		}
		why := lossReason(o, traces[o.TraceID], obs.Truth)
		if why == "" {
			n, oversizeWhy := checkOversize(traces[o.TraceID], obs.Oversize)
			row.Oversize += n
			why = oversizeWhy
		}
		if why == "" {
			row.Stored++
			continue
		}
		row.Lost++
		outcome := "ok"
		if !o.OK {
			outcome = "error " + o.Err
		}
		problem("invocation %d (plan %+v, trace %s) returned %s: %s", o.ID, o.Plan, o.TraceID, outcome, why)
	}
	sort.Strings(row.Problems)
	return row
}

// lossReason says why invocation o's trace is not (fully) stored, or "" when it is.
func lossReason(o Outcome, ts *traceStore, truth map[string][]endedSpan) string {
	if o.TraceID == "" {
		return "no trace_id returned"
	}
	if len(o.FlushMissed) > 0 {
		return fmt.Sprintf("spans ended before SIGTERM not stored by LastChanceFlush: %s", strings.Join(o.FlushMissed, ", "))
	}
	if ts == nil {
		return "no span of the trace is stored"
	}
	if len(ts.incomplete) > 0 {
		return "incomplete shipment: " + strings.Join(ts.incomplete, "; ")
	}
	var root *storedSpan
	if truth != nil {
		want := truth[o.TraceID]
		if len(want) == 0 {
			return "the process ended no span of this trace"
		}
		var missing []string
		for _, s := range want {
			got, ok := ts.spans[s.SpanID]
			if !ok {
				missing = append(missing, fmt.Sprintf("%s %s", s.Name, s.SpanID))
				continue
			}
			if s.Root {
				root = &got
			}
		}
		if len(missing) > 0 {
			return fmt.Sprintf("%d of %d spans missing: %s", len(missing), len(want), strings.Join(missing, ", "))
		}
		if len(ts.spans) != len(want) {
			return fmt.Sprintf("%d spans stored, the process ended %d", len(ts.spans), len(want))
		}
	} else {
		r, why := structuralRoot(ts)
		if why != "" {
			return why
		}
		root = r
	}
	if root == nil {
		return "the root span is not stored"
	}
	switch {
	case o.OK && root.Error:
		return "returned ok but the stored root has status ERROR"
	case !o.OK && o.ErrKind != handler.KindAuditDelivery && !root.Error:
		return "returned an error but the stored root's status is not ERROR"
	}
	return ""
}

// structuralRoot checks a trace against its own root when the process's spans are out of reach: exactly one
// root, and 1 + turns + tool_calls spans as the root's run counters say (a rejected request: the root alone).
func structuralRoot(ts *traceStore) (*storedSpan, string) {
	var roots []storedSpan
	for _, s := range ts.spans {
		if s.Root {
			roots = append(roots, s)
		}
	}
	if len(roots) != 1 {
		return nil, fmt.Sprintf("%d root spans stored", len(roots))
	}
	r := roots[0]
	want := 1 + r.Turns + r.ToolCalls
	if len(ts.spans) != want {
		return nil, fmt.Sprintf("%d spans stored, the root counts %d (%d turns, %d tool calls)", len(ts.spans), want, r.Turns, r.ToolCalls)
	}
	return &r, ""
}

// runCounters are the root's attributes the structural check reads.
var runCounters = [2]string{string(agent.AttrRunTurns), string(agent.AttrRunToolCalls)}

// checkSeals verifies every stored record's seal and checks the chains, reporting each break through problem.
func checkSeals(obs Observed, problem func(string, ...any)) int {
	if obs.Verifier == nil {
		return 0
	}
	breaks := 0
	var chains seal.Chains
	for i, raw := range obs.Records {
		r, err := obs.Verifier.Verify(raw)
		if err != nil {
			breaks++
			problem("record %d: seal: %v", i, err)
			continue
		}
		chains.Add(r, "record "+strconv.Itoa(i))
	}
	for _, p := range chains.Check(false).Problems {
		breaks++
		problem("seal: %s", p)
	}
	return breaks
}

// checkOversize reads every oversize object the trace references and compares its SHA-256; it returns how many
// matched and why the trace is not whole, "" when it is.
func checkOversize(ts *traceStore, read func(key string) ([]byte, error)) (int, string) {
	if ts == nil {
		return 0, ""
	}
	n := 0
	for _, s := range ts.spans {
		if s.OversizeKey == "" {
			continue
		}
		if read == nil {
			return n, fmt.Sprintf("span %s %q references %s but no store is configured", s.SpanID, s.Name, s.OversizeKey)
		}
		content, err := read(s.OversizeKey)
		if err != nil {
			return n, fmt.Sprintf("span %s %q: oversize object %s: %v", s.SpanID, s.Name, s.OversizeKey, err)
		}
		sum := sha256.Sum256(content)
		if hex.EncodeToString(sum[:]) != s.OversizeSHA256 {
			return n, fmt.Sprintf("span %s %q: oversize object %s does not match its SHA-256", s.SpanID, s.Name, s.OversizeKey)
		}
		n++
	}
	return n, ""
}
