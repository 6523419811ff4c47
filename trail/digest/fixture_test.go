package digest

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// t0 is the fixtures' start: a period boundary.
var t0 = time.Date(2026, 11, 1, 20, 0, 0, 0, time.UTC)

// fixture is a trail written period by period, with its writer and the keys that verify it.
type fixture struct {
	store  *memStore
	writer *Writer
	signer seal.Signer
	key    *ecdsa.PrivateKey
	keys   map[string]*ecdsa.PublicKey
}

func newFixture(t *testing.T, versioned bool) *fixture {
	t.Helper()
	k, signer, fp := testKey(t)
	store := newMemStore(versioned, t0)
	return &fixture{store: store, signer: signer, key: k, keys: map[string]*ecdsa.PublicKey{fp: &k.PublicKey},
		writer: NewWriter(store, signer, &k.PublicKey, WithLogger(quiet()))}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// object stores a record object written at t under t's hour partition.
func (f *fixture) object(name string, t time.Time) trail.Object {
	return f.store.putAt(fmt.Sprintf("traces/%s/%s.gz", hourDir(t), name), []byte("records of "+name), t)
}

// write runs the writer at now.
func (f *fixture) write(t *testing.T, now time.Time) []string {
	t.Helper()
	f.store.setNow(now)
	keys, err := f.writer.Write(context.Background(), now)
	if err != nil {
		t.Fatalf("write at %s: %v", now.Format(time.RFC3339), err)
	}
	return keys
}

// read parses the current digest at key.
func (f *fixture) read(t *testing.T, key string) *Digest {
	t.Helper()
	data, err := f.store.Get(context.Background(), key, "")
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// check runs Check over the whole chain at now.
func (f *fixture) check(t *testing.T, now time.Time, opts CheckOptions) (Summary, []trail.Finding) {
	t.Helper()
	opts.Now = now
	sum, findings, err := Check(context.Background(), f.store, f.keys, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sum, findings
}

// sixPeriods writes the standard trail: an object from two days before, then six periods of 5 minutes from t0,
// each with two record objects (one of seal chain "a", one of chain "b") and, in the third, an oversize object;
// the writer runs a minute after each period ends. It returns the digest keys in order.
func (f *fixture) sixPeriods(t *testing.T) []string {
	t.Helper()
	f.object("before-the-chain", t0.Add(-48*time.Hour))
	var keys []string
	for i := 0; i < 6; i++ {
		start := t0.Add(time.Duration(i) * 5 * time.Minute)
		f.object(fmt.Sprintf("a-%d", i), start.Add(time.Minute))
		f.object(fmt.Sprintf("b-%d", i), start.Add(2*time.Minute))
		if i == 2 {
			f.store.putAt(fmt.Sprintf("oversize/%s/trace/span-x.json.gz", hourDir(start)), []byte("big"), start.Add(3*time.Minute))
		}
		keys = append(keys, f.write(t, start.Add(6*time.Minute))...)
	}
	if len(keys) != 6 {
		t.Fatalf("wrote %d digests, want 6: %v", len(keys), keys)
	}
	return keys
}

// requireFindings fails unless findings are exactly want (kind and key, in order).
func requireFindings(t *testing.T, findings []trail.Finding, want ...trail.Finding) {
	t.Helper()
	ok := len(findings) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = findings[i].Kind == want[i].Kind && findings[i].Key == want[i].Key && (want[i].VersionID == "" || findings[i].VersionID == want[i].VersionID)
	}
	if !ok {
		t.Fatalf("findings:\n%s\nwant (kind, key):\n%s", show(findings), show(want))
	}
}

func show(fs []trail.Finding) string {
	s := ""
	for _, f := range fs {
		s += fmt.Sprintf("  %s %s %s: %s\n", f.Kind, f.Key, f.VersionID, f.Detail)
	}
	return s
}
