package digest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
)

// testKey is a fresh local signing key, its signer and its fingerprint.
func testKey(t testing.TB) (*ecdsa.PrivateKey, *seal.FileSigner, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.NewFileSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := seal.Fingerprint(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, s, fp
}

func sampleDigest(fp string) *Digest {
	end := time.Date(2026, 11, 1, 20, 15, 0, 0, time.UTC)
	return &Digest{V: Version, Type: Type, Root: "s3://audit", Seq: 7, PeriodStart: end.Add(-5 * time.Minute), PeriodEnd: end,
		PeriodSeconds: 300, ListedBefore: end.Add(-time.Minute), WrittenAt: end.Add(2 * time.Minute),
		Prev: strings.Repeat("ab", 32), PrevKey: KeyFor(end.Add(-5 * time.Minute)),
		Objects: []Entry{{Key: "traces/year=2026/month=11/day=01/hour=20/x.gz", VersionID: "v1", Size: 12, ETag: "e", LastModified: end.Add(-3 * time.Minute)}},
		Issuer:  "local:" + fp, Key: fp, Alg: Alg}
}

func TestADigestRoundTripsAndVerifiesUnderTheKeyItNames(t *testing.T) {
	k, signer, fp := testKey(t)
	d := sampleDigest(fp)
	body, hash, err := d.marshal(context.Background(), signer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(body, []byte(`,"sig":"`+d.Sig+"\"}\n")) {
		t.Fatalf("sig is not the last field: %s", body)
	}
	got, gotHash, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	blanked := bytes.Replace(body, []byte(`"sig":"`+d.Sig+`"`), []byte(`"sig":""`), 1)
	if gotHash != hash || gotHash != seal.DomainHash(seal.DomainDigest, blanked) {
		t.Fatal("the signed hash is not DomainHash(DomainDigest, the file with sig blanked)")
	}
	if got.Seq != 7 || !got.PeriodEnd.Equal(d.PeriodEnd) || len(got.Objects) != 1 || got.Objects[0].VersionID != "v1" {
		t.Fatalf("parsed %+v", got)
	}
	keys := map[string]*ecdsa.PublicKey{fp: &k.PublicKey}
	if err := got.Verify(gotHash, keys); err != nil {
		t.Fatalf("verify: %v", err)
	}

	empty := sampleDigest(fp)
	empty.Objects = nil
	body, _, _ = empty.marshal(context.Background(), signer)
	if !bytes.Contains(body, []byte(`"objects":[]`)) {
		t.Fatalf("an empty period must list objects as []: %s", body)
	}
}

func TestVerifyRefusesChangedDigestsTwinSignaturesAndOtherKeys(t *testing.T) {
	k, signer, fp := testKey(t)
	other, _, otherFP := testKey(t)
	d := sampleDigest(fp)
	body, _, err := d.marshal(context.Background(), signer)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := base64.RawURLEncoding.DecodeString(d.Sig)
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		t.Fatal(err)
	}
	sig.S.Sub(elliptic.P256().Params().N, sig.S) // the (r, n−s) twin verifies under plain ECDSA
	twinDER, _ := asn1.Marshal(sig)
	twin := bytes.Replace(body, []byte(d.Sig), []byte(base64.RawURLEncoding.EncodeToString(twinDER)), 1)

	tests := []struct {
		name string
		body []byte
		keys map[string]*ecdsa.PublicKey
		want error
	}{
		{"a changed object size", bytes.Replace(body, []byte(`"size":12`), []byte(`"size":13`), 1), map[string]*ecdsa.PublicKey{fp: &k.PublicKey}, seal.ErrBadSignature},
		{"the high-S twin of its signature", twin, map[string]*ecdsa.PublicKey{fp: &k.PublicKey}, seal.ErrBadSignature},
		{"a key it does not name, though accepted", body, map[string]*ecdsa.PublicKey{otherFP: &other.PublicKey}, seal.ErrUnknownKey},
		{"its fingerprint bound to another key", body, map[string]*ecdsa.PublicKey{fp: &other.PublicKey}, seal.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, hash, err := Parse(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Verify(hash, tt.keys); !errors.Is(err, tt.want) {
				t.Fatalf("verify: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseRefusesWhatAWriterDoesNotWrite(t *testing.T) {
	_, signer, fp := testKey(t)
	body, _, err := sampleDigest(fp).marshal(context.Background(), signer)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, body string }{
		{"no final newline", strings.TrimSuffix(string(body), "\n")},
		{"sig not last", sigNotLast(string(body))},
		{"an unknown field", strings.Replace(string(body), `"root":`, `"extra":1,"root":`, 1)},
		{"another version", strings.Replace(string(body), `"v":1`, `"v":2`, 1)},
		{"another type", strings.Replace(string(body), Type, "agent-audit.other", 1)},
		{"a period that ends before it starts", strings.Replace(string(body), `"period_start":"2026-11-01T20:10:00Z"`, `"period_start":"2026-11-01T20:20:00Z"`, 1)},
		{"a second JSON value", string(body) + "{}\n"},
		{"not JSON", "sig\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Parse([]byte(tt.body)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse: %v, want ErrMalformed", err)
			}
		})
	}
}

func TestDigestKeysNameThePeriodEnd(t *testing.T) {
	end := time.Date(2026, 1, 2, 3, 45, 0, 0, time.FixedZone("CET", 3600))
	key := KeyFor(end)
	if key != "digests/year=2026/month=01/day=02/hour=02/20260102T024500Z.json" {
		t.Fatalf("KeyFor: %s", key)
	}
	if got, ok := periodEndOfKey(key); !ok || !got.Equal(end) {
		t.Fatalf("periodEndOfKey(%s) = %s, %v", key, got, ok)
	}
	for _, bad := range []string{"digests/x.json", "digests/year=2026/month=01/day=02/hour=03/20260102T024500Z.json", "digests/year=2026/month=01/day=02/hour=02/20260102T024500Z.json.bak"} {
		if _, ok := periodEndOfKey(bad); ok {
			t.Errorf("periodEndOfKey accepts %s", bad)
		}
	}
}

// sigNotLast moves the alg field after sig.
func sigNotLast(body string) string {
	i := strings.Index(body, `,"alg":`)
	j := strings.Index(body, `,"sig":`)
	return body[:i] + body[j:len(body)-2] + body[i:j] + "}\n"
}
