package queries

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockedViewsRefuseWritesAndOtherFiles performs each attack on a locked DB: statements that write or reach
// outside the root, a script that hides one behind a SELECT, and a SELECT that reads another file.
func TestLockedViewsRefuseWritesAndOtherFiles(t *testing.T) {
	root := t.TempDir()
	produce(t, root, nil, nil, `{"prompt":"Say hello."}`)
	outside := filepath.Join(t.TempDir(), "secret.csv")
	if err := os.WriteFile(outside, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := open(t, root)
	ctx := context.Background()
	if err := db.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	inRoot := filepath.Join(root, "traces", "planted.csv")
	for _, c := range []struct{ name, sql string }{
		{"COPY TO a file outside the root", "COPY (SELECT * FROM runs) TO '" + filepath.Join(t.TempDir(), "out.csv") + "'"},
		{"COPY TO a file inside the root", "COPY (SELECT 1) TO '" + inRoot + "'"},
		{"ATTACH a database file", "ATTACH '" + filepath.Join(t.TempDir(), "x.db") + "' AS x"},
		{"ATTACH an in-memory database", "ATTACH ':memory:' AS scratch"},
		{"CREATE TABLE", "CREATE TABLE t AS SELECT * FROM runs"},
		{"DROP a view", "DROP VIEW runs"},
		{"INSTALL an extension", "INSTALL httpfs"},
		{"SET a setting", "SET enable_external_access = true"},
		{"a COPY behind a SELECT", "SELECT 1; COPY (SELECT 1) TO '" + inRoot + "'"},
		{"a COPY before a SELECT", "COPY (SELECT 1) TO '" + inRoot + "'; SELECT 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := db.CheckReadOnly(ctx, c.sql); !errors.Is(err, ErrNotReadOnly) && !refusedBySettings(err) {
				t.Fatalf("CheckReadOnly(%q) = %v, want ErrNotReadOnly or DuckDB's refusal", c.sql, err)
			}
			if _, err := os.Stat(inRoot); err == nil {
				t.Fatal("a file was written into the root")
			}
		})
	}
	// What passes the statement check is still held to the root by DuckDB's settings.
	for _, sql := range []string{
		"SELECT * FROM read_csv('" + outside + "')",
		"SELECT * FROM read_text('" + root + "/../" + filepath.Base(filepath.Dir(outside)) + "/secret.csv')",
		"SELECT current_setting('enable_external_access') AND (SELECT count(*) FROM glob('/etc/*')) > 0",
	} {
		if err := db.CheckReadOnly(ctx, sql); err == nil {
			if r, err := db.QueryContext(ctx, sql); err == nil {
				r.Close()
				t.Errorf("%s ran on a locked DB", sql)
			}
		} else if !refusedBySettings(err) {
			t.Errorf("%s: %v", sql, err)
		}
	}
	if _, err := db.ExecContext(ctx, "SET enable_external_access = true"); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("the configuration can be changed after Lock: %v", err)
	}
	if got := rows(t, db, "SELECT count(*) AS n FROM runs")[0]["n"]; got != int64(1) {
		t.Fatalf("a locked DB reads %v runs, want 1", got)
	}
	if err := db.CheckReadOnly(ctx, "SELECT * FROM runs"); err != nil {
		t.Fatalf("a SELECT is refused: %v", err)
	}
}

// refusedBySettings reports whether err is DuckDB refusing a file under enable_external_access = false.
func refusedBySettings(err error) bool {
	return err != nil && strings.Contains(err.Error(), "disabled by configuration")
}
