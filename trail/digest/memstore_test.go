package digest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/trail"
)

// memStore is an in-memory trail.Store for the package's unit tests: versioned like an S3 bucket with versioning
// (version ids, delete markers, ETags), or plain like a local root (no version ids, one version per key, SHA-256
// computed). LastModified comes from a clock the test sets.
type memStore struct {
	versioned bool
	mu        sync.Mutex
	now       time.Time
	seq       int
	objects   map[string][]memVersion // newest first
}

type memVersion struct {
	trail.Object
	data []byte
}

var _ trail.Store = (*memStore)(nil)

func newMemStore(versioned bool, now time.Time) *memStore {
	return &memStore{versioned: versioned, now: now, objects: map[string][]memVersion{}}
}

func (s *memStore) Root() string {
	if s.versioned {
		return "s3://mem"
	}
	return "/mem"
}

func (s *memStore) setNow(t time.Time) { s.mu.Lock(); s.now = t; s.mu.Unlock() }

func (s *memStore) Versions(_ context.Context, prefix, startAfter string) ([]trail.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []trail.Object
	for _, k := range keys {
		for _, v := range s.objects[k] {
			out = append(out, v.Object)
		}
	}
	return out, nil
}

func (s *memStore) Get(_ context.Context, key, versionID string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.objects[key] {
		if (versionID == "" && v.IsLatest || versionID != "" && v.VersionID == versionID) && !v.DeleteMarker {
			return slices.Clone(v.data), nil
		}
	}
	return nil, fmt.Errorf("get %s %q: %w", key, versionID, fs.ErrNotExist)
}

func (s *memStore) Put(_ context.Context, key string, body []byte) (trail.Object, error) {
	return s.putAt(key, body, time.Time{}), nil
}

// putAt stores body at key with LastModified t (the clock's time when t is zero).
func (s *memStore) putAt(key string, body []byte, t time.Time) trail.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.IsZero() {
		t = s.now
	}
	o := trail.Object{Key: key, Size: int64(len(body)), LastModified: t.UTC(), IsLatest: true}
	sum := sha256.Sum256(body)
	if s.versioned {
		s.seq++
		o.VersionID = fmt.Sprintf("v%04d", s.seq)
		m := md5.Sum(body)
		o.ETag = hex.EncodeToString(m[:])
		for i := range s.objects[key] {
			s.objects[key][i].IsLatest = false
		}
		s.objects[key] = append([]memVersion{{o, slices.Clone(body)}}, s.objects[key]...)
	} else {
		o.SHA256 = hex.EncodeToString(sum[:])
		s.objects[key] = []memVersion{{o, slices.Clone(body)}}
	}
	return o
}

// remove deletes one version for good (a local file's removal, or S3's DeleteObject with a version id and the
// governance bypass): no delete marker is left.
func (s *memStore) remove(t *testing.T, key, versionID string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.objects[key]
	i := slices.IndexFunc(vs, func(v memVersion) bool { return v.VersionID == versionID && !v.DeleteMarker })
	if i < 0 {
		t.Fatalf("memstore: no version %q of %s", versionID, key)
	}
	vs = slices.Delete(vs, i, i+1)
	if len(vs) == 0 {
		delete(s.objects, key)
		return
	}
	vs[0].IsLatest = true
	s.objects[key] = vs
}

// hide puts a delete marker on key (S3's DeleteObject without a version id).
func (s *memStore) hide(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	for i := range s.objects[key] {
		s.objects[key][i].IsLatest = false
	}
	m := memVersion{Object: trail.Object{Key: key, VersionID: fmt.Sprintf("v%04d", s.seq), LastModified: s.now, DeleteMarker: true, IsLatest: true}}
	s.objects[key] = append([]memVersion{m}, s.objects[key]...)
}

// latest returns the current version of key.
func (s *memStore) latest(t *testing.T, key string) trail.Object {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if vs := s.objects[key]; len(vs) > 0 {
		return vs[0].Object
	}
	t.Fatalf("memstore: no %s", key)
	return trail.Object{}
}
