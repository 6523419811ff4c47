package trail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestLocalListsFilesAsObjects(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := NewLocal(dir)
	for _, k := range []string{"traces/year=2026/month=11/day=01/hour=10/b.gz", "traces/year=2026/month=11/day=01/hour=09/a.gz", "oversize/x", "traces/year=2026/month=11/day=01/hour=10/c.gz"} {
		if _, err := l.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	// What Firehose's local sink leaves while writing, and the chain state, are not objects.
	os.WriteFile(filepath.Join(dir, "traces/year=2026/month=11/day=01/hour=10/.incoming-123"), []byte("half"), 0o644)
	os.WriteFile(filepath.Join(dir, ".seal-chain.json"), []byte("{}"), 0o644)
	os.MkdirAll(filepath.Join(dir, "traces/.hidden"), 0o755)
	os.WriteFile(filepath.Join(dir, "traces/.hidden/d.gz"), []byte("d"), 0o644)
	old := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	os.Chtimes(filepath.Join(dir, "traces/year=2026/month=11/day=01/hour=09/a.gz"), old, old)

	got, err := l.Versions(ctx, "traces/", "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range got {
		keys = append(keys, o.Key)
		sum := sha256.Sum256([]byte(o.Key))
		if o.SHA256 != hex.EncodeToString(sum[:]) || o.Size != int64(len(o.Key)) || o.VersionID != "" || !o.IsLatest || o.DeleteMarker {
			t.Errorf("object %+v", o)
		}
	}
	want := []string{"traces/year=2026/month=11/day=01/hour=09/a.gz", "traces/year=2026/month=11/day=01/hour=10/b.gz", "traces/year=2026/month=11/day=01/hour=10/c.gz"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	if !got[0].LastModified.Equal(old) {
		t.Errorf("LastModified %v, want the file's mtime %v", got[0].LastModified, old)
	}

	after, err := l.Versions(ctx, "traces/year=2026/month=11/day=01/hour=1", want[1])
	if err != nil || len(after) != 1 || after[0].Key != want[2] {
		t.Fatalf("after %s: %v %v", want[1], after, err)
	}
	none, err := l.Versions(ctx, "digests/", "")
	if err != nil || len(none) != 0 {
		t.Fatalf("a prefix with nothing under it: %v %v", none, err)
	}
}

func TestLocalGetAndPut(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "root")
	l := NewLocal(dir)
	if _, err := l.Versions(ctx, "traces/", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("listing a root that does not exist: %v, want fs.ErrNotExist", err)
	}
	if _, err := l.Get(ctx, "traces/a.gz", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("get from a root that does not exist: %v", err)
	}
	o, err := l.Put(ctx, "digests/d1.json", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Key != "digests/d1.json" || o.Size != 3 || o.SHA256 == "" || o.LastModified.IsZero() {
		t.Fatalf("put returned %+v", o)
	}
	if _, err := l.Put(ctx, "digests/d1.json", []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, err := l.Get(ctx, "digests/d1.json", ""); err != nil || string(b) != "two" {
		t.Fatalf("get after a second put: %q %v", b, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "digests"))
	if len(entries) != 1 {
		t.Fatalf("put left %d files in digests/ (a temporary file behind?)", len(entries))
	}
	if _, err := l.Get(ctx, "digests/d1.json", "v1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a version of a local object: %v, want fs.ErrNotExist", err)
	}
	if _, err := l.Get(ctx, "digests/nope.json", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing key: %v, want fs.ErrNotExist", err)
	}
}

func TestLocalStaysInsideItsRoot(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	dir := t.TempDir()
	l := NewLocal(dir)
	os.MkdirAll(filepath.Join(dir, "oversize"), 0o755)
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "oversize", "link"))
	for _, key := range []string{"../" + filepath.Base(outside) + "/secret", "/etc/passwd", "oversize/../../x", "oversize/link"} {
		if b, err := l.Get(ctx, key, ""); err == nil {
			t.Errorf("get %q read %q from outside the root", key, b)
		}
	}
	for _, key := range []string{"../escape", "digests/.incoming-x", ""} {
		if _, err := l.Put(ctx, key, []byte("x")); err == nil {
			t.Errorf("put %q succeeded", key)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
		t.Error("put wrote outside the root")
	}
}
