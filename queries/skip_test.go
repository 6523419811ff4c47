package queries

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
)

// recordFiles lists the record objects of a local root, in key order.
func recordFiles(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "traces", "year=*", "month=*", "day=*", "hour=*", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("record objects of %s: %v %v", root, files, err)
	}
	sort.Strings(files)
	return files
}

func TestTheViewsReadAroundObjectsThatCannotBeRead(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, files []string) []string // returns the keys left out
	}{
		// Cut short rather than one byte changed: a changed byte inside a deflate block can still inflate (into other
		// JSON text, which then may parse), so it made the test fail now and then; a cut GZIP stream never inflates.
		{"the first object cut short (the one DuckDB samples)", func(t *testing.T, files []string) []string {
			b, _ := os.ReadFile(files[0])
			os.WriteFile(files[0], b[:len(b)/2], 0o644)
			return []string{files[0]}
		}},
		{"a stray text file beside the records", func(t *testing.T, files []string) []string {
			stray := filepath.Join(filepath.Dir(files[0]), "zz-notes.txt")
			os.WriteFile(stray, []byte("notes\n"), 0o644)
			return []string{stray}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			ids := produce(t, root, nil, nil, `{"prompt":"What is 17 * 23?"}`, `{"prompt":"Say hello."}`, `{"prompt":"What time is it in Tokyo?"}`)
			skippedFiles := c.damage(t, recordFiles(t, root))
			db := open(t, root)
			got := rows(t, db, "SELECT count(*) AS n FROM runs")[0]["n"]
			want := int64(len(ids))
			for _, f := range skippedFiles {
				if filepath.Ext(f) == ".gz" {
					want--
				}
			}
			if got != want {
				t.Fatalf("%v runs read, want %d", got, want)
			}
			var keys []string
			for _, s := range db.Skipped() {
				if s.Reason == "" {
					t.Errorf("%s skipped without a reason", s.Key)
				}
				keys = append(keys, filepath.Join(root, filepath.FromSlash(s.Key)))
			}
			if !slices.Equal(keys, skippedFiles) {
				t.Fatalf("skipped %v, want %v", keys, skippedFiles)
			}
		})
	}
}

func TestARootWithNothingReadableIsAnError(t *testing.T) {
	root := t.TempDir()
	produce(t, root, nil, nil, `{"prompt":"Say hello."}`)
	for _, f := range recordFiles(t, root) {
		os.WriteFile(f, []byte("not gzip\n"), 0o644)
	}
	db, err := Open(context.Background(), root)
	if err == nil {
		_, err = db.QueryContext(context.Background(), "SELECT * FROM runs")
		db.Close()
	}
	if !errors.Is(err, ErrNothingReadable) {
		t.Fatalf("err = %v, want ErrNothingReadable", err)
	}
}
