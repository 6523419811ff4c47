// Package digest proves an audit trail complete with signed digests, after CloudTrail's digest files: every
// period a digest lists each object version that appeared under traces/ and oversize/, is signed, and is chained
// to the digest before it; a period with nothing in it still gets one. docs/tamper-evidence.md ("Completeness:
// signed digests") is the full account.
//
// A digest is one JSON file (Digest, ending in a newline) at KeyFor(period end):
// digests/year=YYYY/month=MM/day=DD/hour=HH/20261101T201500Z.json. Its signature, the last field, is over
// seal.DomainHash(seal.DomainDigest, the file with the sig value blanked), low-S and strictly encoded by package
// seal; its key field (a seal.Fingerprint) selects the public key. The next digest's prev is that signed hash.
//
// Writer writes the chain: Write every period (the digest Lambda, `audit digest --root s3://…`), catching up the
// periods a failed run missed; WriteNow closes a local root's period at the call (`audit run`, `audit demo`).
// A version belongs to the first digest whose listing saw it: each listing reaches back by the lookback, and a
// digest lists every version with LastModified before its listed_before that no digest in the lookback listed,
// so an object that lands late, in an old hour partition or after its period's digest, is listed by the next.
//
// Check walks the chain over a window and compares the versions listed with the store, returning
// trail.Findings of the kinds declared here. Package trail/verify calls it; its signature is stable.
package digest
