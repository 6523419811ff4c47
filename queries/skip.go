package queries

import (
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"golang.org/x/sync/errgroup"

	"github.com/agent-audit/agent-audit/trail/verify"
)

// ErrNothingReadable is returned when every record object of a root is unreadable.
var ErrNothingReadable = errors.New("no record object of the audit root can be read")

// Skipped is a record object the views leave out because it cannot be read, with why (the words of
// verify.Unreadable; `audit verify` reports the same object).
type Skipped struct {
	// Key is the object's key below the root (traces/year=…/…).
	Key string `json:"key"`
	// Reason says what is wrong with it.
	Reason string `json:"reason"`
}

// recordObjects matches the keys the views read: the Hive layout's hour partitions, one level of objects.
const recordObjects = "traces/year=*/month=*/day=*/hour=*/*"

// readError reports whether err is DuckDB failing to read an object (a GZIP or JSON fault), as opposed to a
// mistake in the SQL; only then is it worth checking the objects.
func readError(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && (de.Type == duckdb.ErrorTypeInvalidInput || de.Type == duckdb.ErrorTypeIO)
}

// skipUnreadable checks every current record object with verify.Unreadable and, when some cannot be read,
// points the views at the others (the audit_objects variable). It reports whether it left anything out. It
// checks once per DB: the trail's objects are written once, and a second failure is not theirs.
//
// Checking runs only after DuckDB failed to read, so a readable trail pays nothing for it; DuckDB's own
// ignore_errors is not used because it drops malformed lines silently and does not cover GZIP faults.
func (d *DB) skipUnreadable(ctx context.Context) (bool, error) {
	if d.checked || d.store == nil {
		return false, nil
	}
	d.checked = true
	listed, err := d.store.Versions(ctx, verify.RecordPrefix, "")
	if err != nil {
		return false, fmt.Errorf("list the record objects of %s: %w", d.root, err)
	}
	var keys []string
	for _, o := range listed {
		if ok, _ := path.Match(recordObjects, o.Key); ok && o.IsLatest && !o.DeleteMarker {
			keys = append(keys, o.Key)
		}
	}
	reasons := make([]string, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, key := range keys {
		g.Go(func() error {
			raw, err := d.store.Get(gctx, key, "")
			if err != nil {
				return fmt.Errorf("read %s: %w", key, err)
			}
			reasons[i], err = verify.Unreadable(gctx, raw)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return false, fmt.Errorf("check the record objects of %s: %w", d.root, err)
	}
	var readable []string
	for i, key := range keys {
		if reasons[i] != "" {
			d.skipped = append(d.skipped, Skipped{Key: key, Reason: reasons[i]})
		} else {
			readable = append(readable, quote(d.root+"/"+key))
		}
	}
	if len(d.skipped) == 0 {
		return false, nil
	}
	if len(readable) == 0 {
		return false, fmt.Errorf("%w (%d unreadable)", ErrNothingReadable, len(d.skipped))
	}
	if _, err := d.db.ExecContext(ctx, "SET VARIABLE audit_objects = ["+strings.Join(readable, ", ")+"]"); err != nil {
		return false, fmt.Errorf("leave out the unreadable objects: %w", err)
	}
	return true, nil
}

// Skipped returns the record objects left out so far, in key order.
func (d *DB) Skipped() []Skipped { return slices.Clone(d.skipped) }
