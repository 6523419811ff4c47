package seal

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// legacyChain seals n records in seal format 1, exactly as the Sealer did before format 2: the six attributes
// appended to the first resource, the signature over SHA-256 of the line with its value blanked, prev the
// SHA-256 of the previous whole line. keyID is what the records name (a KMS ARN or local:sha256:…).
func legacyChain(t *testing.T, key *ecdsa.PrivateKey, keyID string, n int) [][]byte {
	t.Helper()
	chain, prev := "00112233445566778899aabbccddeeff", ""
	var lines [][]byte
	for i := range n {
		td := RecordForTest(fmt.Sprintf("prompt %d", i))
		attrs := td.ResourceSpans().At(0).Resource().Attributes()
		attrs.PutStr(AttrChain, chain)
		attrs.PutInt(AttrSeq, int64(i+1))
		attrs.PutStr(AttrPrev, prev)
		attrs.PutStr(AttrKey, keyID)
		attrs.PutStr(AttrAlg, AlgorithmP256)
		attrs.PutStr(AttrSig, "")
		line := LineForTest(t, td)
		digest := sha256.Sum256(line)
		der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		line = []byte(strings.Replace(string(line), sigField+`"}}`, sigField+base64.RawURLEncoding.EncodeToString(der)+`"}}`, 1))
		sum := sha256.Sum256(line)
		prev = hex.EncodeToString(sum[:])
		lines = append(lines, line)
	}
	return lines
}

func checkAll(t *testing.T, v *Verifier, lines [][]byte) Report {
	t.Helper()
	var c Chains
	for i, l := range lines {
		r, err := v.Verify(l)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		c.Add(r, fmt.Sprint("line ", i))
	}
	return c.Check(false)
}

func TestFormat1RecordsStillVerifyAsALegacySeal(t *testing.T) {
	k := newTestKey(t)
	localID, _ := LocalKeyID(&k.PublicKey)
	lines := legacyChain(t, k, localID, 3)
	v := NewVerifier(&newTestKey(t).PublicKey, &k.PublicKey)
	r, err := v.Verify(lines[1])
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := Fingerprint(&k.PublicKey)
	if r.Version != 1 || r.Seq != 2 || r.KeyFingerprint != fp || r.Issuer != localID || !r.Certified {
		t.Fatalf("format-1 record: %+v", r)
	}
	rep := checkAll(t, v, lines)
	if len(rep.Problems) != 0 || len(rep.Notices) != 1 || !strings.Contains(rep.Notices[0].What, "legacy seal: 3 records in seal format 1") {
		t.Fatalf("problems %v, notices %v", rep.Problems, rep.Notices)
	}
}

func TestAFormat1RecordIsVerifiedOnlyByTheKeyItNames(t *testing.T) {
	prod, dev := newTestKey(t), newTestKey(t)
	prodID, _ := LocalKeyID(&prod.PublicKey)
	devID, _ := LocalKeyID(&dev.PublicKey)
	both := NewVerifier(&prod.PublicKey, &dev.PublicKey)
	// Issue 11 point 2 in format 1: signed by the second accepted key, naming the production key.
	forged := legacyChain(t, dev, prodID, 1)[0]
	if _, err := both.Verify(forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a record signed by another accepted key verified as the key it names: %v", err)
	}
	if _, err := NewVerifier(&prod.PublicKey).Verify(legacyChain(t, dev, devID, 1)[0]); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), strings.TrimPrefix(devID, "local:")) {
		t.Fatalf("a record of a key not passed: %v", err)
	}
	const arn = "arn:aws:kms:eu-west-1:123456789012:key/0b6b8ff6-8ad5-4a1d-9c47-4d5c2d1f1e8a"
	kmsSigned := legacyChain(t, prod, arn, 1)[0]
	if _, err := NewVerifier(&prod.PublicKey).Verify(kmsSigned); err != nil {
		t.Fatalf("with the one key passed, a KMS-named record verifies: %v", err)
	}
	if _, err := both.Verify(kmsSigned); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("with two keys and no binding, a KMS-named record must not be tried against each: %v", err)
	}
	bound := NewVerifier(&dev.PublicKey)
	if err := bound.AcceptLegacyKeyID(arn, &prod.PublicKey); err != nil {
		t.Fatal(err)
	}
	if _, err := bound.Verify(kmsSigned); err != nil {
		t.Fatalf("bound to its ARN: %v", err)
	}
	if _, err := bound.Verify(legacyChain(t, dev, arn, 1)[0]); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("signed by the other key while naming the bound ARN: %v", err)
	}
}
