package seal

// Seal attributes, set on the first resource of every sealed record; see the package documentation.
const (
	AttrChain = "agent_audit.seal.chain"
	AttrSeq   = "agent_audit.seal.seq"
	AttrPrev  = "agent_audit.seal.prev"
	AttrKey   = "agent_audit.seal.key"
	AttrAlg   = "agent_audit.seal.alg"
	AttrSig   = "agent_audit.seal.sig"
	// AttrUnsealed, instead of the six above, says why a record could not be sealed (the signing key did not
	// answer in time): the record is kept rather than lost, and verify reports it.
	AttrUnsealed = "agent_audit.seal.unsealed"
)

// Algorithm is the only signature algorithm: ECDSA on P-256 over SHA-256 (KMS ECC_NIST_P256, ECDSA_SHA_256).
const Algorithm = "ECDSA_P256_SHA256"

// MaxKeyIDBytes bounds a signer's key id, so the seal's size is bounded (Overhead).
const MaxKeyIDBytes = 256

// Overhead is the most bytes a seal adds to a record's line: the six attributes with their JSON framing, a key id
// of MaxKeyIDBytes and the longest P-256 DER signature, with room to spare. Encoders keep records this much
// under the record limit.
const Overhead = 1024

// sigField is the JSON text of the signature attribute with the value cut off; the value and `"}}` follow. pdata
// writes attributes in exactly this form, and since every string in a record is JSON-escaped, content can never
// produce it with unescaped quotes.
const sigField = `{"key":"` + AttrSig + `","value":{"stringValue":"`
