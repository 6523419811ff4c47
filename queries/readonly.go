package queries

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// Views are the views Open defines, for messages that name them.
var Views = []string{"spans", "traces", "runs", "tool_calls", "oversize"}

// ErrNotReadOnly is returned by CheckReadOnly for a statement that is not one SELECT.
var ErrNotReadOnly = errors.New("the views are read-only: give one SELECT statement")

// Lock makes the session read-only from now on, with DuckDB's own settings: files and URLs are reachable only
// under the root (allowed_directories with enable_external_access = false, so no COPY … TO, ATTACH, INSTALL or
// read of another path), and lock_configuration stops any later statement from changing that. The views, their
// variables and Skipped's re-pointing keep working. Call it after Open; it cannot be undone for this DB.
func (d *DB) Lock(ctx context.Context) error {
	dir := d.root + "/"
	for _, stmt := range []string{
		"SET allowed_directories = [" + quote(dir) + "]",
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	} {
		if _, err := d.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("make the views read-only (%s): %w", stmt, err)
		}
	}
	return nil
}

// CheckReadOnly returns an error wrapping ErrNotReadOnly unless query is a single statement that DuckDB's own
// parser classifies as a SELECT; a statement DuckDB cannot parse or bind returns DuckDB's error. Nothing is
// run: the statement is prepared alone (duckdb-go's Prepare, unlike PrepareContext, runs no earlier statement
// of a script), which binds it to the views.
func (d *DB) CheckReadOnly(ctx context.Context, query string) error {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("check the statement: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("check the statement: not a DuckDB connection (%T)", dc)
		}
		s, err := c.Prepare(query)
		if err != nil {
			// duckdb-go says so only in its message: Prepare refuses a script of several statements (or none).
			if strings.Contains(err.Error(), "multi-statement") {
				return fmt.Errorf("%w (this is not one statement)", ErrNotReadOnly)
			}
			return err
		}
		defer s.Close()
		stmt, ok := s.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("check the statement: not a DuckDB statement (%T)", s)
		}
		typ, err := stmt.StatementType()
		if err != nil {
			return fmt.Errorf("check the statement: %w", err)
		}
		if typ != duckdb.STATEMENT_TYPE_SELECT {
			return fmt.Errorf("%w (DuckDB reads it as a %s statement)", ErrNotReadOnly, statementName(typ))
		}
		return nil
	})
}

// statementNames name the statement types a refusal is most often about (duckdb-go gives the types no names).
var statementNames = map[duckdb.StmtType]string{
	duckdb.STATEMENT_TYPE_COPY: "COPY", duckdb.STATEMENT_TYPE_ATTACH: "ATTACH", duckdb.STATEMENT_TYPE_DETACH: "DETACH",
	duckdb.STATEMENT_TYPE_INSERT: "INSERT", duckdb.STATEMENT_TYPE_UPDATE: "UPDATE", duckdb.STATEMENT_TYPE_DELETE: "DELETE",
	duckdb.STATEMENT_TYPE_CREATE: "CREATE", duckdb.STATEMENT_TYPE_CREATE_FUNC: "CREATE", duckdb.STATEMENT_TYPE_DROP: "DROP",
	duckdb.STATEMENT_TYPE_ALTER: "ALTER", duckdb.STATEMENT_TYPE_SET: "SET", duckdb.STATEMENT_TYPE_VARIABLE_SET: "SET",
	duckdb.STATEMENT_TYPE_PRAGMA: "PRAGMA", duckdb.STATEMENT_TYPE_LOAD: "LOAD", duckdb.STATEMENT_TYPE_EXPORT: "EXPORT",
	duckdb.STATEMENT_TYPE_EXPLAIN: "EXPLAIN", duckdb.STATEMENT_TYPE_CALL: "CALL",
}

// statementName names a statement type for the refusal.
func statementName(t duckdb.StmtType) string {
	if name, ok := statementNames[t]; ok {
		return name
	}
	return fmt.Sprintf("non-SELECT (type %d)", t)
}
