package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultLocalStream is the stream name in local object names.
const DefaultLocalStream = "agent-audit-local"

// LocalDirSink writes records into a directory exactly as Firehose delivers them to S3 with this project's
// prefixes: one GZIP object of newline-delimited records per Deliver call under
// traces/year=YYYY/month=MM/day=DD/hour=HH/ (UTC arrival time), named
// <stream>-1-YYYY-MM-DD-HH-MM-SS-<random>.gz. It refuses a call with a record over the limit, as Firehose's API
// does, writing nothing. Records that are not a single JSON line go, in Firehose's error-record shape (JSON with
// the bytes base64 in rawData, errorCode InvalidRecordErrorCode), to one object under
// errors/processing-failed/year=YYYY/month=MM/day=DD/, and Deliver reports them, so nothing is lost silently.
// Objects appear atomically (written to a temporary name, synced, renamed, directory synced). Deliver blocks
// until the objects are durable. Safe for concurrent use.
type LocalDirSink struct {
	root     string
	stream   string
	maxBytes int
	now      func() time.Time
	onWrite  func(path string)
	mu       sync.Mutex // serialises onWrite
}

var _ Sink = (*LocalDirSink)(nil)

// LocalOption configures a LocalDirSink.
type LocalOption func(*LocalDirSink)

// WithStreamName sets the stream name used in object names.
func WithStreamName(name string) LocalOption { return func(s *LocalDirSink) { s.stream = name } }

// WithClock sets the arrival clock (default time.Now).
func WithClock(now func() time.Time) LocalOption { return func(s *LocalDirSink) { s.now = now } }

// WithOnWrite calls fn with the path of every object written.
func WithOnWrite(fn func(path string)) LocalOption { return func(s *LocalDirSink) { s.onWrite = fn } }

// WithLocalMaxRecordBytes sets the record limit (default DefaultMaxRecordBytes).
func WithLocalMaxRecordBytes(n int) LocalOption { return func(s *LocalDirSink) { s.maxBytes = n } }

// NewLocalDirSink returns a sink writing under root.
func NewLocalDirSink(root string, opts ...LocalOption) *LocalDirSink {
	s := &LocalDirSink{root: root, stream: DefaultLocalStream, maxBytes: DefaultMaxRecordBytes, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Deliver implements Sink.
func (s *LocalDirSink) Deliver(_ context.Context, records [][]byte) error {
	for i, r := range records {
		if len(r) > s.maxBytes {
			return fmt.Errorf("local sink: record %d is %d bytes, over the %d-byte record limit; nothing written", i, len(r), s.maxBytes)
		}
	}
	var good, bad [][]byte
	for _, r := range records {
		if validLine(r) {
			good = append(good, r)
		} else {
			bad = append(bad, r)
		}
	}
	t := s.now().UTC()
	var errs []error
	if len(good) > 0 {
		dir := fmt.Sprintf("traces/year=%04d/month=%02d/day=%02d/hour=%02d", t.Year(), t.Month(), t.Day(), t.Hour())
		if err := s.write(dir, t, good); err != nil {
			errs = append(errs, err)
		}
	}
	if len(bad) > 0 {
		dir := fmt.Sprintf("errors/processing-failed/year=%04d/month=%02d/day=%02d", t.Year(), t.Month(), t.Day())
		wrapped := make([][]byte, len(bad))
		for i, r := range bad {
			wrapped[i] = errorRecord(r, t)
		}
		if err := s.write(dir, t, wrapped); err != nil {
			errs = append(errs, err)
		}
		errs = append(errs, fmt.Errorf("local sink: %d of %d records are not one JSON line; kept under %s", len(bad), len(records), dir))
	}
	return errors.Join(errs...)
}

// InvalidRecordErrorCode is the errorCode of the local sink's error records: the record was not one JSON line.
const InvalidRecordErrorCode = "AgentAudit.InvalidRecord"

// firehoseErrorRecord is the shape Firehose writes under its error prefix: the failed record's bytes, base64 in
// rawData, with why and when.
type firehoseErrorRecord struct {
	AttemptsMade           int    `json:"attemptsMade"`
	ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
	RawData                []byte `json:"rawData"`
}

// errorRecord wraps a refused record as one line of a Firehose error object.
func errorRecord(r []byte, arrival time.Time) []byte {
	b, _ := json.Marshal(firehoseErrorRecord{ // a struct of strings, ints and bytes always marshals
		AttemptsMade:           1,
		ArrivalTimestamp:       arrival.UnixMilli(),
		ErrorCode:              InvalidRecordErrorCode,
		ErrorMessage:           "record is not a single newline-terminated JSON value",
		AttemptEndingTimestamp: arrival.UnixMilli(),
		RawData:                r,
	})
	return append(b, '\n')
}

// validLine reports whether r is exactly one JSON value followed by '\n'.
func validLine(r []byte) bool {
	return len(r) > 1 && r[len(r)-1] == '\n' && bytes.IndexByte(r[:len(r)-1], '\n') < 0 && json.Valid(r[:len(r)-1])
}

// write stores records as one GZIP object under dir.
func (s *LocalDirSink) write(dir string, t time.Time, records [][]byte) error {
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return fmt.Errorf("local sink: object name: %w", err)
	}
	name := fmt.Sprintf("%s-1-%s-%s.gz", s.stream, t.Format("2006-01-02-15-04-05"), hex.EncodeToString(suffix[:]))
	full := filepath.Join(s.root, filepath.FromSlash(dir))
	if err := os.MkdirAll(full, 0o755); err != nil {
		return fmt.Errorf("local sink: %w", err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, r := range records {
		zw.Write(r) // writes to a bytes.Buffer cannot fail
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("local sink: gzip: %w", err)
	}
	path := filepath.Join(full, name)
	if err := writeAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("local sink: %w", err)
	}
	if s.onWrite != nil {
		s.mu.Lock()
		s.onWrite(path)
		s.mu.Unlock()
	}
	return nil
}

// writeAtomic writes data under a temporary name in the same directory, syncs it and renames it into place, so a
// reader never sees a partial object.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".incoming-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
