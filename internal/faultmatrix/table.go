package faultmatrix

import (
	"fmt"
	"sort"
	"strings"
)

// Markdown renders rows as the matrix table, with a total line.
func Markdown(rows []Row) string {
	var b strings.Builder
	b.WriteString("| fault kind | through | invocations | ok | error | stored | lost | duplicates | follow-ups | oversize objects | seal breaks | Firehose calls (faulted) | Bedrock requests (faulted) | errors by kind |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	var total Row
	for _, r := range rows {
		lost := fmt.Sprint(r.Lost)
		dups := fmt.Sprint(r.Duplicates)
		if r.Unexplained > 0 {
			dups += fmt.Sprintf(" + %d unexplained", r.Unexplained)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %s | %s | %d | %d | %d | %d (%d) | %d (%d) | %s |\n",
			r.Kind, r.Mode, r.Invocations, r.OK, r.Error, r.Stored, lost, dups, r.FollowUps, r.Oversize, r.SealBreaks,
			r.FirehoseCalls, r.FirehoseFaults, r.BedrockCalls, r.BedrockFaults, errorKinds(r.ErrorKinds))
		total.Invocations += r.Invocations
		total.OK += r.OK
		total.Error += r.Error
		total.Stored += r.Stored
		total.Lost += r.Lost
		total.Duplicates += r.Duplicates
		total.Unexplained += r.Unexplained
		total.FollowUps += r.FollowUps
		total.Oversize += r.Oversize
		total.SealBreaks += r.SealBreaks
		total.FirehoseCalls += r.FirehoseCalls
		total.FirehoseFaults += r.FirehoseFaults
		total.BedrockCalls += r.BedrockCalls
		total.BedrockFaults += r.BedrockFaults
	}
	dups := fmt.Sprint(total.Duplicates)
	if total.Unexplained > 0 {
		dups += fmt.Sprintf(" + %d unexplained", total.Unexplained)
	}
	fmt.Fprintf(&b, "| **total** | | **%d** | %d | %d | %d | **%d** | %s | %d | %d | %d | %d (%d) | %d (%d) | |\n",
		total.Invocations, total.OK, total.Error, total.Stored, total.Lost, dups, total.FollowUps, total.Oversize, total.SealBreaks,
		total.FirehoseCalls, total.FirehoseFaults, total.BedrockCalls, total.BedrockFaults)
	return b.String()
}

// errorKinds lists error counts as "kind/type n", most frequent first.
func errorKinds(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("`%s` %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
