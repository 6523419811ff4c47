package seal

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// The seal on the wire. Sealer inserts the seal's attributes, as JSON text, at the start of the first resource's
// attribute array of a line pdata's JSONMarshaler wrote, and Verify reads them back from there with a strict
// reader of exactly that text. Both are written by hand for one reason: a record is marshalled once and then
// sealed, and verified, without a second pass of a JSON library over its 30 KB (pdata's unmarshal alone costs
// several times the signature check, and verify reads 50,000 records a second). The reader accepts one encoding
// only: every attribute in order, in the form below, values in fixed alphabets that JSON never escapes, so what
// it reads is what any JSON reader reads there.
//
//	{"resourceSpans":[{"resource":{"attributes":[
//	  {"key":"agent_audit.seal.v","value":{"intValue":"2"}},
//	  {"key":"agent_audit.seal.chain","value":{"stringValue":"<32 hex>"}},
//	  {"key":"agent_audit.seal.seq","value":{"intValue":"<n>"}},
//	  {"key":"agent_audit.seal.prev","value":{"stringValue":"<64 hex, or empty at seq 1>"}},
//	  {"key":"agent_audit.seal.undelivered","value":{"arrayValue":{"values":[{"intValue":"<n>"},…]}}},  (optional)
//	  {"key":"agent_audit.seal.key","value":{"stringValue":"sha256:<64 hex>"}},
//	  {"key":"agent_audit.seal.cert","value":{"stringValue":"<base64url>"}},
//	  {"key":"agent_audit.seal.cert_sig","value":{"stringValue":"<base64url>"}},                         (optional)
//	  {"key":"agent_audit.seal.time","value":{"intValue":"<unix ns>"}},
//	  {"key":"agent_audit.seal.alg","value":{"stringValue":"ECDSA_P256_SHA256"}},
//	  {"key":"agent_audit.seal.sig","value":{"stringValue":"<base64url>"}}
//	  , the record's own resource attributes … ]
//
// Integers are written as OTLP/JSON writes int64: decimal strings, here without sign or leading zeros.

// linePrefix is how every line pdata writes for a resource with attributes starts; the seal goes right after it.
const linePrefix = `{"resourceSpans":[{"resource":{"attributes":[`

// emptyResource is how a line starts whose first resource has no attributes at all.
const emptyResource = `{"resourceSpans":[{"resource":{}`

// v2Prefix is how every line sealed in format 2 starts.
const v2Prefix = linePrefix + `{"key":"` + AttrVersion + `","value":{"intValue":"2"}},`

// maxSigChars is the longest signature text a seal holds: a P-256 DER signature (72 bytes) in base64url; an
// Ed25519 signature takes ed25519SigChars.
const maxSigChars = 96

// sealFields are the values of one record's seal.
type sealFields struct {
	chain       string
	seq         int64
	prev        string
	undelivered []int64
	key         string
	cert        string
	certSig     string
	time        int64
	// alg is the record signature's algorithm (AttrAlg): Algorithm, or AlgorithmP256 in older chains.
	alg string
	sig string
}

// insertion is where a seal goes into a line: at, and the text that closes the seal there.
type insertion struct {
	at int
	// open starts the attribute array when the resource has none; close ends the seal: `"}}` after the
	// signature, then a comma before the record's own attributes, or the array's end.
	open, close string
}

// findInsertion locates the first resource's attribute array of a line pdata wrote.
func findInsertion(line []byte) (insertion, error) {
	switch {
	case bytes.HasPrefix(line, []byte(linePrefix)):
		at := len(linePrefix)
		if at < len(line) && line[at] == ']' {
			return insertion{at: at, close: `"}}`}, nil
		}
		return insertion{at: at, close: `"}},`}, nil
	case bytes.HasPrefix(line, []byte(emptyResource)):
		at := len(emptyResource) - 1
		return insertion{at: at, open: `"attributes":[`, close: `"}}]`}, nil
	}
	return insertion{}, errors.New("record does not start with its first resource, as pdata's OTLP/JSON does")
}

// appendSeal appends the seal's text up to the signature's value: every attribute of f but the signature, then
// sigField.
func appendSeal(b []byte, f *sealFields) []byte {
	b = appendInt(b, AttrVersion, Version)
	b = appendStr(b, AttrChain, f.chain)
	b = appendInt(b, AttrSeq, f.seq)
	b = appendStr(b, AttrPrev, f.prev)
	if len(f.undelivered) > 0 {
		b = append(b, `{"key":"`+AttrUndelivered+`","value":{"arrayValue":{"values":[`...)
		for i, s := range f.undelivered {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"intValue":"`...)
			b = strconv.AppendInt(b, s, 10)
			b = append(b, `"}`...)
		}
		b = append(b, `]}}},`...)
	}
	b = appendStr(b, AttrKey, f.key)
	b = appendStr(b, AttrCert, f.cert)
	if f.certSig != "" {
		b = appendStr(b, AttrCertSig, f.certSig)
	}
	b = appendInt(b, AttrTime, f.time)
	b = appendStr(b, AttrAlg, f.alg)
	return append(b, sigField...)
}

func appendStr(b []byte, key, value string) []byte {
	b = append(b, `{"key":"`...)
	b = append(b, key...)
	b = append(b, `","value":{"stringValue":"`...)
	b = append(b, value...)
	return append(b, `"}},`...)
}

func appendInt(b []byte, key string, v int64) []byte {
	b = append(b, `{"key":"`...)
	b = append(b, key...)
	b = append(b, `","value":{"intValue":"`...)
	b = strconv.AppendInt(b, v, 10)
	return append(b, `"}},`...)
}

// readSeal is what the strict reader found in a line sealed in format 2.
type readSeal struct {
	sealFields
	// attrs counts the seal's attributes.
	attrs int
	// sigStart and sigEnd delimit the signature's value in the line.
	sigStart, sigEnd int
	// certText and certSigText are the certificate's and its signature's values, read in place: they are the
	// same in every record of a chain, so Verify copies them only when its cache has not checked them yet.
	certText, certSigText []byte
	// certKey is the text from the certificate's value to the end of its signature's value (or of the
	// certificate, without one): the two together, for the Verifier's cache of checked certificates.
	certKey []byte
}

// errWire is wrapped by the reader's errors.
var errWire = errors.New("seal attributes not in the sealed form")

// The reader's literals, as constants so that reading allocates nothing for them.
const (
	strOpen         = `","value":{"stringValue":"`
	intOpen         = `","value":{"intValue":"`
	chainOpen       = `{"key":"` + AttrChain + strOpen
	seqOpen         = `{"key":"` + AttrSeq + intOpen
	prevOpen        = `{"key":"` + AttrPrev + strOpen
	undeliveredOpen = `{"key":"` + AttrUndelivered + `","value":{"arrayValue":{"values":[`
	keyOpen         = `{"key":"` + AttrKey + strOpen
	certOpen        = `{"key":"` + AttrCert + strOpen
	certSigOpen     = `{"key":"` + AttrCertSig + strOpen
	timeOpen        = `{"key":"` + AttrTime + intOpen
	algOpen         = `{"key":"` + AttrAlg + strOpen
	valueClose      = `"}},`
)

// parseSeal reads the seal of a line that starts with v2Prefix.
func parseSeal(line []byte) (readSeal, error) {
	r := wireReader{b: line, i: len(v2Prefix)}
	var s readSeal
	s.attrs = 1
	s.chain = r.str(chainOpen, isHex)
	s.seq = r.int(seqOpen)
	s.prev = r.str(prevOpen, isHex)
	s.attrs += 3
	if r.peek(undeliveredOpen) {
		s.attrs++
		r.lit(undeliveredOpen)
		for n := 0; r.err == nil; n++ {
			if n > 0 && !r.try(",") {
				break
			}
			r.lit(`{"intValue":"`)
			s.undelivered = append(s.undelivered, r.digits())
			r.lit(`"}`)
		}
		r.lit(`]}}},`)
	}
	s.key = r.str(keyOpen, isFingerprintChar)
	certStart := r.i + len(certOpen)
	s.certText = r.strBytes(certOpen, isBase64URL)
	certEnd := r.i - len(valueClose)
	s.attrs += 2
	if r.peek(certSigOpen) {
		s.certSigText = r.strBytes(certSigOpen, isBase64URL)
		certEnd = r.i - len(valueClose)
		s.attrs++
	}
	s.time = r.int(timeOpen)
	switch alg := r.strBytes(algOpen, isAlgChar); {
	case r.err != nil:
	case string(alg) == Algorithm:
		s.alg = Algorithm
	case string(alg) == AlgorithmP256:
		s.alg = AlgorithmP256
	default:
		return s, fmt.Errorf("seal algorithm %q, want %s or %s: %w", alg, Algorithm, AlgorithmP256, errWire)
	}
	r.lit(sigField)
	s.sigStart = r.i
	s.sig = r.token(isBase64URL)
	s.sigEnd = r.i
	r.lit(`"}}`)
	s.attrs += 3
	if r.err == nil && !(r.try(",{") || r.try("]")) {
		r.fail("the seal is not followed by an attribute or the array's end")
	}
	if r.err != nil {
		return s, r.err
	}
	s.certKey = line[certStart:certEnd]
	return s, nil
}

// wireReader reads the seal's text; the first mismatch sets err and every later read returns zero values.
type wireReader struct {
	b   []byte
	i   int
	err error
}

func (r *wireReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s at byte %d: %w", what, r.i, errWire)
	}
}

func (r *wireReader) try(s string) bool {
	if r.peek(s) {
		r.i += len(s)
		return true
	}
	return false
}

func (r *wireReader) peek(s string) bool { return r.err == nil && hasPrefix(r.b[r.i:], s) }

// hasPrefix is bytes.HasPrefix for a string prefix, without converting it.
func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

func (r *wireReader) lit(s string) {
	if r.err == nil && !r.try(s) {
		r.fail(fmt.Sprintf("want %.40q", s))
	}
}

// token reads up to the next '"', every byte of it in the alphabet ok.
func (r *wireReader) token(ok func(byte) bool) string { return string(r.tokenBytes(ok)) }

// tokenBytes is token without the copy: the value's bytes in the line.
func (r *wireReader) tokenBytes(ok func(byte) bool) []byte {
	if r.err != nil {
		return nil
	}
	start := r.i
	for r.i < len(r.b) && r.b[r.i] != '"' {
		if !ok(r.b[r.i]) {
			r.fail("unexpected character in a seal value")
			return nil
		}
		r.i++
	}
	return r.b[start:r.i]
}

// str reads a string attribute whose text up to the value is open.
func (r *wireReader) str(open string, ok func(byte) bool) string { return string(r.strBytes(open, ok)) }

func (r *wireReader) strBytes(open string, ok func(byte) bool) []byte {
	r.lit(open)
	v := r.tokenBytes(ok)
	r.lit(valueClose)
	return v
}

// int reads an int attribute whose text up to the value is open.
func (r *wireReader) int(open string) int64 {
	r.lit(open)
	v := r.digits()
	r.lit(valueClose)
	return v
}

// digits reads a non-negative decimal without leading zeros that fits an int64.
func (r *wireReader) digits() int64 {
	if r.err != nil {
		return 0
	}
	start := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	text := r.b[start:r.i]
	if len(text) == 0 || len(text) > 1 && text[0] == '0' {
		r.fail("not a canonical decimal")
		return 0
	}
	v, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		r.fail("decimal out of range")
		return 0
	}
	return v
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func isFingerprintChar(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ':' }

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func isAlgChar(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' }
