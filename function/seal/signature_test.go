package seal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func newTestKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDomainsSeparateWhatIsSigned(t *testing.T) {
	msg := []byte(`{"v":2}`)
	if DomainHash(DomainRecord, msg) == DomainHash(DomainCert, msg) || DomainHash(DomainCert, msg) == DomainHash(DomainDigest, msg) {
		t.Fatal("one message hashes alike in two domains")
	}
	// The 0x00 separator keeps a domain's last bytes from being moved into the message.
	if DomainHash("ab", []byte("c")) == DomainHash("a", []byte("bc")) {
		t.Fatal("domain and message boundary is ambiguous")
	}
	k := newTestKey(t)
	d := DomainHash(DomainRecord, msg)
	der, _ := ecdsa.SignASN1(rand.Reader, k, d[:])
	sig, err := EncodeSignature(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyDigest(&k.PublicKey, d, sig); err != nil {
		t.Fatalf("record signature: %v", err)
	}
	if err := VerifyDigest(&k.PublicKey, DomainHash(DomainCert, msg), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a record signature taken for a certificate signature: %v", err)
	}
}

// The attack of issue 11 point 1: anyone can turn (r, s) into (r, n−s), or change the unused bits of the last
// base64 character. Both must be refused, so a signature has exactly one accepted encoding.
func TestMalleatedSignaturesAreRefused(t *testing.T) {
	k := newTestKey(t)
	d := DomainHash(DomainRecord, []byte("line"))
	der, _ := ecdsa.SignASN1(rand.Reader, k, d[:])
	sig, err := EncodeSignature(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyDigest(&k.PublicKey, d, sig); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(sig)
	var rs ecdsaSig
	if _, err := asn1.Unmarshal(raw, &rs); err != nil {
		t.Fatal(err)
	}
	if rs.S.Cmp(halfOrder) > 0 {
		t.Fatal("EncodeSignature left a high S")
	}
	twin, _ := asn1.Marshal(ecdsaSig{rs.R, new(big.Int).Sub(p256Order, rs.S)})
	if !ecdsa.VerifyASN1(&k.PublicKey, d[:], twin) {
		t.Fatal("the high-S twin should verify for the raw ECDSA check, or this test proves nothing")
	}
	if err := VerifyDigest(&k.PublicKey, d, base64.RawURLEncoding.EncodeToString(twin)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("high-S twin accepted: %v", err)
	}
	// DER is 70..72 bytes: its base64 ends in a character carrying unused bits whenever len%3 != 0.
	if len(raw)%3 != 0 {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, sig[len(sig)-1])
		other := sig[:len(sig)-1] + string(alphabet[last^1])
		if lax, err := base64.RawURLEncoding.DecodeString(other); err != nil || string(lax) != string(raw) {
			t.Fatalf("the lax decoder should read the variant as the same bytes (got %v), or this test proves nothing", err)
		}
		if err := VerifyDigest(&k.PublicKey, d, other); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("non-canonical base64 accepted: %v", err)
		}
	}
	for name, bad := range map[string]string{
		"padding":       sig + "=",
		"standard b64":  base64.RawStdEncoding.EncodeToString(append(raw, 0xff)),
		"trailing data": base64.RawURLEncoding.EncodeToString(append(raw, 0)),
		"empty":         "",
	} {
		if _, err := DecodeSignature(bad); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: DecodeSignature = %v, want ErrBadSignature", name, err)
		}
	}
}

func TestEncodeSignatureNormalisesHighS(t *testing.T) {
	k := newTestKey(t)
	d := DomainHash(DomainCert, []byte("c"))
	for range 32 { // about half of all signatures come out high-S
		der, _ := ecdsa.SignASN1(rand.Reader, k, d[:])
		sig, err := EncodeSignature(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyDigest(&k.PublicKey, d, sig); err != nil {
			t.Fatalf("normalised signature does not verify: %v", err)
		}
	}
	if _, err := EncodeSignature([]byte("not der")); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("EncodeSignature(garbage) = %v", err)
	}
}

func TestFingerprintNamesTheKey(t *testing.T) {
	a, b := newTestKey(t), newTestKey(t)
	fa, err := Fingerprint(&a.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	fb, _ := Fingerprint(&b.PublicKey)
	if fa == fb || !strings.HasPrefix(fa, "sha256:") || len(fa) != len("sha256:")+64 {
		t.Fatalf("fingerprints %s, %s", fa, fb)
	}
	if id, _ := LocalKeyID(&a.PublicKey); id != "local:"+fa {
		t.Fatalf("LocalKeyID %s is not local:+Fingerprint %s", id, fa)
	}
}
