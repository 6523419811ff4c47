// Package verify checks an audit root: every record's seal, every chain's continuity, the oversize content the
// records reference, the Object Lock retention of every object version (on S3), and, through package
// trail/digest, the signed digests that prove the trail complete. Verify returns a Report an auditor can file,
// modelled on `aws cloudtrail validate-logs`: what was covered, what was found (typed trail.Finding values in
// trail.SortFindings order), and which guarantees held.
//
// Verify streams: objects are read and checked by a pool of workers (GOMAXPROCS by default) and their results
// merged in key order into per-chain state (the next expected seq, the last record's hash, the open gaps, a
// short window of recent hashes for telling duplicates from forks), so memory grows with the number of chains
// and objects, never with the number of records.
//
// One root cause is reported once. A record that fails verification still takes its position in its chain
// (when its seal can be read), so an altered record is a bad signature, not also a gap and a broken link; a key
// that was not passed is named once, with the number of records it signed; a record whose seq was altered
// fills the gap it left.
package verify
