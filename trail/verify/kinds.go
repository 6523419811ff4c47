package verify

import "github.com/agent-audit/agent-audit/trail"

// Kinds of the findings Verify reports itself (package trail/digest declares the digest walk's). Each says
// whether it is a problem (verification fails) or a notice.
const (
	// KindBadSignature: a record's signature, or its certificate's, does not verify: the record was changed
	// after it was sealed, or forged (problem).
	KindBadSignature trail.Kind = "bad-signature"
	// KindUnknownKey: records are vouched for by a key that was not passed; one finding per key, with counts
	// (problem).
	KindUnknownKey trail.Kind = "unknown-key"
	// KindBadCertificate: a record's certificate does not vouch for it: another chain, another key, or a seal
	// time outside its window (problem).
	KindBadCertificate trail.Kind = "bad-certificate"
	// KindUnsealed: a record carries no seal: it could not be sealed and was kept rather than lost, or it was
	// added by someone without the key (problem).
	KindUnsealed trail.Kind = "unsealed"
	// KindUncertified: a chain's key never carried a certificate signed by an accepted issuer, so no root key
	// vouches for its records (problem).
	KindUncertified trail.Kind = "uncertified"
	// KindLegacySeal: a chain's records are sealed in format 1, whose links cover signature bytes (notice).
	KindLegacySeal trail.Kind = "legacy-seal"
	// KindMalformedRecord: a line is not OTLP/JSON, or its seal is not in the form a sealer writes (problem).
	KindMalformedRecord trail.Kind = "malformed-record"
	// KindMissingRecord: seqs of a chain that no record holds, between or before records that are there
	// (problem).
	KindMissingRecord trail.Kind = "missing-record"
	// KindDeclaredUndelivered: a seq the chain declared sealed but never delivered (notice).
	KindDeclaredUndelivered trail.Kind = "declared-undelivered"
	// KindLinkMismatch: a verified record's prev is not the hash of the verified record before it: one of
	// them was replaced by another validly sealed record (problem).
	KindLinkMismatch trail.Kind = "link-mismatch"
	// KindFork: two different verified records claim one position of a chain (problem).
	KindFork trail.Kind = "fork"
	// KindChainEndMissing: the local chain state says the chain reached further than its last record here:
	// its newest records were removed (problem).
	KindChainEndMissing trail.Kind = "chain-end-missing"
	// KindDuplicate: byte-identical copies of records stored before: a retried delivery (notice).
	KindDuplicate trail.Kind = "duplicate"
	// KindOversizeMissing: an oversize object a verified record references is not there (problem).
	KindOversizeMissing trail.Kind = "oversize-missing"
	// KindOversizeMismatch: an oversize object's content does not have the SHA-256 or size its record gives,
	// or the reference points outside oversize/ (problem).
	KindOversizeMismatch trail.Kind = "oversize-mismatch"
	// KindNoRetention: an object version carries no Object Lock retention (problem).
	KindNoRetention trail.Kind = "no-retention"
	// KindRetentionShort: an object version's retention ends before the required horizon (problem).
	KindRetentionShort trail.Kind = "retention-short"
	// KindOverwritten: a record object has more than one version: it was written over (problem).
	KindOverwritten trail.Kind = "overwritten"
	// KindDeleteMarker: an object's current version is a delete marker: it was deleted; its locked versions
	// remain and are verified (problem).
	KindDeleteMarker trail.Kind = "delete-marker"
	// KindUnreadableObject: an object is not GZIP, is cut short, or vanished between listing and reading
	// (problem).
	KindUnreadableObject trail.Kind = "unreadable-object"
	// KindNoRecords: the window holds no record at all: nothing was verified (problem).
	KindNoRecords trail.Kind = "no-records"
	// KindChainStateUnreadable: a local root's chain state is there but cannot be read, so the end of its
	// chain is not proven (notice; the guarantee of completeness says so).
	KindChainStateUnreadable trail.Kind = "chain-state-unreadable"
)
