package main

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// Output formats of the commands that print rows.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// maxCellRunes keeps table cells to one screen line; json and csv print values whole.
const maxCellRunes = 60

// printRows writes every row of rows in format. It returns the number of rows.
func printRows(w io.Writer, rows *sql.Rows, format string) (int, error) {
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	var (
		n     int
		tw    *tabwriter.Writer
		cw    *csv.Writer
		jsonl []map[string]any
	)
	switch format {
	case FormatTable:
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	case FormatCSV:
		cw = csv.NewWriter(w)
		if err := cw.Write(cols); err != nil {
			return 0, err
		}
	case FormatJSON:
		jsonl = []map[string]any{}
	default:
		return 0, fmt.Errorf("--output %q: want table, json or csv", format)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
		switch format {
		case FormatTable:
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = truncate(printable(cell(v)))
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		case FormatCSV:
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = cell(v)
			}
			if err := cw.Write(cells); err != nil {
				return n, err
			}
		case FormatJSON:
			obj := make(map[string]any, len(cols))
			for i, c := range cols {
				obj[c] = jsonValue(vals[i])
			}
			jsonl = append(jsonl, obj)
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	switch format {
	case FormatTable:
		return n, tw.Flush()
	case FormatCSV:
		cw.Flush()
		return n, cw.Error()
	default:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return n, enc.Encode(jsonl)
	}
}

// cell renders a value for a table or CSV: NULL as empty, times in UTC with milliseconds, floats short.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.000")
	case float64:
		return fmt.Sprintf("%.1f", x)
	case []byte:
		return string(x)
	default:
		return fmt.Sprint(x)
	}
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return v
	}
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= maxCellRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxCellRunes-1]) + "…"
}
