package verify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

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

// scanObject reads one object version, gunzips it as a stream and checks its records one line at a time; only
// the current line is held. A store error other than "not there" is returned: the root cannot be checked.
func scanObject(ctx context.Context, store trail.Store, v *seal.Verifier, j job) (objectResult, error) {
	res := objectResult{job: j}
	raw, err := store.Get(ctx, j.obj.Key, j.obj.VersionID)
	if errors.Is(err, fs.ErrNotExist) {
		res.unreadable = "listed, but gone when read: " + err.Error()
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("read %s: %w", j.obj.Key, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		res.unreadable = "not GZIP: " + err.Error()
		return res, nil
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
			res.recs = append(res.recs, checkRecord(v, line, n))
		}
		switch {
		case err == io.EOF:
			return res, nil
		case err != nil:
			res.unreadable = fmt.Sprintf("corrupt GZIP after line %d: %v", n, err)
			return res, nil
		}
		if n%256 == 0 && ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
}
