package main

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Output formats of the commands that print rows.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// minTextWidth is the narrowest a text column is cut to when a table is fitted to the terminal (or its header,
// when that is wider).
const minTextWidth = 8

// outputOptions say how printRows prints.
type outputOptions struct {
	format string
	// width is the table's width limit in characters; 0 prints every cell whole.
	width int
}

// outputFlags are -o and --wide of a command that prints rows.
type outputFlags struct {
	format string
	wide   bool
}

func (f *outputFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.format, "output", "o", FormatTable, "output format: table, json or csv")
	cmd.Flags().BoolVar(&f.wide, "wide", false, "print table cells whole instead of fitting the table to the terminal ($COLUMNS or its width)")
}

// options resolves the flags for stdout.
func (f outputFlags) options(stdout io.Writer) outputOptions {
	o := outputOptions{format: f.format}
	if !f.wide {
		o.width = terminalWidth(stdout)
	}
	return o
}

// terminalWidth is the width a table must fit: $COLUMNS when set, else the terminal's, else 0 (output that is
// piped or redirected is not cut).
func terminalWidth(stdout io.Writer) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 0
}

// printRows writes every row of rows as o says and returns the number of rows. Tables show NULL as NULL and
// nested values (lists, structs, maps, JSON) as compact JSON, and fit o.width by cutting the widest text columns
// (as the duckdb shell does); CSV writes NULL as an empty field and nested values as JSON; JSON is an array of
// objects whose keys are in the SELECT's order.
func printRows(w io.Writer, rows *sql.Rows, o outputOptions) (int, error) {
	switch o.format {
	case FormatTable, FormatCSV, FormatJSON:
	default:
		return 0, usageError(fmt.Errorf("--output %q: want table, json or csv", o.format))
	}
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return 0, err
	}
	dbTypes := make([]string, len(types))
	for i, t := range types {
		dbTypes[i] = t.DatabaseTypeName()
	}
	var table [][]string
	var cw *csv.Writer
	var jw *jsonArray
	switch o.format {
	case FormatTable:
		table = [][]string{cols}
	case FormatCSV:
		cw = csv.NewWriter(w)
		if err := cw.Write(cols); err != nil {
			return 0, err
		}
	case FormatJSON:
		jw = newJSONArray(w, cols)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = plain(v, dbTypes[i])
		}
		switch o.format {
		case FormatTable:
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = printable(text(v, "NULL"))
			}
			table = append(table, cells)
		case FormatCSV:
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = text(v, "")
			}
			if err := cw.Write(cells); err != nil {
				return n, err
			}
		case FormatJSON:
			if err := jw.write(row); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	switch o.format {
	case FormatTable:
		return n, writeTable(w, table, textColumns(cols, dbTypes), o.width)
	case FormatCSV:
		cw.Flush()
		return n, cw.Error()
	}
	return n, jw.close()
}

// plain turns a value DuckDB returned into one JSON can encode as the value it is: times in UTC,
// UUIDs in their text form, BLOBs as text, decimals and huge integers as JSON numbers, maps in their order,
// and nested values element by element.
func plain(v any, dbType string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		if dbType == "UUID" && len(x) == 16 {
			u := duckdb.UUID(x)
			return u.String()
		}
		return string(x)
	case time.Time:
		return x.UTC() // encoding/json writes RFC 3339
	case duckdb.Decimal:
		return json.Number(x.String())
	case *big.Int:
		return json.Number(x.String())
	case duckdb.UUID:
		return x.String()
	case duckdb.Interval:
		return map[string]any{"months": x.Months, "days": x.Days, "micros": x.Micros}
	case duckdb.OrderedMap:
		return orderedMap{keys: x.Keys(), values: x.Values()}
	case duckdb.Map:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(plain(k, ""))] = plain(e, "")
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plain(e, "")
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = plain(e, "")
		}
		return l
	}
	return v
}

// orderedMap is a map with an order of its keys (a DuckDB MAP, an OTLP key/value list), encoded as a JSON object
// in that order.
type orderedMap struct{ keys, values []any }

// MarshalJSON writes the map as an object, keys in order.
func (m orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(fmt.Sprint(plain(k, "")))
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(plain(m.values[i], ""))
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// text renders a plain value for a table or CSV cell: null as given, strings as they are, times without the
// zone (UTC) to the millisecond, nested values as compact JSON.
func text(v any, null string) string {
	switch x := v.(type) {
	case nil:
		return null
	case string:
		return x
	case time.Time:
		return x.Format("2006-01-02 15:04:05.000")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case json.Number:
		return x.String()
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// textColumns marks the columns whose cells may be cut to fit: text and nested values, never numbers or times,
// nor the trace and span IDs (a cut ID cannot be passed to audit show).
func textColumns(cols, dbTypes []string) []bool {
	out := make([]bool, len(dbTypes))
	for i, t := range dbTypes {
		switch {
		case cols[i] == "trace" || cols[i] == "span_id" || cols[i] == "parent_span_id":
		case t == "VARCHAR", t == "JSON", t == "BLOB", t == "UNION", t == "ENUM", t == "MAP", t == "STRUCT",
			strings.HasSuffix(t, "[]"), strings.HasPrefix(t, "STRUCT"), strings.HasPrefix(t, "MAP"), strings.HasPrefix(t, "LIST"):
			out[i] = true
		}
	}
	return out
}

// writeTable prints cells (the first row is the header) in aligned columns two spaces apart. With a width, the
// widest text column is narrowed one character at a time until the table fits or every text column is at its
// floor (minTextWidth, or its header); cut cells end in "…".
func writeTable(w io.Writer, cells [][]string, shrinkable []bool, width int) error {
	cols := len(cells[0])
	widths := make([]int, cols)
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	if width > 0 {
		floor := make([]int, cols)
		for i, h := range cells[0] {
			floor[i] = max(min(widths[i], minTextWidth), utf8.RuneCountInString(h))
		}
		total := 2 * (cols - 1)
		for _, wd := range widths {
			total += wd
		}
		for total > width {
			widest := -1
			for i := range widths {
				if shrinkable[i] && widths[i] > floor[i] && (widest < 0 || widths[i] > widths[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
			total--
		}
	}
	var b strings.Builder
	for _, row := range cells {
		b.Reset()
		for i, c := range row {
			c = cut(c, widths[i])
			b.WriteString(c)
			if i < cols-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// cut shortens s to n characters, the last one "…", when it is longer.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// jsonArray writes rows as a JSON array of objects, keys in column order (encoding/json sorts a map's keys).
type jsonArray struct {
	w    io.Writer
	keys [][]byte
	n    int
}

func newJSONArray(w io.Writer, cols []string) *jsonArray {
	a := &jsonArray{w: w}
	for _, c := range cols {
		k, _ := json.Marshal(c) // a string always marshals
		a.keys = append(a.keys, k)
	}
	return a
}

func (a *jsonArray) write(row []any) error {
	var b bytes.Buffer
	if a.n == 0 {
		b.WriteString("[\n  {")
	} else {
		b.WriteString(",\n  {")
	}
	a.n++
	for i, v := range row {
		if i > 0 {
			b.WriteByte(',')
		}
		val, err := json.MarshalIndent(v, "    ", "  ")
		if err != nil {
			return fmt.Errorf("column %s: %w", a.keys[i], err)
		}
		b.WriteString("\n    ")
		b.Write(a.keys[i])
		b.WriteString(": ")
		b.Write(val)
	}
	b.WriteString("\n  }")
	_, err := a.w.Write(b.Bytes())
	return err
}

func (a *jsonArray) close() error {
	s := "\n]\n"
	if a.n == 0 {
		s = "[]\n"
	}
	_, err := io.WriteString(a.w, s)
	return err
}
