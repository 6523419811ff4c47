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

	"github.com/agent-audit/agent-audit/trail"
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

// DB is the views over one audit root in an in-memory DuckDB with a single connection (the session variables
// and the views live in it). Not safe for concurrent use.
type DB struct {
	db      *sql.DB
	root    string
	store   trail.Store
	checked bool
	skipped []Skipped
}

// Option configures Open.
type Option func(*DB)

// WithStore gives the root as a trail.Store, through which Open and QueryContext list and check the record
// objects when DuckDB cannot read one (see QueryContext). A local root defaults to trail.NewLocal(root); an
// s3:// root without a store fails on an unreadable object as DuckDB does.
func WithStore(s trail.Store) Option { return func(d *DB) { d.store = s } }

// Open returns the views over root: a local directory holding traces/, or s3://bucket. For S3 it loads httpfs
// and aws (installing them on first use) and takes credentials from the default chain; if that fails, the error
// says what to do. When an object cannot be read (see QueryContext), Open leaves it out; when none can, it
// returns an error wrapping ErrNothingReadable.
func Open(ctx context.Context, root string, opts ...Option) (*DB, error) {
	root = strings.TrimRight(root, "/")
	s3Root := strings.HasPrefix(root, "s3://")
	if !s3Root {
		if _, err := os.Stat(root); err != nil {
			return nil, fmt.Errorf("the audit root %s does not exist or cannot be read: %w", root, err)
		}
		if _, err := os.Stat(filepath.Join(root, "traces")); err != nil {
			return nil, fmt.Errorf("%w under %s (run `audit run` or `audit demo` first): %v", ErrNoRecords, root, err)
		}
	}
	d := &DB{root: root}
	if !s3Root {
		d.store = trail.NewLocal(root)
	}
	for _, o := range opts {
		o(d)
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("open DuckDB: %w", err)
	}
	d.db = sql.OpenDB(connector)
	d.db.SetMaxOpenConns(1) // one connection: the session variable and the views live in it
	if err := d.define(ctx); err != nil {
		d.db.Close()
		return nil, err
	}
	return d, nil
}

// define sets the session up and defines the views.
func (d *DB) define(ctx context.Context) error {
	if strings.HasPrefix(d.root, "s3://") {
		if _, err := d.db.ExecContext(ctx, S3SQL); err != nil {
			// DuckDB's message runs to several lines, the second of which ("Extension … is an existing extension")
			// misleads; its first line says what failed.
			first, _, _ := strings.Cut(err.Error(), "\n")
			return fmt.Errorf("set up S3 access for %s: %s (DuckDB downloads its httpfs and aws extensions on first use: "+
				"this needs internet access once, or install them offline with INSTALL httpfs FROM '<path>')", d.root, first)
		}
	}
	if _, err := d.db.ExecContext(ctx, "SET VARIABLE audit_root = "+quote(d.root)); err != nil {
		return fmt.Errorf("set audit_root: %w", err)
	}
	oversize, err := oversizeSQL(ctx, d.db)
	if err != nil {
		return err
	}
	if _, err := d.db.ExecContext(ctx, oversize); err != nil {
		return fmt.Errorf("define the oversize view: %w", err)
	}
	// Defining the views reads one object for its schema, so an unreadable one can already fail here.
	_, err = d.db.ExecContext(ctx, TracesSQL)
	if err != nil && readError(err) {
		skipped, serr := d.skipUnreadable(ctx)
		if serr != nil {
			return serr
		}
		if skipped {
			_, err = d.db.ExecContext(ctx, TracesSQL)
		}
	}
	if err != nil {
		return fmt.Errorf("define the views: %w", err)
	}
	return nil
}

// QueryContext runs a query over the views. When DuckDB fails to read an object, every record object is checked
// with verify.Unreadable (once per DB), those that cannot be read are left out (Skipped lists them) and the
// query runs again; a readable trail pays nothing for this.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err == nil || !readError(err) {
		return rows, err
	}
	skipped, serr := d.skipUnreadable(ctx)
	if serr != nil {
		return nil, fmt.Errorf("%w (after: %v)", serr, err)
	}
	if !skipped {
		return nil, err
	}
	return d.db.QueryContext(ctx, query, args...)
}

// ExecContext runs a statement in the views' session.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.db.ExecContext(ctx, query, args...)
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

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

// Question is one named statement of queries.sql.
type Question struct {
	// Name is its "-- name:" line's value (tokens-per-day).
	Name string
	// Doc is its other comment lines, without the "-- ".
	Doc string
	// SQL is the statement, comments included, as the file holds it.
	SQL string
}

// Questions splits QuestionsSQL into its named statements, in file order.
func Questions() []Question {
	var out []Question
	for _, part := range strings.Split(QuestionsSQL, "\n;\n") {
		i := strings.Index(part, "-- name: ")
		if i < 0 {
			continue
		}
		part = strings.TrimSpace(part[i:])
		name, _, _ := strings.Cut(strings.TrimPrefix(part, "-- name: "), "\n")
		q := Question{Name: strings.TrimSpace(name), SQL: part}
		var doc []string
		for _, l := range strings.Split(part, "\n")[1:] {
			if !strings.HasPrefix(l, "--") {
				break
			}
			doc = append(doc, strings.TrimSpace(strings.TrimPrefix(l, "--")))
		}
		q.Doc = strings.Join(doc, " ")
		out = append(out, q)
	}
	return out
}

// QuestionNamed returns the question called name.
func QuestionNamed(name string) (Question, bool) {
	for _, q := range Questions() {
		if q.Name == name {
			return q, true
		}
	}
	return Question{}, false
}
