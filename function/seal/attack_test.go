package seal

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

// forgery builds format-2 records with any keys, as an attacker holding them would.
type forgery struct {
	recordKey crypto.PrivateKey // signs the record: an ed25519.PrivateKey or an *ecdsa.PrivateKey
	certified crypto.PublicKey  // the key the certificate certifies
	cert      Certificate
	// certSig signs the certificate's bytes ("" for an uncertified record).
	certSig func(raw []byte) string
	fields  sealFields
}

func (g forgery) line(t *testing.T, content string) []byte {
	t.Helper()
	raw, err := marshalCert(g.cert, g.certified)
	if err != nil {
		t.Fatal(err)
	}
	f := g.fields
	f.cert = base64.RawURLEncoding.EncodeToString(raw)
	if g.certSig != nil {
		f.certSig = g.certSig(raw)
	}
	plain := LineForTest(t, RecordForTest(content))
	ins, err := findInsertion(plain)
	if err != nil {
		t.Fatal(err)
	}
	head := appendSeal(nil, &f)
	digest := domainHashParts(DomainRecord, plain[:ins.at], head, []byte(ins.close), plain[ins.at:])
	sig := signRecord(t, g.recordKey, digest)
	return bytes.Join([][]byte{plain[:ins.at], head, []byte(sig), []byte(ins.close), plain[ins.at:]}, nil)
}

// signRecord signs a record's digest as a chain key of k's kind does: Ed25519, or (older chains) ECDSA P-256.
func signRecord(t *testing.T, k crypto.PrivateKey, d [32]byte) string {
	t.Helper()
	switch k := k.(type) {
	case ed25519.PrivateKey:
		return base64.RawURLEncoding.EncodeToString(ed25519.Sign(k, d[:]))
	case *ecdsa.PrivateKey:
		return signDigest(t, k, d)
	}
	t.Fatalf("no record signature with a %T", k)
	return ""
}

func signDigest(t *testing.T, k *ecdsa.PrivateKey, d [32]byte) string {
	t.Helper()
	der, err := ecdsa.SignASN1(rand.Reader, k, d[:])
	if err != nil {
		t.Fatal(err)
	}
	s, err := EncodeSignature(der)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// honest is a correctly certified record of issuer's: the chain's Ed25519 key signs, issuer certifies.
func honest(t *testing.T, issuer *ecdsa.PrivateKey, issuerID string) forgery {
	t.Helper()
	pub, chainKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return honestWith(t, issuer, issuerID, chainKey, pub, Algorithm)
}

// honestP256 is honest with a P-256 chain key, as chains were sealed before chain keys were Ed25519.
func honestP256(t *testing.T, issuer *ecdsa.PrivateKey, issuerID string) forgery {
	t.Helper()
	chainKey := newTestKey(t)
	return honestWith(t, issuer, issuerID, chainKey, &chainKey.PublicKey, AlgorithmP256)
}

func honestWith(t *testing.T, issuer *ecdsa.PrivateKey, issuerID string, chainKey crypto.PrivateKey, pub crypto.PublicKey, alg string) forgery {
	t.Helper()
	fp, _ := Fingerprint(pub)
	ifp, _ := Fingerprint(&issuer.PublicKey)
	now := time.Now().UTC().Truncate(time.Second)
	return forgery{
		recordKey: chainKey, certified: pub,
		cert: Certificate{Chain: "00112233445566778899aabbccddeeff", Key: fp, Issuer: issuerID, IssuerKey: ifp,
			Function: "local", Version: "local", LogStream: "host/1", NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)},
		certSig: func(raw []byte) string { return signDigest(t, issuer, DomainHash(DomainCert, raw)) },
		fields:  sealFields{chain: "00112233445566778899aabbccddeeff", seq: 1, key: fp, time: now.UnixNano(), alg: alg},
	}
}

const prodARN = "arn:aws:kms:eu-west-1:123456789012:key/0b6b8ff6-8ad5-4a1d-9c47-4d5c2d1f1e8a"

// Issue 11 point 2: the key a record names is the key that must verify it. A second accepted key (a developer's
// local key) cannot produce a record that passes for the production key's.
func TestASecondAcceptedKeyCannotPassForTheProductionKey(t *testing.T) {
	prod, dev := newTestKey(t), newTestKey(t)
	devID, _ := LocalKeyID(&dev.PublicKey)
	both := NewVerifier(&prod.PublicKey, &dev.PublicKey)

	good := honest(t, prod, prodARN)
	if r, err := both.Verify(good.line(t, "x")); err != nil || !r.Certified || r.Issuer != prodARN {
		t.Fatalf("the honest production record: %+v, %v", r, err)
	}
	devRecord := honest(t, dev, devID)
	if r, err := both.Verify(devRecord.line(t, "x")); err != nil || r.Issuer != devID || r.IssuerKey == good.cert.IssuerKey {
		t.Fatalf("the developer's own record must verify under its own name: %+v, %v", r, err)
	}

	t.Run("a certificate naming the production key, signed by the developer's", func(t *testing.T) {
		g := honest(t, dev, prodARN)
		g.cert.IssuerKey = good.cert.IssuerKey
		if _, err := both.Verify(g.line(t, "x")); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("verified as the production key's: %v", err)
		}
	})
	t.Run("the production certificate, with a record the developer's key signed", func(t *testing.T) {
		g := good
		g.recordKey = dev
		if _, err := both.Verify(g.line(t, "x")); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("verified under the production certificate: %v", err)
		}
	})
	t.Run("the production certificate, naming another key than it certifies", func(t *testing.T) {
		g := good
		g.recordKey = dev
		g.fields.key, _ = Fingerprint(&dev.PublicKey)
		if _, err := both.Verify(g.line(t, "x")); !errors.Is(err, ErrCertificate) {
			t.Fatalf("a record naming key %s under a certificate of key %s: %v", g.fields.key, g.cert.Key, err)
		}
	})
	t.Run("a certificate issued by a key not passed is an unknown key, not a bad signature", func(t *testing.T) {
		_, err := NewVerifier(&dev.PublicKey).Verify(good.line(t, "x"))
		if !errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), good.cert.IssuerKey) {
			t.Fatalf("error %v: want ErrUnknownKey naming %s", err, good.cert.IssuerKey)
		}
	})
}

// Domain separation: a signature the issuer made over the certificate's bytes in any other domain, or over their
// plain SHA-256 as format 1 signed records, is not a certificate signature.
func TestASignatureOfAnotherDomainIsNoCertificateSignature(t *testing.T) {
	issuer := newTestKey(t)
	v := NewVerifier(&issuer.PublicKey)
	for name, hash := range map[string]func([]byte) [32]byte{
		"a record signature":               func(raw []byte) [32]byte { return DomainHash(DomainRecord, raw) },
		"a digest signature":               func(raw []byte) [32]byte { return DomainHash(DomainDigest, raw) },
		"a format-1 signature (no domain)": func(raw []byte) [32]byte { return sha256.Sum256(raw) },
	} {
		t.Run(name, func(t *testing.T) {
			g := honest(t, issuer, "local:issuer")
			g.certSig = func(raw []byte) string { return signDigest(t, issuer, hash(raw)) }
			if _, err := v.Verify(g.line(t, "x")); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("accepted as the certificate's signature: %v", err)
			}
		})
	}
	t.Run("the certificate domain itself verifies", func(t *testing.T) {
		if r, err := v.Verify(honest(t, issuer, "local:issuer").line(t, "x")); err != nil || !r.Certified {
			t.Fatalf("%+v, %v", r, err)
		}
	})
	t.Run("a record signature over the same line in the certificate domain", func(t *testing.T) {
		g := honest(t, issuer, "local:issuer")
		l := g.line(t, "x")
		s, _ := parseSeal(l)
		swapped := signRecord(t, g.recordKey, domainHashParts(DomainCert, l[:s.sigStart], l[s.sigEnd:]))
		l = append(append(append([]byte{}, l[:s.sigStart]...), swapped...), l[s.sigEnd:]...)
		if _, err := v.Verify(l); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("accepted a record signature made in the certificate domain: %v", err)
		}
	})
}

// Issue 11 point 1: anyone holding the trail can try to rewrite a record's signature without the key: for
// Ed25519, S plus the group order ℓ (which a verifier reducing S mod ℓ accepts) or a flipped bit of R; for any
// encoding, the unused bits of its last base64 character, another base64 alphabet, a pad. The record is refused,
// and since the next record's link covers the signed hash, which the signature does not enter, the next record
// still links to it: the chain does not report a replaced record.
func TestAMalleatedRecordSignatureIsRefusedAndTheNextLinkHolds(t *testing.T) {
	k := newTestKey(t)
	fs, _ := NewFileSigner(k)
	s, err := NewSealer(fs, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var lines [][]byte
	for _, c := range []string{"a", "b", "c"} {
		l, _, err := s.Seal(context.Background(), LineForTest(t, RecordForTest(c)))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	v := NewVerifier(&k.PublicKey)
	genuine, err := v.Verify(lines[1])
	if err != nil {
		t.Fatal(err)
	}
	next, _ := v.Verify(lines[2])
	sealed, _ := parseSeal(lines[1])
	if sealed.alg != Algorithm {
		t.Fatalf("a Sealer's record names algorithm %q, want %s", sealed.alg, Algorithm)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(sealed.sig)
	plusOrder := slices.Clone(raw)
	addOrder(plusOrder[32:])
	flippedR := slices.Clone(raw)
	flippedR[0] ^= 1
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sealed.sig[len(sealed.sig)-1])
	variants := map[string]string{
		"S plus the group order":            base64.RawURLEncoding.EncodeToString(plusOrder),
		"R with a bit flipped":              base64.RawURLEncoding.EncodeToString(flippedR),
		"another final base64 character":    sealed.sig[:len(sealed.sig)-1] + string(alphabet[last^1]),
		"the signature in standard base64":  base64.RawStdEncoding.EncodeToString(raw) + "==",
		"the signature with a trailing pad": sealed.sig + "=",
	}
	for name, sig := range variants {
		t.Run(name, func(t *testing.T) {
			mal := append(append(append([]byte{}, lines[1][:sealed.sigStart]...), sig...), lines[1][sealed.sigEnd:]...)
			_, err := v.Verify(mal)
			if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("the rewritten record verified: %v", err)
			}
			// What the next record links to is the signed hash of the line with its signature blanked: the same
			// for the rewritten record as for the genuine one.
			if h := domainHashParts(DomainRecord, mal[:sealed.sigStart], mal[sealed.sigStart+len(sig):]); hex.EncodeToString(h[:]) != next.Prev || next.Prev != genuine.Hash {
				t.Fatal("the next record's link depends on the signature's bytes")
			}
			// Checked as a chain, the refused record is one finding at its own position; seq 3 is not blamed.
			var c Chains
			for _, l := range [][]byte{lines[0], lines[2]} {
				r, _ := v.Verify(l)
				c.Add(r, "")
			}
			for _, p := range c.Check(false).Problems {
				if p.Seq != 2 {
					t.Errorf("a rewritten signature of record 2 is reported at seq %d: %s", p.Seq, p)
				}
			}
		})
	}
	// S + ℓ is the same signature to a verifier that reduces S mod ℓ; only the canonical-S check refuses it.
	if leInt(plusOrder[32:]).Cmp(ed25519Order) < 0 || leInt(raw[32:]).Cmp(ed25519Order) >= 0 {
		t.Fatal("S plus the group order must be out of range, or this test proves nothing")
	}

	// A chain sealed with a P-256 chain key (before chain keys were Ed25519) is checked by the same strict rules:
	// its (r, n−s) twin, which plain ECDSA accepts, is refused.
	g := honestP256(t, k, "local:issuer")
	line := g.line(t, "x")
	if _, err := v.Verify(line); err != nil {
		t.Fatalf("the P-256 chain's honest record: %v", err)
	}
	ps, _ := parseSeal(line)
	der, _ := base64.RawURLEncoding.DecodeString(ps.sig)
	var rs ecdsaSig
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		t.Fatal(err)
	}
	twinDER, _ := asn1.Marshal(ecdsaSig{rs.R, new(big.Int).Sub(p256Order, rs.S)})
	twin := append(append(append([]byte{}, line[:ps.sigStart]...), base64.RawURLEncoding.EncodeToString(twinDER)...), line[ps.sigEnd:]...)
	if _, err := v.Verify(twin); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("the P-256 twin verified: %v", err)
	}
	digest := domainHashParts(DomainRecord, line[:ps.sigStart], line[ps.sigEnd:])
	if !ecdsa.VerifyASN1(g.certified.(*ecdsa.PublicKey), digest[:], twinDER) {
		t.Fatal("the twin must verify under plain ECDSA, or this test proves nothing")
	}

	// The same attack on format 1, kept as a legacy seal: the twin verifies there and the next record is blamed.
	localID, _ := LocalKeyID(&k.PublicKey)
	legacy := legacyChain(t, k, localID, 3)
	ls := bytes.Index(legacy[1], []byte(sigField)) + len(sigField)
	le := ls + bytes.IndexByte(legacy[1][ls:], '"')
	lraw, _ := base64.RawURLEncoding.DecodeString(string(legacy[1][ls:le]))
	asn1.Unmarshal(lraw, &rs)
	ltwin, _ := asn1.Marshal(ecdsaSig{rs.R, new(big.Int).Sub(p256Order, rs.S)})
	legacy[1] = append(append(append([]byte{}, legacy[1][:ls]...), base64.RawURLEncoding.EncodeToString(ltwin)...), legacy[1][le:]...)
	lv := NewVerifier(&k.PublicKey)
	if got := checkAll(t, lv, legacy).Problems; len(got) != 1 || got[0].Seq != 3 || !strings.Contains(got[0].What, "previous-record hash does not match") {
		t.Fatalf("format 1 is expected to stay malleable (and be reported as legacy): %v", got)
	}
}

// ed25519Order is ℓ, the order of Ed25519's base point: 2^252 + 27742317777372353535851937790883648493.
var ed25519Order, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// leInt reads a little-endian integer, as Ed25519 encodes S.
func leInt(le []byte) *big.Int {
	be := slices.Clone(le)
	slices.Reverse(be)
	return new(big.Int).SetBytes(be)
}

// addOrder adds ℓ to the 32-byte little-endian S in place (S < ℓ < 2^253, so the sum still fits).
func addOrder(le []byte) {
	sum := new(big.Int).Add(leInt(le), ed25519Order).FillBytes(make([]byte, 32))
	slices.Reverse(sum)
	copy(le, sum)
}

func TestTheCertificateWindowMustHoldTheSealTime(t *testing.T) {
	issuer := newTestKey(t)
	v := NewVerifier(&issuer.PublicKey)
	cases := []struct {
		name string
		at   func(c Certificate) time.Time
		ok   bool
	}{
		{"at not_before", func(c Certificate) time.Time { return c.NotBefore }, true},
		{"within the grace after not_after", func(c Certificate) time.Time { return c.NotAfter.Add(CertGrace - time.Second) }, true},
		{"before not_before", func(c Certificate) time.Time { return c.NotBefore.Add(-time.Second) }, false},
		{"after the grace", func(c Certificate) time.Time { return c.NotAfter.Add(CertGrace + time.Second) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := honest(t, issuer, "local:issuer")
			g.fields.time = c.at(g.cert).UnixNano()
			_, err := v.Verify(g.line(t, "x"))
			if c.ok != (err == nil) || !c.ok && !errors.Is(err, ErrCertificate) {
				t.Fatalf("error %v", err)
			}
		})
	}
	t.Run("a certificate of another chain", func(t *testing.T) {
		g := honest(t, issuer, "local:issuer")
		g.cert.Chain = "ffeeddccbbaa99887766554433221100"
		if _, err := v.Verify(g.line(t, "x")); !errors.Is(err, ErrCertificate) || !strings.Contains(err.Error(), "certifies chain ffee") {
			t.Fatalf("error %v", err)
		}
	})
}

func TestACertificateHasOneEncoding(t *testing.T) {
	issuer := newTestKey(t)
	g := honest(t, issuer, "local:issuer")
	raw, _ := marshalCert(g.cert, g.certified)
	for name, mod := range map[string][]byte{
		"whitespace":            bytes.Replace(raw, []byte(`,"type"`), []byte(`, "type"`), 1),
		"an unknown field":      bytes.Replace(raw, []byte(`{"v":2,`), []byte(`{"v":2,"x":1,`), 1),
		"another type":          bytes.Replace(raw, []byte(certType), []byte("agent-audit.digest"), 1),
		"a repeated field":      bytes.Replace(raw, []byte(`{"v":2,`), []byte(`{"v":2,"v":2,`), 1),
		"a window ending first": bytes.Replace(raw, []byte(`"not_before":"`), []byte(`"not_before":"2999`), 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := parseCert(base64.RawURLEncoding.EncodeToString(mod)); !errors.Is(err, errCertForm) {
				t.Fatalf("parsed: %v", err)
			}
		})
	}
	if _, _, _, err := parseCert(base64.RawURLEncoding.EncodeToString(raw)); err != nil {
		t.Fatal(err)
	}
}

// longIssuer names its key with the longest key id allowed.
type longIssuer struct{ *FileSigner }

func (longIssuer) KeyID() string {
	return "arn:aws:kms:" + strings.Repeat("k", MaxKeyIDBytes-len("arn:aws:kms:"))
}

func TestTheSealStaysWithinItsOverhead(t *testing.T) {
	fs, _ := NewFileSigner(newTestKey(t))
	long := strings.Repeat("s", MaxSubjectBytes+50)
	s, err := NewSealer(longIssuer{fs}, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		WithSubject(func() Subject { return Subject{Function: long, Version: long, LogStream: long} }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.seq = math.MaxInt64 - 2*MaxUndelivered
	s.prev = strings.Repeat("f", 64)
	for i := range int64(MaxUndelivered) {
		s.pending = append(s.pending, math.MaxInt64-3*MaxUndelivered+i)
	}
	for range 2 { // uncertified, then certified
		plain := LineForTest(t, RecordForTest("x"))
		out, _, err := s.Seal(context.Background(), plain)
		if err != nil {
			t.Fatal(err)
		}
		n := len(out) - len(plain)
		t.Logf("worst-case seal: %d bytes", n)
		if n > Overhead || n < Overhead/2 {
			t.Fatalf("the worst-case seal adds %d bytes; Overhead is %d", n, Overhead)
		}
		r, err := NewVerifier(&fs.key.PublicKey).Verify(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Cert.Function) != MaxSubjectBytes {
			t.Fatalf("subject field of %d bytes", len(r.Cert.Function))
		}
		<-s.cur.certified
	}
}
