package main

import (
	"context"

	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agent-audit/agent-audit/queries"
)

// barWidth is the width of the waterfall's time axis, in characters.
const barWidth = 40

// attrValueRunes bounds an attribute value in the attribute listing; --json prints everything.
const attrValueRunes = 100

func newShowCommand() *cobra.Command {
	f := readFlags{}
	var seals sealFlags
	var raw, messages bool
	var output string
	cmd := &cobra.Command{
		Use:   "show <trace-id-prefix>",
		Short: "Show one trace: its seal, a waterfall, each span's attributes and events",
		Long: `Show one trace: when it started, a remote parent (the caller's span, from a traceparent), the seal of
each record that holds its spans (sealed or not, chain and seq, key and issuer, and whether it verifies under
--public-key, for a local root the local signing key), the waterfall with status messages, and each span's
attributes and events (an exception's type, and its message when content capture was on).
--messages lays it out as the conversation instead; -o json prints its OTLP/JSON records.`,
		Example: `  audit show 4bf92f35
  audit show 4bf92f35 --messages
  audit show 4bf92f35 --root s3://my-audit-bucket --public-key audit-signing.pub.pem
  audit show 4bf92f35 --json | jq .`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case FormatTable:
			case FormatJSON:
				raw = true
			default:
				return usageError(fmt.Errorf("show -o %q: want table (the waterfall) or json (the trace's OTLP/JSON records); "+
					"for rows, audit query -o csv \"SELECT * FROM spans WHERE trace = '<id>'\"", output))
			}
			return withDB(cmd.Context(), f, cmd.ErrOrStderr(), func(db *queries.DB) error {
				id, err := resolveTrace(cmd.Context(), db, args[0])
				if err != nil {
					return err
				}
				if raw {
					return printRaw(cmd.Context(), db, cmd.OutOrStdout(), id)
				}
				spans, err := loadSpans(cmd.Context(), db, id)
				if err != nil {
					return err
				}
				if messages {
					return renderConversation(cmd.OutOrStdout(), id, spans)
				}
				notes, err := sealNotes(cmd.Context(), readRoot(f.root), seals, id, spans)
				if err != nil {
					return err
				}
				renderTrace(cmd.OutOrStdout(), id, spans, notes)
				return nil
			})
		},
	}
	f.register(cmd)
	seals.register(cmd)
	cmd.Flags().BoolVar(&messages, "messages", false, "lay the run out as its conversation, turn by turn, with the tokens of each turn")
	cmd.Flags().BoolVar(&raw, "json", false, "print the trace's raw OTLP/JSON records (as -o json)")
	cmd.Flags().StringVarP(&output, "output", "o", FormatTable, "output format: table (the waterfall and attributes) or json (the raw OTLP/JSON records)")
	return cmd
}

// resolveTrace finds the one trace whose ID starts with prefix.
func resolveTrace(ctx context.Context, db *queries.DB, prefix string) (string, error) {
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	if prefix == "" || strings.Trim(prefix, "0123456789abcdef") != "" {
		return "", usageError(fmt.Errorf("trace id prefix %q: want hexadecimal digits", prefix))
	}
	rows, err := db.QueryContext(ctx, "SELECT DISTINCT trace FROM spans WHERE starts_with(trace, ?) ORDER BY trace LIMIT 6", prefix)
	if err != nil {
		return "", fmt.Errorf("find trace %s: %w", prefix, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	switch len(ids) {
	case 0:
		return "", usageError(fmt.Errorf("no trace starts with %s", prefix))
	case 1:
		return ids[0], nil
	default:
		return "", usageError(fmt.Errorf("%s is ambiguous: traces %s… start with it; give more digits", prefix, strings.Join(ids, ", ")))
	}
}

// traceSpan is a span as the waterfall needs it.
type traceSpan struct {
	ID, Parent, Name, Status string
	StatusMessage            string
	Start                    time.Time
	Duration                 time.Duration
	Attrs                    []attr
	Events                   []spanEvent
	// SourceFile is the object the span was read from.
	SourceFile string
}

// spanEvent is a span event (an exception, say) with its attributes.
type spanEvent struct {
	Name  string
	Time  time.Time
	Attrs []attr
}

type attr struct {
	Key   string
	Value string
}

func loadSpans(ctx context.Context, db *queries.DB, id string) ([]traceSpan, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT span_id, coalesce(parent_span_id, ''), name, status, coalesce(status_message, ''), started, dur_ms,
			to_json(attributes)::VARCHAR, coalesce(to_json(events)::VARCHAR, '[]'), source_file
		FROM spans WHERE trace = ? ORDER BY started, span_id`, id)
	if err != nil {
		return nil, fmt.Errorf("load trace %s: %w", id, err)
	}
	defer rows.Close()
	var out []traceSpan
	for rows.Next() {
		var s traceSpan
		var durMS float64
		var attrsJSON, eventsJSON string
		if err := rows.Scan(&s.ID, &s.Parent, &s.Name, &s.Status, &s.StatusMessage, &s.Start, &durMS, &attrsJSON, &eventsJSON, &s.SourceFile); err != nil {
			return nil, err
		}
		s.Duration = time.Duration(durMS * float64(time.Millisecond))
		s.Attrs = decodeAttrs(attrsJSON)
		s.Events = decodeEvents(eventsJSON)
		out = append(out, s)
	}
	return out, rows.Err()
}

// decodeAttrs turns the OTLP key/value list into display strings.
func decodeAttrs(raw string) []attr {
	var kvs []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	if json.Unmarshal([]byte(raw), &kvs) != nil {
		return nil
	}
	out := make([]attr, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, attr{Key: kv.Key, Value: anyValue(kv.Value)})
	}
	return out
}

// decodeEvents reads the spans view's events (a JSON list of {timeUnixNano, name, attributes}).
func decodeEvents(raw string) []spanEvent {
	var evs []struct {
		TimeUnixNano string          `json:"timeUnixNano"`
		Name         string          `json:"name"`
		Attributes   json.RawMessage `json:"attributes"`
	}
	if json.Unmarshal([]byte(raw), &evs) != nil {
		return nil
	}
	out := make([]spanEvent, 0, len(evs))
	for _, e := range evs {
		ev := spanEvent{Name: e.Name, Attrs: decodeAttrs(string(e.Attributes))}
		if ns, err := strconv.ParseInt(e.TimeUnixNano, 10, 64); err == nil {
			ev.Time = time.Unix(0, ns).UTC()
		}
		out = append(out, ev)
	}
	return out
}

// anyValue renders an OTLP AnyValue (JSON-encoded; DuckDB may hand it over as a JSON string) as plain text.
func anyValue(raw json.RawMessage) string {
	v, ok := otlpValue(raw)
	if !ok {
		return string(raw)
	}
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool, float64:
		return fmt.Sprint(t)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	return string(b)
}

// otlpValue reads an OTLP/JSON AnyValue (as the views give it: an object, or a JSON string holding one) as the
// value it stands for: string, json.Number (an int64, kept exact), bool, float64, []any for an array and
// orderedMap for a key/value list, so that nested values print as JSON. Hand-written because pdata unmarshals
// whole requests only, not one attribute value of a view's row.
func otlpValue(raw json.RawMessage) (any, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	var v struct {
		StringValue *string                             `json:"stringValue"`
		IntValue    *json.Number                        `json:"intValue"`
		BoolValue   *bool                               `json:"boolValue"`
		DoubleValue *float64                            `json:"doubleValue"`
		BytesValue  *string                             `json:"bytesValue"`
		ArrayValue  *struct{ Values []json.RawMessage } `json:"arrayValue"`
		KvlistValue *struct {
			Values []struct {
				Key   string
				Value json.RawMessage
			}
		} `json:"kvlistValue"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return nil, false
	}
	switch {
	case v.StringValue != nil:
		return *v.StringValue, true
	case v.IntValue != nil:
		return *v.IntValue, true
	case v.BoolValue != nil:
		return *v.BoolValue, true
	case v.DoubleValue != nil:
		return *v.DoubleValue, true
	case v.BytesValue != nil:
		return *v.BytesValue, true
	case v.ArrayValue != nil:
		out := make([]any, len(v.ArrayValue.Values))
		for i, e := range v.ArrayValue.Values {
			if out[i], _ = otlpValue(e); out[i] == nil {
				out[i] = json.RawMessage(e)
			}
		}
		return out, true
	case v.KvlistValue != nil:
		var m orderedMap
		for _, kv := range v.KvlistValue.Values {
			val, _ := otlpValue(kv.Value)
			m.keys, m.values = append(m.keys, kv.Key), append(m.values, val)
		}
		return m, true
	}
	return nil, false
}

// renderTrace prints a header (span count, duration, start, a remote parent, then notes: the seal status), the waterfall (children under parents, bars to scale on one time axis) and then each span's
// attributes, long values shortened.
func renderTrace(w io.Writer, id string, spans []traceSpan, notes []string) {
	if len(spans) == 0 {
		return
	}
	for i := range spans {
		spans[i].Name = printable(spans[i].Name)
	}
	ordered, depth := treeOrder(spans)
	t0, t1 := ordered[0].Start, ordered[0].Start
	nameWidth := 0
	for i, s := range ordered {
		if s.Start.Before(t0) {
			t0 = s.Start
		}
		if end := s.Start.Add(s.Duration); end.After(t1) {
			t1 = end
		}
		nameWidth = max(nameWidth, 2*depth[i]+len([]rune(s.Name)))
	}
	total := t1.Sub(t0)
	fmt.Fprintf(w, "trace %s  %s  %s  started %s\n", id, count(len(spans), "span"), formatDuration(total), t0.UTC().Format("2006-01-02 15:04:05.000 UTC"))
	inTrace := map[string]bool{}
	for _, s := range spans {
		inTrace[s.ID] = true
	}
	for _, s := range ordered {
		if s.Parent != "" && !inTrace[s.Parent] {
			fmt.Fprintf(w, "remote parent: %s, the caller's span (traceparent) of %s\n", printable(s.Parent), s.Name)
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, printable(n))
	}
	fmt.Fprintln(w)
	for i, s := range ordered {
		label := strings.Repeat("  ", depth[i]) + s.Name
		offset, length := 0, barWidth
		if total > 0 {
			offset = int(float64(s.Start.Sub(t0)) / float64(total) * barWidth)
			length = max(1, int(float64(s.Duration)/float64(total)*barWidth+0.5))
		}
		offset = min(offset, barWidth-1)
		length = min(length, barWidth-offset)
		mark := ""
		if s.Status == "ERROR" {
			mark = "  ERROR"
			if s.StatusMessage != "" {
				mark += ": " + shorten(s.StatusMessage)
			}
		}
		fmt.Fprintf(w, "%-*s  %s%s%s  %s%s\n", nameWidth, label, strings.Repeat(" ", offset), strings.Repeat("█", length),
			strings.Repeat(" ", barWidth-offset-length), formatDuration(s.Duration), mark)
	}
	for i, s := range ordered {
		fmt.Fprintf(w, "\n%s%s\n", strings.Repeat("  ", depth[i]), s.Name)
		keyWidth := 0
		for _, a := range s.Attrs {
			keyWidth = max(keyWidth, len(printable(a.Key)))
		}
		indent := strings.Repeat("  ", depth[i])
		if s.StatusMessage != "" {
			fmt.Fprintf(w, "%s  status %s: %s\n", indent, s.Status, shorten(s.StatusMessage))
		}
		for _, a := range s.Attrs {
			fmt.Fprintf(w, "%s  %-*s  %s\n", indent, keyWidth, printable(a.Key), shorten(a.Value))
		}
		for _, e := range s.Events {
			fmt.Fprintf(w, "%s  event %s at +%s\n", indent, printable(e.Name), formatDuration(e.Time.Sub(s.Start)))
			for _, a := range e.Attrs {
				fmt.Fprintf(w, "%s    %s  %s\n", indent, printable(a.Key), shorten(a.Value))
			}
		}
	}
}

// treeOrder lists spans depth first, children by start time, with each one's depth. Spans whose parent is not in
// the trace (the root of a run called with a traceparent) are roots. Spans in a parent cycle (only a corrupt or
// forged record makes one) are listed too, each once, from the earliest of the cycle, so nothing stored is hidden.
func treeOrder(spans []traceSpan) ([]traceSpan, []int) {
	byID := map[string]bool{}
	for _, s := range spans {
		byID[s.ID] = true
	}
	children := map[string][]traceSpan{}
	var roots []traceSpan
	for _, s := range spans {
		if s.Parent == "" || !byID[s.Parent] {
			roots = append(roots, s)
		} else {
			children[s.Parent] = append(children[s.Parent], s)
		}
	}
	byStart := func(list []traceSpan) {
		sort.SliceStable(list, func(i, j int) bool { return list[i].Start.Before(list[j].Start) })
	}
	var out []traceSpan
	var depth []int
	seen := map[string]bool{}
	var walk func(s traceSpan, d int)
	walk = func(s traceSpan, d int) {
		if seen[s.ID] {
			return
		}
		seen[s.ID] = true
		out, depth = append(out, s), append(depth, d)
		kids := children[s.ID]
		byStart(kids)
		for _, k := range kids {
			walk(k, d+1)
		}
	}
	byStart(roots)
	for _, r := range roots {
		walk(r, 0)
	}
	if len(out) < len(spans) {
		rest := make([]traceSpan, 0, len(spans)-len(out))
		for _, s := range spans {
			if !seen[s.ID] {
				rest = append(rest, s)
			}
		}
		byStart(rest)
		for _, s := range rest {
			walk(s, 0)
		}
	}
	return out, depth
}

func formatDuration(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
}

func shorten(s string) string {
	s = printable(s)
	r := []rune(s)
	if len(r) <= attrValueRunes {
		return s
	}
	return string(r[:attrValueRunes-1]) + "…"
}

// printRaw prints, unchanged, every record that holds spans of trace id, read again with DuckDB's raw JSON reader
// from the objects the views found them in (local or S3 alike). A split trace, or one with follow-ups, prints as
// several lines; a record Firehose stored twice prints once.
func printRaw(ctx context.Context, db *queries.DB, w io.Writer, id string) error {
	rows, err := db.QueryContext(ctx, `
		WITH files AS (SELECT list(DISTINCT source_file) AS f FROM spans WHERE trace = ?)
		SELECT DISTINCT json::VARCHAR AS line
		FROM read_json_objects(audit_trace_objects(),
			format = 'newline_delimited', compression = 'gzip', filename = true)
		WHERE list_contains((SELECT f FROM files), filename) AND contains(json::VARCHAR, ?)
		ORDER BY line`, id, `"traceId":"`+id+`"`)
	if err != nil {
		return fmt.Errorf("read the records of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return rows.Err()
}

// sealNotes checks the seals of the records holding the trace's spans and describes them.
func sealNotes(ctx context.Context, root string, f sealFlags, id string, spans []traceSpan) ([]string, error) {
	v, keyed, err := f.verifier(root)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, root)
	if err != nil {
		return nil, cannotCheckError(err)
	}
	var keys []string
	seen := map[string]bool{}
	for _, s := range spans {
		if k := objectKey(root, s.SourceFile); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	bySeal, err := recordSeals(ctx, store, keys, map[string]bool{id: true}, v)
	if err != nil {
		return nil, cannotCheckError(err)
	}
	return describeSeals(bySeal[id], keyed), nil
}
