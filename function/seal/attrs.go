package seal

import "time"

// Version is the seal format Sealer writes. Format 1 (records without AttrVersion) is still verified; see
// Record.Version.
const Version = 2

// Seal attributes, set on the first resource of every sealed record, in this order; see the package
// documentation.
const (
	AttrVersion = "agent_audit.seal.v"
	AttrChain   = "agent_audit.seal.chain"
	AttrSeq     = "agent_audit.seal.seq"
	AttrPrev    = "agent_audit.seal.prev"
	// AttrUndelivered is present only when the chain has seqs to declare: earlier records that were sealed but
	// never delivered.
	AttrUndelivered = "agent_audit.seal.undelivered"
	AttrKey         = "agent_audit.seal.key"
	AttrCert        = "agent_audit.seal.cert"
	// AttrCertSig is absent until the issuer has certified the chain's key.
	AttrCertSig = "agent_audit.seal.cert_sig"
	AttrTime    = "agent_audit.seal.time"
	AttrAlg     = "agent_audit.seal.alg"
	AttrSig     = "agent_audit.seal.sig"
	// AttrUnsealed, instead of the seal, says why a record could not be sealed: the record is kept rather than
	// lost, and verify reports it.
	AttrUnsealed = "agent_audit.seal.unsealed"
)

// Signature algorithms, as AttrAlg names the one of a record's signature.
const (
	// Algorithm is the record signature of the chain keys a Sealer generates: Ed25519 (RFC 8032) over the
	// record's 32-byte signed hash. It is deterministic and strict (Verify rejects a non-canonical S or R), and
	// costs about half a P-256 signature with no garbage, on the record's path.
	Algorithm = "ED25519"
	// AlgorithmP256 is ECDSA on P-256 over SHA-256 (KMS ECC_NIST_P256, ECDSA_SHA_256): the issuers' signatures
	// (certificates, digests), format-1 records, and format-2 records of chain keys sealed before Ed25519.
	AlgorithmP256 = "ECDSA_P256_SHA256"
)

// MaxKeyIDBytes bounds an issuer's key id, so the seal's size is bounded (Overhead).
const MaxKeyIDBytes = 256

// MaxSubjectBytes bounds each field of a Subject as written into a certificate; longer values are cut.
const MaxSubjectBytes = 256

// MaxUndelivered is the most seqs one record declares undelivered; more wait for the records after it.
const MaxUndelivered = 16

// Overhead is the most bytes a seal adds to a record's line: every attribute above with its JSON framing, a
// certificate with fields of the maximum lengths, MaxUndelivered declared seqs and the longest signatures.
// Sealer.Seal refuses to add more, and encoders keep records this much under the record limit.
const Overhead = 4096

// Defaults of the Sealer's options.
const (
	// DefaultValidity is how long a certified key seals before it is renewed (12 h).
	DefaultValidity = 12 * time.Hour
	// DefaultCertifyWait is the longest the Sealer's first record waits for its key's first certification
	// attempt (2 s); later records never wait.
	DefaultCertifyWait = 2 * time.Second
	// DefaultRetryBackoff is the first pause before a failed certification is tried again (1 s); it doubles up
	// to MaxRetryBackoff.
	DefaultRetryBackoff = time.Second
	// MaxRetryBackoff is the longest pause between certification attempts (5 min).
	MaxRetryBackoff = 5 * time.Minute
)

// CertGrace is how long after a certificate's not_after a record's seal time is still accepted (5 min): a
// record sealed just before the window ended, on a clock a little ahead of the one that dated the certificate.
const CertGrace = 5 * time.Minute

// sigField is the JSON text of the signature attribute with the value cut off; the value and `"}}` follow.
// Sealer writes the attribute in exactly this form, and since every string in a record is JSON-escaped,
// content can never produce it with unescaped quotes.
const sigField = `{"key":"` + AttrSig + `","value":{"stringValue":"`

// sealKey is the text every seal attribute starts with. Sealer refuses a record that already holds it, and
// Verify refuses a record that holds it more often than its seal has attributes, so a record's seal is exactly
// the attributes at the start of its first resource.
const sealKey = `{"key":"agent_audit.seal.`
