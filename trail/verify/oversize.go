package verify

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/agent-audit/agent-audit/trail"
)

// oversizeTask is one reference to check, and where it was made.
type oversizeTask struct {
	ref     oversizeRef
	at      loc
	chain   string
	seq     int64
	traceID string
}

// oversizeChecker reads referenced oversize objects as the merger hands them over, a few at a time; the
// merger blocks when they fall behind, so references are never all held.
type oversizeChecker struct {
	store trail.Store
	tasks chan oversizeTask
	wg    sync.WaitGroup

	mu       sync.Mutex
	count    Count
	findings []trail.Finding
	err      error
}

func newOversizeChecker(ctx context.Context, store trail.Store, workers int) *oversizeChecker {
	oc := &oversizeChecker{store: store, tasks: make(chan oversizeTask, workers)}
	for range workers {
		oc.wg.Go(func() {
			for t := range oc.tasks {
				oc.check(ctx, t)
			}
		})
	}
	return oc
}

// submit queues t; it blocks while the workers are busy, and gives up when ctx ends.
func (oc *oversizeChecker) submit(ctx context.Context, t oversizeTask) {
	select {
	case oc.tasks <- t:
	case <-ctx.Done():
	}
}

// close waits for the checks queued and returns what they found, or the first store error.
func (oc *oversizeChecker) close() (Count, []trail.Finding, error) {
	close(oc.tasks)
	oc.wg.Wait()
	return oc.count, oc.findings, oc.err
}

func (oc *oversizeChecker) check(ctx context.Context, t oversizeTask) {
	if ctx.Err() != nil {
		return
	}
	problem, err := oc.compare(ctx, t.ref)
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if err != nil {
		if oc.err == nil {
			oc.err = err
		}
		return
	}
	oc.count.Checked++
	if problem == nil {
		oc.count.Valid++
		return
	}
	oc.count.Invalid++
	problem.Key, problem.Chain, problem.Seq, problem.TraceID = t.ref.key, t.chain, t.seq, t.traceID
	problem.Detail += fmt.Sprintf(" (referenced by span %s at %s)", t.ref.spanID, t.at)
	oc.findings = append(oc.findings, *problem)
}

// compare reads one oversize object and compares its content with the reference; a store error other than
// "not there" is returned.
func (oc *oversizeChecker) compare(ctx context.Context, ref oversizeRef) (*trail.Finding, error) {
	raw, err := oc.store.Get(ctx, ref.key, "")
	if errors.Is(err, fs.ErrNotExist) {
		return &trail.Finding{Kind: KindOversizeMissing, Severity: trail.Problem, Detail: "the oversize object is not there"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read oversize object %s: %w", ref.key, err)
	}
	mismatch := func(format string, args ...any) (*trail.Finding, error) {
		return &trail.Finding{Kind: KindOversizeMismatch, Severity: trail.Problem, Detail: fmt.Sprintf(format, args...)}, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return mismatch("the oversize object is not GZIP: %v", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, zr)
	if err != nil {
		return mismatch("the oversize object is corrupt GZIP: %v", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != ref.sha256 {
		return mismatch("its content hashes to %s, the span says %s", got, ref.sha256)
	}
	if n != ref.bytes {
		return mismatch("its content is %d bytes, the span says %d", n, ref.bytes)
	}
	return nil, nil
}
