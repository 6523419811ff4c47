package digest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// Format constants of a digest file.
const (
	// Version is the digest format version, the "v" field.
	Version = 1
	// Type is the "type" field of every digest.
	Type = "agent-audit.digest"
	// Alg is the signature algorithm, the "alg" field: ECDSA P-256 over SHA-256(seal.DomainDigest || 0 || file).
	Alg = "ECDSA_P256_SHA256"
	// Prefix is where digests are stored in an audit root.
	Prefix = "digests/"
)

// listedPrefixes are the prefixes whose object versions digests list: the record objects and oversize content.
var listedPrefixes = []string{"traces/", "oversize/"}

// Entry is one object version a digest lists, as the store reported it when the digest was written.
type Entry struct {
	Key string `json:"key"`
	// VersionID is the S3 version id; "" on a local root.
	VersionID string `json:"version_id"`
	Size      int64  `json:"size"`
	ETag      string `json:"etag"`
	// SHA256 is the hex SHA-256 of the stored bytes when the store knew it; "".
	SHA256       string    `json:"sha256"`
	LastModified time.Time `json:"last_modified"`
}

// Digest is one digest file. Field order is the file's field order; Sig is last, and the signed message is the
// file with Sig's value blanked.
type Digest struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	// Root names the audit root the writer wrote to (s3://bucket or a directory); informational.
	Root string `json:"root"`
	// Seq is the digest's position in its chain, from 1.
	Seq int64 `json:"seq"`
	// PeriodStart is the previous digest's PeriodEnd (the first digest of a chain: one period before its end).
	PeriodStart time.Time `json:"period_start"`
	// PeriodEnd names the digest's key; periodic digests end on a multiple of the period.
	PeriodEnd time.Time `json:"period_end"`
	// PeriodSeconds is the writer's period; 0 for a period closed at a call (WriteNow), which has no schedule.
	PeriodSeconds int64 `json:"period_seconds"`
	// ListedBefore is the listing's cutoff: the digest lists every version with LastModified before it that the
	// listing saw and no earlier digest listed (PeriodEnd minus the settle time, or the moment of a WriteNow).
	ListedBefore time.Time `json:"listed_before"`
	WrittenAt    time.Time `json:"written_at"`
	// Prev is the hex signed hash of the previous digest ("" for the first of a chain); PrevKey its key.
	Prev    string  `json:"prev"`
	PrevKey string  `json:"prev_key"`
	Objects []Entry `json:"objects"`
	// Issuer names the signing key as the signer does (a KMS key ARN, or local:sha256:…); informational.
	Issuer string `json:"issuer"`
	// Key is the fingerprint (seal.Fingerprint) of the public key that verifies Sig: it selects the key.
	Key string `json:"key"`
	Alg string `json:"alg"`
	Sig string `json:"sig"`
}

// ErrMalformed is wrapped by Parse's errors: the bytes are not a digest file of this format.
var ErrMalformed = errors.New("malformed digest")

// sigField opens the last field; the file ends with its value and sigTail.
const (
	sigField = `,"sig":"`
	sigTail  = "\"}\n"
)

// keyTime is the time layout of a digest's file name: its PeriodEnd, UTC, to the second.
const keyTime = "20060102T150405Z"

// KeyFor returns the key of the digest whose period ends at end:
// digests/year=YYYY/month=MM/day=DD/hour=HH/<end as 20060102T150405Z>.json.
func KeyFor(end time.Time) string {
	end = end.UTC()
	return Prefix + hourDir(end) + "/" + end.Format(keyTime) + ".json"
}

// periodEndOfKey returns the period end a digest key names, or false for a key that is not a digest key.
func periodEndOfKey(key string) (time.Time, bool) {
	name, ok := strings.CutSuffix(key[strings.LastIndexByte(key, '/')+1:], ".json")
	if !ok {
		return time.Time{}, false
	}
	end, err := time.Parse(keyTime, name)
	if err != nil || KeyFor(end) != key {
		return time.Time{}, false
	}
	return end, true
}

// hourDir is the hour partition of t as Firehose names it: year=YYYY/month=MM/day=DD/hour=HH.
func hourDir(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("year=%04d/month=%02d/day=%02d/hour=%02d", t.Year(), t.Month(), t.Day(), t.Hour())
}

// Parse reads a digest file and returns it with its signed hash (seal.DomainHash(seal.DomainDigest, file with
// the sig value blanked)), the value the next digest's Prev names. It checks the form only, not the signature
// (see Verify). Errors wrap ErrMalformed.
func Parse(data []byte) (*Digest, [32]byte, error) {
	unsigned, sig, err := blank(data)
	if err != nil {
		return nil, [32]byte{}, err
	}
	var d Digest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a v1 file has exactly these fields; anything else was not written by a v1 writer
	if err := dec.Decode(&d); err != nil {
		return nil, [32]byte{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, [32]byte{}, fmt.Errorf("%w: data after the JSON object", ErrMalformed)
	}
	switch {
	case d.Sig != sig:
		return nil, [32]byte{}, fmt.Errorf("%w: the last field is not the signature", ErrMalformed)
	case d.V != Version || d.Type != Type:
		return nil, [32]byte{}, fmt.Errorf("%w: v %d type %q, want v %d type %q", ErrMalformed, d.V, d.Type, Version, Type)
	case d.Seq < 1 || !d.PeriodStart.Before(d.PeriodEnd):
		return nil, [32]byte{}, fmt.Errorf("%w: seq %d, period %s to %s", ErrMalformed, d.Seq, d.PeriodStart.Format(time.RFC3339), d.PeriodEnd.Format(time.RFC3339))
	}
	return &d, seal.DomainHash(seal.DomainDigest, unsigned), nil
}

// blank returns data with the sig value removed, and that value. The file must end with `,"sig":"<value>"}` and
// a newline, as Marshal writes it; a JSON string cannot hold an unescaped quote, so the last `,"sig":"` of a
// well-formed file is the sig field's.
func blank(data []byte) ([]byte, string, error) {
	if !bytes.HasSuffix(data, []byte(sigTail)) {
		return nil, "", fmt.Errorf("%w: does not end with the sig field", ErrMalformed)
	}
	i := bytes.LastIndex(data, []byte(sigField))
	if i < 0 {
		return nil, "", fmt.Errorf("%w: no sig field", ErrMalformed)
	}
	start, end := i+len(sigField), len(data)-len(sigTail)
	if end < start {
		return nil, "", fmt.Errorf("%w: no sig field", ErrMalformed)
	}
	sig := string(data[start:end])
	if strings.ContainsAny(sig, "\"\\") {
		return nil, "", fmt.Errorf("%w: sig value is not base64url", ErrMalformed)
	}
	unsigned := make([]byte, 0, len(data)-len(sig))
	return append(append(unsigned, data[:start]...), data[end:]...), sig, nil
}

// Verify checks d's signature over hash (as Parse returned it) under the key d names, selected from keys by
// fingerprint, never by trying every key. It returns nil, an error wrapping seal.ErrUnknownKey when that key is
// not in keys, or one wrapping seal.ErrBadSignature.
func (d *Digest) Verify(hash [32]byte, keys map[string]*ecdsa.PublicKey) error {
	pub, ok := keys[d.Key]
	if !ok {
		return fmt.Errorf("signed by key %s, which was not passed: %w", d.Key, seal.ErrUnknownKey)
	}
	if d.Alg != Alg {
		return fmt.Errorf("alg %q, want %s: %w", d.Alg, Alg, seal.ErrBadSignature)
	}
	if err := seal.VerifyDigest(pub, hash, d.Sig); err != nil {
		return fmt.Errorf("signature does not verify under key %s: %w", d.Key, err)
	}
	return nil
}

// marshal signs d with issuer and returns the file's bytes and signed hash. d.Sig is set.
func (d *Digest) marshal(ctx context.Context, issuer seal.Signer) ([]byte, [32]byte, error) {
	d.Sig = ""
	if d.Objects == nil {
		d.Objects = []Entry{} // "objects":[] for an empty period, never null
	}
	unsigned, err := json.Marshal(d)
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("encode digest: %w", err)
	}
	unsigned = append(unsigned, '\n')
	hash := seal.DomainHash(seal.DomainDigest, unsigned)
	der, err := issuer.Sign(ctx, hash[:])
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("sign digest: %w", err)
	}
	if d.Sig, err = seal.EncodeSignature(der); err != nil {
		return nil, [32]byte{}, fmt.Errorf("sign digest: %w", err)
	}
	body, err := json.Marshal(d)
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("encode digest: %w", err)
	}
	return append(body, '\n'), hash, nil
}

// entryOf is the entry of a stored version.
func entryOf(o trail.Object) Entry {
	return Entry{Key: o.Key, VersionID: o.VersionID, Size: o.Size, ETag: o.ETag, SHA256: o.SHA256, LastModified: o.LastModified.UTC()}
}
