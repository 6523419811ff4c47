package verify

import (
	"crypto/ecdsa"
	"runtime"
	"time"
)

// Defaults of Options.
const (
	// DefaultMaxFindingsPerKind bounds how many findings of one kind a Report lists (1,000); the rest are
	// counted in Report.Suppressed, so a trail that is wrong everywhere cannot exhaust memory.
	DefaultMaxFindingsPerKind = 1000
	// DefaultOversizeWorkers is how many oversize objects are read at once (8): they are checked as the
	// records that reference them are merged, beside the record workers.
	DefaultOversizeWorkers = 8
	// DefaultRetentionWorkers is how many Object Lock retention reads run at once (16: each is one S3 request).
	DefaultRetentionWorkers = 16
	// DefaultRecentSeqs is how many of each chain's latest positions Verify remembers to tell a duplicate copy
	// from a fork (64): a retried delivery stores its copy within a few objects of the first.
	DefaultRecentSeqs = 64
	// RetentionSlack absorbs the clock difference between an object's LastModified and the instant S3 computed
	// its default retention from (1 min).
	RetentionSlack = time.Minute
)

// Options says what Verify checks against.
type Options struct {
	// Keys are the accepted issuer keys: a format-2 record verifies when its certificate is signed by one of
	// them (selected by the fingerprint the certificate names), a format-1 record when it is signed by one.
	Keys []*ecdsa.PublicKey
	// LegacyKeyIDs binds format-1 records that name a KMS key ARN to that key's public half.
	LegacyKeyIDs map[string]*ecdsa.PublicKey
	// Since limits the check to hour partitions that end after it (the zero time: everything). Chains may then
	// begin before the window, so their first position there is not a gap.
	Since time.Time
	// Retention is the Object Lock horizon every object version must reach past its LastModified, on stores
	// that keep retention (trail.RetentionReader). Zero checks only that retention is there.
	Retention time.Duration
	// Digests, when set, walks the digest chain (package trail/digest) with these keys; nil leaves digests not
	// checked, and the report says so.
	Digests *DigestOptions
	// AllSignatures checks every record's own signature, even where the next record's link already
	// authenticates it (see Report.SignaturesChecked); slower, and it also finds a rewritten signature value,
	// which changes nothing a verifier relies on.
	AllSignatures bool
	// Workers is how many objects are checked at once (default runtime.GOMAXPROCS(0)).
	Workers int
	// MaxFindingsPerKind bounds the findings listed per kind (default DefaultMaxFindingsPerKind).
	MaxFindingsPerKind int
	// Now is the time the digest walk measures a schedule's overdue digests against (default time.Now()).
	Now time.Time
}

// DigestOptions configures the digest walk.
type DigestOptions struct {
	// Keys are the accepted digest keys (the digest writer's, not the records' issuer), selected by the
	// fingerprint each digest names.
	Keys []*ecdsa.PublicKey
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxFindingsPerKind <= 0 {
		o.MaxFindingsPerKind = DefaultMaxFindingsPerKind
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}
