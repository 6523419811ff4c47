// Package queries holds the SQL of the query layer (DuckDB views, example questions, Athena DDL) and opens a
// DuckDB database with the views defined over an audit root. The SQL files are the source of truth; the CLI
// embeds them, and operators can .read them in the duckdb shell.
package queries

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// TracesSQL defines the spans, traces, runs and tool_calls views over getvariable('audit_root').
//
//go:embed traces.sql
var TracesSQL string

// OversizeSQL defines the oversize view over a root holding oversize objects; OversizeNoneSQL defines it empty.
//
//go:embed oversize.sql
var OversizeSQL string

// OversizeNoneSQL defines the oversize view with no rows, for a root without oversize objects.
//
//go:embed oversize_none.sql
var OversizeNoneSQL string

// S3SQL sets up httpfs and a credential-chain secret for s3:// roots.
//
//go:embed s3.sql
var S3SQL string

// ErrNoRecords is returned when a local root holds no traces/ directory yet.
var ErrNoRecords = errors.New("no audit records")

// Open returns an in-memory DuckDB with the views defined over root: a local directory holding traces/, or
// s3://bucket. For S3 it loads httpfs and aws (installing them on first use) and takes credentials from the
// default chain; if that fails, the error says what to do.
func Open(ctx context.Context, root string) (*sql.DB, error) {
	root = strings.TrimRight(root, "/")
	if !strings.HasPrefix(root, "s3://") {
		if _, err := os.Stat(filepath.Join(root, "traces")); err != nil {
			return nil, fmt.Errorf("%w under %s (run `audit run` or `audit demo` first): %v", ErrNoRecords, root, err)
		}
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open DuckDB: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1) // one connection: the session variable and the views live in it
	if strings.HasPrefix(root, "s3://") {
		if _, err := db.ExecContext(ctx, S3SQL); err != nil {
			db.Close()
			return nil, fmt.Errorf("set up S3 access for %s: %w (DuckDB downloads its httpfs and aws extensions on first use: "+
				"this needs internet access once, or install them offline with INSTALL httpfs FROM '<path>')", root, err)
		}
	}
	if _, err := db.ExecContext(ctx, "SET VARIABLE audit_root = "+quote(root)); err != nil {
		db.Close()
		return nil, fmt.Errorf("set audit_root: %w", err)
	}
	oversize, err := oversizeSQL(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.ExecContext(ctx, oversize); err != nil {
		db.Close()
		return nil, fmt.Errorf("define the oversize view: %w", err)
	}
	if _, err := db.ExecContext(ctx, TracesSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("define the views: %w", err)
	}
	return db, nil
}

// oversizeSQL picks the oversize view's definition: DuckDB cannot read a glob that matches nothing, so a root
// without oversize objects gets the empty one.
func oversizeSQL(ctx context.Context, db *sql.DB) (string, error) {
	var n int
	err := db.QueryRowContext(ctx,
		"SELECT count(*) FROM glob(getvariable('audit_root') || '/oversize/year=*/month=*/day=*/hour=*/*/*.json.gz')").Scan(&n)
	if err != nil {
		return "", fmt.Errorf("look for oversize objects: %w", err)
	}
	if n == 0 {
		return OversizeNoneSQL, nil
	}
	return OversizeSQL, nil
}

// quote renders s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// QuestionsSQL holds the operator questions of queries.sql.
//
//go:embed queries.sql
var QuestionsSQL string

// Questions splits QuestionsSQL into its statements, each with the comment lines that describe it.
func Questions() []string {
	var out []string
	for _, part := range strings.Split(QuestionsSQL, "\n;\n") {
		if strings.Contains(part, "SELECT") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out
}
