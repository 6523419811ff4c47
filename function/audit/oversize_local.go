package audit

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
)

// LocalOversizeStore keeps oversize content in a local audit root, beside the objects of a LocalDirSink, at
// <root>/<key>. Objects appear atomically.
type LocalOversizeStore struct {
	root string
}

var _ OversizeStore = (*LocalOversizeStore)(nil)

// NewLocalOversizeStore returns a store under root.
func NewLocalOversizeStore(root string) *LocalOversizeStore { return &LocalOversizeStore{root: root} }

// URI implements OversizeStore: a file URI of the object's absolute path.
func (s *LocalOversizeStore) URI(key string) string {
	path := filepath.Join(s.root, filepath.FromSlash(key))
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// Put implements OversizeStore.
func (s *LocalOversizeStore) Put(_ context.Context, key string, object []byte) error {
	path := filepath.Join(s.root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("local oversize store: %w", err)
	}
	if err := writeAtomic(path, object); err != nil {
		return fmt.Errorf("local oversize store: %w", err)
	}
	return nil
}
