// Package seal makes audit records tamper-evident and checks them.
//
// A Sealer signs every record it is given and links it into a chain: each record carries, on its first
// resource, the attributes below. The record stays a plain OTLP/JSON line that any OTLP reader parses; the seal
// is six more resource attributes.
//
//	agent_audit.seal.chain  string  32 lowercase hex, random per Sealer (one Lambda container, one CLI run)
//	agent_audit.seal.seq    int     1-based position of the record in its chain
//	agent_audit.seal.prev   string  hex SHA-256 of the previous record's complete line ("" at seq 1)
//	agent_audit.seal.key    string  the signing key's id: a KMS key ARN, or local:sha256:<hex SHA-256 of its SPKI DER>
//	agent_audit.seal.alg    string  ECDSA_P256_SHA256
//	agent_audit.seal.sig    string  base64url (unpadded) ASN.1 DER ECDSA signature
//
// The signature covers the SHA-256 of the line exactly as stored, '\n' included, except that the sig value is
// the empty string. A verifier therefore needs no canonical form: it blanks the one signature value in the
// bytes it read and hashes them. Changing any byte of a record breaks its signature; removing, reordering or
// replacing a record breaks the chain (a missing seq, or a prev that does not match). Signing keys stay in KMS
// (KMSSigner sends only the digest); offline runs use a local key file (FileSigner) with the same verification.
//
// Verify checks one line; Chains checks the sequence of many. docs/tamper-evidence.md has the threat model.
package seal
