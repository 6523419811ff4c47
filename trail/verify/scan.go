package verify

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	// Not compress/gzip: the same format, inflated about a third faster, and inflating is the largest part of
	// verify's time (docs/performance.md).
	"github.com/klauspost/compress/gzip"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// job is one object version to check.
type job struct {
	obj trail.Object
	// overwrite marks a version written over the key's first: its records are compared with the first's, and
	// its failures folded into the key's overwritten finding.
	overwrite bool
	out       chan objectResult
}

// objectResult is what a worker found in one object version.
type objectResult struct {
	job
	recs []rec
	// unreadable says why the object could not be read to its end ("" when it could); the records before the
	// fault are in recs.
	unreadable string
}

// readBufferBytes is the line reader's buffer; longer lines (a record may be up to Firehose's 1,000 KiB) grow
// a line of their own.
const readBufferBytes = 64 << 10

// recordVerifier checks one record completely (seal.Verifier).
type recordVerifier interface {
	Verify(line []byte) (seal.Record, error)
}

// recordReader also inspects a record: everything Verify checks but the verification of the record's own
// signature (seal.Verifier.Inspect, about a fifth of the cost). It lets Verify check one signature per run of
// linked records: a record whose Hash the next record's Prev names is authenticated by that record's signature,
// the next one's by the one after it, up to the last record of the run, whose own signature is checked.
type recordReader interface {
	recordVerifier
	Inspect(line []byte) (seal.Record, error)
}

var _ recordReader = (*seal.Verifier)(nil)

// scanner checks the records of one object; see scanObject.
type scanner struct {
	v recordVerifier
	// reader is v, when it can inspect records and not every signature is to be checked.
	reader recordReader
}

func newScanner(v recordVerifier, allSignatures bool) scanner {
	s := scanner{v: v}
	if r, ok := v.(recordReader); ok && !allSignatures {
		s.reader = r
	}
	return s
}

// scanObject reads one object version, gunzips it as a stream and checks its records one line at a time.
// With a reader, it checks the signature of the last record of each run of linked records only; if one of
// those fails, it checks the object again, every record's signature. A store error other than "not there" is
// returned: the root cannot be checked.
func (s scanner) scanObject(ctx context.Context, store trail.Store, j job) (objectResult, error) {
	res := objectResult{job: j}
	raw, err := store.Get(ctx, j.obj.Key, j.obj.VersionID)
	if errors.Is(err, fs.ErrNotExist) {
		res.unreadable = "listed, but gone when read: " + err.Error()
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("read %s: %w", j.obj.Key, err)
	}
	if s.reader != nil {
		runs := &runs{open: map[string]*openRun{}}
		err := eachLine(ctx, raw, &res, func(line []byte, n int) {
			res.recs = append(res.recs, s.read(line, n))
			runs.add(res.recs, line, s.reader)
		})
		if err != nil {
			return res, err
		}
		if runs.settle(res.recs, s.reader) {
			return res, nil
		}
		res = objectResult{job: j} // a run's last record failed: check every record on its own
	}
	err = eachLine(ctx, raw, &res, func(line []byte, n int) {
		res.recs = append(res.recs, checkRecord(s.v.Verify, line, n))
		res.recs[len(res.recs)-1].signed = true
	})
	return res, err
}

// read inspects one record; a record that passes is not ok until its run is settled.
func (s scanner) read(line []byte, n int) rec {
	r := checkRecord(s.reader.Inspect, line, n)
	r.readOK, r.ok = r.ok, false
	return r
}

// eachLine calls f with every line of a GZIP object (all its members) and its 1-based number; a fault in the
// GZIP stream is recorded in res.unreadable, after the lines before it.
func eachLine(ctx context.Context, raw []byte, res *objectResult, f func(line []byte, n int)) error {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		res.unreadable = "not GZIP: " + err.Error()
		return nil
	}
	br := bufio.NewReaderSize(zr, readBufferBytes)
	var long []byte
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			f(line, n)
		}
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			res.unreadable = fmt.Sprintf("corrupt GZIP after line %d: %v", n, err)
			return nil
		}
		if n%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// runs are the runs of linked records of one object, per chain: each record read links to the chain's run
// when its seq follows the run's last and its Prev is that record's Hash.
type runs struct {
	open   map[string]*openRun
	closed []*openRun
}

// openRun is a run's last record, by index, with a copy of its line for checking its signature.
type openRun struct {
	last int
	line []byte
}

// add links the record just appended to recs to its chain's run, or starts a run with it.
func (rs *runs) add(recs []rec, line []byte, v recordReader) {
	i := len(recs) - 1
	r := &recs[i]
	if !r.readOK || !r.placeable() {
		return
	}
	if o := rs.open[r.chain]; o != nil {
		if last := &recs[o.last]; r.seq == last.seq+1 && r.prev == last.hash {
			r.after = o.last + 1
			o.last, o.line = i, append(o.line[:0], line...)
			return
		}
		rs.closed = append(rs.closed, o)
	}
	rs.open[r.chain] = &openRun{last: i, line: append([]byte(nil), line...)}
}

// settle checks the signature of every run's last record and, when it verifies, makes the run's records ok:
// each one's Hash is signed into the next one's Prev. It reports false when a last record fails.
func (rs *runs) settle(recs []rec, v recordVerifier) bool {
	for _, o := range rs.open {
		rs.closed = append(rs.closed, o)
	}
	for _, o := range rs.closed {
		if _, err := v.Verify(o.line); err != nil {
			return false
		}
		recs[o.last].signed = true
		for i := o.last; ; i = recs[i].after - 1 {
			recs[i].ok = true
			if recs[i].after == 0 {
				break
			}
		}
	}
	return true
}
