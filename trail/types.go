// Package trail is the audit trail as stored: the objects of an audit root (a local directory in Firehose's
// layout, or the audit bucket with its object versions), and the findings that checking them produces. Package
// trail/verify checks records, chains and retention; package trail/digest writes and checks the signed digests
// that prove the trail complete.
package trail

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Object is one stored version of an object in an audit root, or a delete marker.
type Object struct {
	Key string
	// VersionID is the S3 version id; "" on a local root, which keeps no versions.
	VersionID string
	// Size is the stored size in bytes (GZIP, for record objects).
	Size int64
	// ETag is S3's entity tag without quotes; "" on a local root.
	ETag string
	// SHA256 is the hex SHA-256 of the stored bytes where the store knows it: a local root computes it when
	// listing, and Put returns it; S3 lists no checksum values, so it is "" in an S3 listing.
	SHA256 string
	// LastModified is when the version was written: S3's LastModified, or the file's modification time.
	LastModified time.Time
	// DeleteMarker marks an S3 delete marker: the key's current version was deleted.
	DeleteMarker bool
	// IsLatest is true for the key's current version (always, on a local root).
	IsLatest bool
}

// Store is an audit root. Implementations are safe for concurrent use.
type Store interface {
	// Root names the root as the user gave it: a directory, or s3://bucket.
	Root() string
	// Versions returns every version and delete marker under prefix whose key sorts after startAfter ("" for
	// all), in key order and, for one key, newest first. A local root returns one version per file.
	Versions(ctx context.Context, prefix, startAfter string) ([]Object, error)
	// Get returns the stored bytes of key, of version versionID ("" for the current one), as stored (not
	// decompressed). A missing key or version returns an error wrapping fs.ErrNotExist.
	Get(ctx context.Context, key, versionID string) ([]byte, error)
	// Put stores body at key and returns the version written. On S3 the bucket's default encryption and Object
	// Lock retention apply.
	Put(ctx context.Context, key string, body []byte) (Object, error)
}

// Retention is the Object Lock retention of one object version; the zero value is none.
type Retention struct {
	// Mode is "COMPLIANCE" or "GOVERNANCE", "" without retention.
	Mode string
	// RetainUntil is when the retention ends.
	RetainUntil time.Time
}

// RetentionReader is implemented by stores that keep Object Lock retention (S3; a local root has none).
type RetentionReader interface {
	// Retention returns the retention of key's version versionID: the zero Retention when the version has
	// none or the store has no Object Lock, an error when it cannot be read (refused, not found).
	Retention(ctx context.Context, key, versionID string) (Retention, error)
}

// Severity says whether a finding fails a check.
type Severity string

const (
	// Problem fails the check: the trail is not provably whole and unaltered.
	Problem Severity = "problem"
	// Notice is reported but does not fail the check (a duplicate copy, a declared gap, a legacy seal).
	Notice Severity = "notice"
)

// Kind names what a finding is about. Each package that produces findings declares its kinds.
type Kind string

// Finding is one thing a check found, located as precisely as it is known.
type Finding struct {
	Kind      Kind     `json:"kind"`
	Severity  Severity `json:"severity"`
	Key       string   `json:"key,omitempty"`
	VersionID string   `json:"version_id,omitempty"`
	// Line is the 1-based line of the record in its object; 0 when the finding is not about one line.
	Line    int    `json:"line,omitempty"`
	Chain   string `json:"chain,omitempty"`
	Seq     int64  `json:"seq,omitempty"`
	TraceID string `json:"trace_id,omitempty"`
	Detail  string `json:"detail"`
}

// SortFindings orders findings stably: by key, line, chain, seq, then kind and detail.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if c := strings.Compare(a.Chain, b.Chain); c != 0 {
			return c
		}
		if a.Seq != b.Seq {
			if a.Seq < b.Seq {
				return -1
			}
			return 1
		}
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Detail, b.Detail)
	})
}
