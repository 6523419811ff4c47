package replay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Filter chooses traces. Every condition set must hold; the zero Filter chooses every trace.
type Filter struct {
	// Since and Until bound when a trace started (its earliest span): Since <= start < Until. Zero: no bound.
	Since, Until time.Time
	// TraceIDs, when set, are the only traces chosen (full IDs, 32 lowercase hex digits).
	TraceIDs []string
	// Conversation chooses traces with a span whose gen_ai.conversation.id is this.
	Conversation string
	// ErrorsOnly chooses traces with a span in status ERROR.
	ErrorsOnly bool
	// Query is SQL over the views (spans, traces, runs, tool_calls) whose first column is trace IDs.
	Query string
}

// ErrBadFilter is wrapped by Select's errors about the Filter itself: a trace ID that is not one, a query that
// fails or does not return trace IDs.
var ErrBadFilter = errors.New("bad filter")

// Selected is one chosen trace and the record objects that hold its spans.
type Selected struct {
	ID string
	// Keys are the record objects' keys relative to the audit root.
	Keys []string
	// Started is when its earliest span started.
	Started time.Time
}

// Select runs f over the views of db (queries.Open over root) and returns the chosen traces, earliest first.
// Bad input (a trace ID that is not one, a query that fails or returns something else) is an error naming it.
func Select(ctx context.Context, db *sql.DB, root string, f Filter) ([]Selected, error) {
	for _, id := range f.TraceIDs {
		if _, err := parseTraceID(id); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadFilter, err)
		}
	}
	ids := f.TraceIDs
	if f.Query != "" {
		fromQuery, err := queryIDs(ctx, db, f.Query)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadFilter, err)
		}
		ids = intersect(ids, fromQuery, len(f.TraceIDs) > 0)
		if len(ids) == 0 {
			return nil, nil
		}
	}
	q, args := selectSQL(f, ids)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("select traces: %w", err)
	}
	defer rows.Close()
	prefix := strings.TrimRight(root, "/") + "/"
	var out []Selected
	for rows.Next() {
		var s Selected
		var files string
		if err := rows.Scan(&s.ID, &s.Started, &files); err != nil {
			return nil, fmt.Errorf("select traces: %w", err)
		}
		for _, file := range strings.Split(files, "\n") {
			key, ok := strings.CutPrefix(file, prefix)
			if !ok {
				return nil, fmt.Errorf("select traces: record object %s is not under %s", file, root)
			}
			s.Keys = append(s.Keys, key)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select traces: %w", err)
	}
	return out, nil
}

// selectSQL builds the query. The lower time bound is repeated on the partition columns as plain comparisons
// (DuckDB prunes on those), as `audit traces` does: an object is delivered after its spans started, so no
// object of a chosen trace lies in an earlier partition. The IDs inlined are checked hex.
func selectSQL(f Filter, ids []string) (string, []any) {
	var where, having []string
	var args []any
	if !f.Since.IsZero() {
		y, m, d := f.Since.UTC().Date()
		where = append(where, "(year > ? OR (year = ? AND (month > ? OR (month = ? AND day >= ?))))")
		args = append(args, y, y, int(m), int(m), d)
	}
	if ids != nil {
		where = append(where, "trace IN ('"+strings.Join(ids, "', '")+"')")
	}
	prune := "true"
	if len(where) > 0 {
		prune = strings.Join(where, " AND ")
	}
	var hargs []any
	if !f.Since.IsZero() {
		having, hargs = append(having, "min(started) >= ?::TIMESTAMP"), append(hargs, sqlTime(f.Since))
	}
	if !f.Until.IsZero() {
		having, hargs = append(having, "min(started) < ?::TIMESTAMP"), append(hargs, sqlTime(f.Until))
	}
	if f.Conversation != "" {
		having, hargs = append(having, "bool_or(otel_str(attributes, 'gen_ai.conversation.id') = ?)"), append(hargs, f.Conversation)
	}
	if f.ErrorsOnly {
		having = append(having, "bool_or(status = 'ERROR')")
	}
	cond := "true"
	if len(having) > 0 {
		cond = strings.Join(having, " AND ")
	}
	q := `SELECT trace, min(started) AS started, string_agg(DISTINCT source_file, chr(10) ORDER BY source_file) AS files
		FROM spans WHERE ` + prune + `
		GROUP BY trace HAVING ` + cond + `
		ORDER BY started, trace`
	return q, append(args, hargs...)
}

func sqlTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999999") }

// queryIDs runs the user's query and returns the distinct trace IDs of its first column.
func queryIDs(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("--query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("--query: %w", err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	seen := map[string]bool{}
	ids := []string{}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("--query: %w", err)
		}
		id, ok := vals[0].(string)
		if !ok {
			return nil, fmt.Errorf("--query: its first column %q holds %T values, want trace IDs", cols[0], vals[0])
		}
		if _, err := parseTraceID(id); err != nil {
			return nil, fmt.Errorf("--query: its first column %q: %w", cols[0], err)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("--query: %w", err)
	}
	return ids, nil
}

// intersect returns the IDs of b that are in a, or b whole when a does not restrict (restrict false).
func intersect(a, b []string, restrict bool) []string {
	if !restrict {
		return b
	}
	in := map[string]bool{}
	for _, id := range a {
		in[id] = true
	}
	out := []string{}
	for _, id := range b {
		if in[id] {
			out = append(out, id)
		}
	}
	return out
}
