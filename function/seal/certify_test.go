package seal_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
)

func TestConcurrentSealersShareOneCertificationAndOneChain(t *testing.T) {
	k := newKey(t)
	iss := newIssuer(t, k)
	s := newSealer(t, iss)
	var mu sync.Mutex
	var lines [][]byte
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ls := sealN(t, s, 25)
			mu.Lock()
			lines = append(lines, ls...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if rep := check(t, seal.NewVerifier(&k.PublicKey), lines, false); len(rep.Problems) != 0 || rep.Records != 200 {
		t.Fatalf("problems %q, %d records", problems(rep), rep.Records)
	}
	if iss.Signs() != 1 {
		t.Fatalf("the issuer signed %d times for 200 records, want once", iss.Signs())
	}
}

func TestWhileTheIssuerFailsRecordsAreSealedUncertifiedAndALaterCertificationVouchesForThem(t *testing.T) {
	k := newKey(t)
	iss := newIssuer(t, k)
	iss.fails = 3
	s := newSealer(t, iss, seal.WithCertifyWait(50*time.Millisecond), seal.WithRetryBackoff(100*time.Millisecond))
	v := seal.NewVerifier(&k.PublicKey)
	start := time.Now()
	lines := sealN(t, s, 1)
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("the first record waited %s for the failing issuer", waited)
	}
	first, err := v.Verify(lines[0])
	if err != nil || first.Certified {
		t.Fatalf("first record: certified %v, %v; want sealed, not certified", first.Certified, err)
	}
	if got := problems(check(t, v, lines, false)); len(got) != 1 || !strings.Contains(got[0], "uncertified: 1 records (seq 1..1) are signed by key "+first.KeyFingerprint) {
		t.Fatalf("a chain no issuer vouched for: %q", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines = append(lines, sealN(t, s, 1)...)
		r, err := v.Verify(lines[len(lines)-1])
		if err != nil {
			t.Fatal(err)
		}
		if r.Certified {
			if r.KeyFingerprint != first.KeyFingerprint || r.Chain != first.Chain {
				t.Fatalf("certified record %d is of key %s chain %s, the uncertified ones of %s %s", r.Seq, r.KeyFingerprint, r.Chain, first.KeyFingerprint, first.Chain)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no record certified after %d records; the issuer signed %d times", len(lines), iss.Signs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rep := check(t, v, lines, false); len(rep.Problems) != 0 {
		t.Fatalf("the certified record does not vouch for the earlier ones: %q", problems(rep))
	}
	if iss.Signs() != 4 {
		t.Fatalf("the issuer was asked %d times, want 3 failures and 1 success", iss.Signs())
	}
}

func TestNoRecordAfterTheFirstWaitsForTheIssuer(t *testing.T) {
	k := newKey(t)
	iss := newIssuer(t, k)
	iss.hang = make(chan struct{})
	defer close(iss.hang)
	const wait = 200 * time.Millisecond
	s := newSealer(t, iss, seal.WithCertifyWait(wait))
	start := time.Now()
	sealN(t, s, 1)
	if d := time.Since(start); d < wait/2 || d > 5*wait {
		t.Fatalf("the first record waited %s, want about %s", d, wait)
	}
	start = time.Now()
	lines := sealN(t, s, 20)
	if d := time.Since(start); d > wait/2 {
		t.Fatalf("20 later records took %s while the issuer hung: they waited for it", d)
	}
	for _, l := range lines {
		if r, err := seal.NewVerifier(&k.PublicKey).Verify(l); err != nil || r.Certified {
			t.Fatalf("record %d: certified %v, %v", r.Seq, r.Certified, err)
		}
	}
}

// lyingIssuer signs with one key and says its public key is another: a key id that names the wrong key.
type lyingIssuer struct {
	*issuer
	claimed *ecdsa.PublicKey
}

func (l lyingIssuer) PublicKey(context.Context) (*ecdsa.PublicKey, error) { return l.claimed, nil }

func TestACertificationTheIssuersPublicKeyDoesNotVerifyFailsLoudly(t *testing.T) {
	k, claimed := newKey(t), newKey(t)
	var logs syncBuffer
	s, err := seal.NewSealer(lyingIssuer{newIssuer(t, k), &claimed.PublicKey},
		seal.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), seal.WithRetryBackoff(time.Hour), seal.WithCertifyWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := sealN(t, s, 1)[0]
	for _, key := range []*ecdsa.PublicKey{&k.PublicKey, &claimed.PublicKey} {
		if r, err := seal.NewVerifier(key).Verify(l); err != nil || r.Certified {
			t.Fatalf("a certificate the issuer's key does not verify was attached: certified %v, %v", r.Certified, err)
		}
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "does not verify") {
		t.Fatalf("no error logged:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestAKeyIsRenewedWithOneMoreCertificationWhenItsWindowEnds(t *testing.T) {
	k := newKey(t)
	iss := newIssuer(t, k)
	t0 := time.Now().UTC().Truncate(time.Second)
	clk := &clock{t: t0}
	s := newSealer(t, iss, seal.WithClock(clk.now), seal.WithValidity(time.Hour))
	v := seal.NewVerifier(&k.PublicKey)
	lines := sealN(t, s, 2)
	r1, _ := v.Verify(lines[0])

	// Near the window's end a renewal is certified in the background; once it is, records switch to it.
	clk.set(t0.Add(55 * time.Minute))
	var r seal.Record
	for deadline := time.Now().Add(5 * time.Second); ; {
		lines = append(lines, sealN(t, s, 1)...)
		r, _ = v.Verify(lines[len(lines)-1])
		if r.KeyFingerprint != r1.KeyFingerprint {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no renewal within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !r.Certified || !r.Cert.NotBefore.Equal(t0.Add(55*time.Minute)) || !r.Cert.NotAfter.Equal(t0.Add(115*time.Minute)) || iss.Signs() != 2 {
		t.Fatalf("renewed key: certified %v, valid %s..%s, %d certifications", r.Certified, r.Cert.NotBefore, r.Cert.NotAfter, iss.Signs())
	}

	// A container idle past every window seals with a fresh key at once, certified in the background.
	clk.set(t0.Add(5 * time.Hour))
	lines = append(lines, sealN(t, s, 1)...)
	late, err := v.Verify(lines[len(lines)-1])
	if err != nil || late.KeyFingerprint == r.KeyFingerprint || late.Cert.NotBefore.Before(t0.Add(5*time.Hour)) {
		t.Fatalf("after the windows: key %s (before %s), valid from %s, %v", late.KeyFingerprint, r.KeyFingerprint, late.Cert.NotBefore, err)
	}
	for deadline := time.Now().Add(5 * time.Second); iss.Signs() < 3 || !func() bool {
		lines = append(lines, sealN(t, s, 1)...)
		r, _ := v.Verify(lines[len(lines)-1])
		return r.Certified
	}(); {
		if time.Now().After(deadline) {
			t.Fatal("the third key was not certified")
		}
		time.Sleep(5 * time.Millisecond)
	}
	rep := check(t, v, lines, false)
	if len(rep.Problems) != 0 || rep.Chains != 1 {
		t.Fatalf("one chain across three keys: %q", problems(rep))
	}
	if iss.Signs() != 3 {
		t.Fatalf("%d certifications for three keys", iss.Signs())
	}
}
