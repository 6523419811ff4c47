// Package seal makes audit records tamper-evident and checks them.
//
// A Sealer signs every record it is given and links it into a chain. It signs with an Ed25519 key of its own,
// generated in memory, which its Issuer (a KMS key, KMSSigner, or a local key file, FileSigner) certifies once:
// one issuer signature per key, not per record. Each record carries, at the start of its first resource's
// attributes, the seal (format 2):
//
//	agent_audit.seal.v            int     2
//	agent_audit.seal.chain        string  32 lowercase hex, random per chain (one Lambda container, one local root)
//	agent_audit.seal.seq          int     1-based position of the record in its chain
//	agent_audit.seal.prev         string  hex signed hash of the previous record ("" at seq 1)
//	agent_audit.seal.undelivered  int[]   (optional) earlier seqs sealed but never delivered: declared gaps
//	agent_audit.seal.key          string  fingerprint of the chain's key that signed the record: sha256:<hex of its SPKI DER>
//	agent_audit.seal.cert         string  base64url (unpadded) certificate JSON: the key, chain, subject and window
//	agent_audit.seal.cert_sig     string  (once certified) the issuer's signature of the certificate
//	agent_audit.seal.time         int     when the record was sealed, Unix nanoseconds
//	agent_audit.seal.alg          string  ED25519 (ECDSA_P256_SHA256 in chains sealed before chain keys were Ed25519)
//	agent_audit.seal.sig          string  the record's signature
//
// The record stays a plain OTLP/JSON line that any OTLP reader parses. Record signatures are Ed25519 (64 bytes,
// verified with the canonical-S check of crypto/ed25519), the issuers' are ECDSA P-256, low-S, canonical DER;
// both are unpadded base64url, decoded strictly (DecodeSignature for ECDSA), so each has one accepted encoding. Every
// signature is over DomainHash(domain, message): the record's signature in DomainRecord over the line exactly
// as stored, '\n' included, with the sig value blanked; the certificate's in DomainCert over its JSON bytes. A
// signature made for one can never pass for the other, nor for a digest (DomainDigest).
//
// The record's signed hash is its chain link: the next record's prev. It is fixed by the signer alone, so
// rewriting a stored signature (its (r, n−s) twin, another base64 form) makes that record fail and changes
// nothing a later record depends on. Changing any byte of a record breaks its signature; removing, reordering or
// replacing a record breaks the chain (a missing seq, or a prev that does not match); a seq declared
// undelivered by a later record is a declared gap, not a missing record.
//
// The certificate binds the chain's key to the chain id, the function's ARN and version, its log stream and a
// validity window (DefaultValidity; the key is renewed, with one more certification, before the window ends).
// Only the Sealer's first record waits for the certification (DefaultCertifyWait). If the issuer does not
// answer, records are still sealed by the chain's key and carry the certificate without cert_sig, and the
// certification is retried in the background; once it succeeds, later records carry cert_sig, which vouches
// for the earlier records of the same chain and key as well. A Verifier selects the issuer's key by the
// fingerprint the certificate names (ErrUnknownKey when it was not passed), checks the certificate once per
// chain key, and the record under the certified key.
//
// Records sealed before format 2 (format 1: no agent_audit.seal.v, the seal appended to the first resource, the
// signature over the line's plain SHA-256 by the issuer key itself, prev the SHA-256 of the whole previous line)
// still verify, under the key their agent_audit.seal.key selects, and are reported as Version 1 and by Chains as
// a legacy seal: their links cover signature bytes, so a rewritten signature shows as a replaced record there.
//
// Verify checks one line; Chains checks the sequence of many. docs/tamper-evidence.md has the threat model.
package seal
