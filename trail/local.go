package trail

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Local is an audit root in a local directory, in Firehose's layout (what `audit run` writes). Keys are the
// slash-separated paths below the directory. It keeps no versions: each file is one version with VersionID "",
// its modification time as LastModified and its SHA-256 computed on listing. Files and directories whose name
// starts with a dot are not objects (.incoming-* is an object being written, .seal-chain.json the chain state).
// Every access goes through os.Root, so no key (nor a symlink inside the root) reaches outside the directory.
// Safe for concurrent use.
type Local struct {
	dir string
}

var _ Store = (*Local)(nil)

// NewLocal returns the local root at dir. The directory need not exist yet: Put creates it, and the other
// methods return an error wrapping fs.ErrNotExist until it does.
func NewLocal(dir string) *Local { return &Local{dir: dir} }

// Root returns the directory as given.
func (l *Local) Root() string { return l.dir }

// open opens the root directory; an absent one is an error wrapping fs.ErrNotExist.
func (l *Local) open() (*os.Root, error) {
	r, err := os.OpenRoot(l.dir)
	if err != nil {
		return nil, fmt.Errorf("open audit root %s: %w", l.dir, err)
	}
	return r, nil
}

// Versions walks the directory holding prefix and returns the files under prefix that sort after startAfter,
// in key order, with their SHA-256. A root that does not exist is an error wrapping fs.ErrNotExist; a prefix
// with nothing under it is no objects.
func (l *Local) Versions(ctx context.Context, prefix, startAfter string) ([]Object, error) {
	r, err := l.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// Walk from the deepest directory the prefix names completely ("traces/year=2026/mo" walks traces/).
	base := "."
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		base = path.Clean(prefix[:i])
	}
	if !fs.ValidPath(base) {
		return nil, fmt.Errorf("list %s under %s: %w", prefix, l.dir, fs.ErrInvalid)
	}
	fsys := r.FS()
	var out []Object
	err = fs.WalkDir(fsys, base, func(key string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && key == base {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && key != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) || key <= startAfter {
			return nil
		}
		o, err := describe(r, key)
		if err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s under %s: %w", prefix, l.dir, err)
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// describe stats and hashes one file.
func describe(r *os.Root, key string) (Object, error) {
	f, err := r.Open(filepath.FromSlash(key))
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Object{}, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return Object{}, fmt.Errorf("hash %s: %w", key, err)
	}
	return Object{Key: key, Size: st.Size(), SHA256: hex.EncodeToString(h.Sum(nil)), LastModified: st.ModTime().UTC(), IsLatest: true}, nil
}

// Get reads the file at key. A local root keeps no versions, so any versionID but "" does not exist.
func (l *Local) Get(_ context.Context, key, versionID string) ([]byte, error) {
	if versionID != "" {
		return nil, fmt.Errorf("get %s version %s from %s: a local root keeps no versions: %w", key, versionID, l.dir, fs.ErrNotExist)
	}
	if !fs.ValidPath(key) || key == "." {
		return nil, fmt.Errorf("get %q from %s: not a key: %w", key, l.dir, fs.ErrInvalid)
	}
	r, err := l.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := r.ReadFile(filepath.FromSlash(key))
	if err != nil {
		return nil, fmt.Errorf("get %s from %s: %w", key, l.dir, err)
	}
	return b, nil
}

// Put writes body to key atomically: into a dot-file beside it (which listings skip), synced, then renamed
// over key, so a reader sees the whole object or none. It creates the root and the key's directories.
func (l *Local) Put(_ context.Context, key string, body []byte) (Object, error) {
	if !fs.ValidPath(key) || key == "." || strings.HasPrefix(path.Base(key), ".") {
		return Object{}, fmt.Errorf("put %q into %s: not a key: %w", key, l.dir, fs.ErrInvalid)
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return Object{}, fmt.Errorf("put %s: create audit root: %w", key, err)
	}
	r, err := l.open()
	if err != nil {
		return Object{}, err
	}
	defer r.Close()
	name := filepath.FromSlash(key)
	if err := r.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return Object{}, fmt.Errorf("put %s into %s: %w", key, l.dir, err)
	}
	tmp := filepath.Join(filepath.Dir(name), ".incoming-"+rand.Text())
	if err := writeSynced(r, tmp, body); err != nil {
		r.Remove(tmp)
		return Object{}, fmt.Errorf("put %s into %s: %w", key, l.dir, err)
	}
	if err := r.Rename(tmp, name); err != nil {
		r.Remove(tmp)
		return Object{}, fmt.Errorf("put %s into %s: %w", key, l.dir, err)
	}
	st, err := r.Stat(name)
	if err != nil {
		return Object{}, fmt.Errorf("put %s into %s: %w", key, l.dir, err)
	}
	sum := sha256.Sum256(body)
	return Object{Key: key, Size: st.Size(), SHA256: hex.EncodeToString(sum[:]), LastModified: st.ModTime().UTC(), IsLatest: true}, nil
}

// writeSynced creates name exclusively, writes body and syncs it to disk.
func writeSynced(r *os.Root, name string, body []byte) error {
	f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
