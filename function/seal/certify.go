package seal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// certifyTimeout bounds one certification attempt: reading the issuer's public key and one signature.
const certifyTimeout = 10 * time.Second

// errWrongIssuerKey marks a certification whose signature the issuer's public key does not verify: the key id
// names another key than the one signing, which no retry mends by itself.
var errWrongIssuerKey = errors.New("the issuer's public key does not verify the issuer's signature")

// keyState is one sealing key of a chain and its certificate. Its fields change only under the Sealer's lock.
type keyState struct {
	priv ed25519.PrivateKey
	fp   string
	cert Certificate
	// certRaw is the certificate's JSON, what the issuer signs; certAttr its AttrCert value.
	certRaw  []byte
	certAttr string
	// certSig is the issuer's signature of certRaw; "" until certified.
	certSig string
	// certified is closed once certSig is set; tried once the first certification attempt has returned.
	certified, tried chan struct{}
	// started is when its certification began (for the first record's wait); renewAt when a renewal starts.
	started time.Time
	renewAt time.Time
}

// newKey generates a key with a certificate valid from now for the validity, and starts its certification.
// Callers hold s.mu.
func (s *Sealer) newKey(now time.Time) (*keyState, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("seal: generate a sealing key: %w", err)
	}
	fp, err := Fingerprint(priv.Public())
	if err != nil {
		return nil, err
	}
	sub := s.subject()
	nb := now.UTC().Truncate(time.Second)
	ks := &keyState{
		priv: priv, fp: fp, certified: make(chan struct{}), tried: make(chan struct{}),
		cert: Certificate{
			Chain: s.chain, Key: fp, Issuer: s.issuer.KeyID(), IssuerKey: s.issuerKey,
			Function: subjectField(sub.Function), Version: subjectField(sub.Version), LogStream: subjectField(sub.LogStream),
			NotBefore: nb, NotAfter: nb.Add(s.validity),
		},
	}
	if err := ks.setCert(); err != nil {
		return nil, err
	}
	ks.renewAt = ks.cert.NotAfter.Add(-s.validity / 10)
	ks.started = time.Now()
	s.work.Add(1)
	go func() {
		defer s.work.Done()
		s.certify(ks)
	}()
	return ks, nil
}

// setCert renders ks.cert.
func (ks *keyState) setCert() error {
	raw, err := marshalCert(ks.cert, ks.priv.Public())
	if err != nil {
		return err
	}
	ks.certRaw, ks.certAttr = raw, base64.RawURLEncoding.EncodeToString(raw)
	return nil
}

// certify has the issuer sign ks's certificate, trying again with a doubling pause after each failure, until
// it succeeds or the Sealer is closed. It runs on its own goroutine, never on a record's path.
func (s *Sealer) certify(ks *keyState) {
	backoff := s.backoff
	for attempt := 1; ; attempt++ {
		err := s.certifyOnce(ks)
		if attempt == 1 {
			close(ks.tried)
		}
		if err == nil {
			s.logger.Info("seal key certified", "chain", s.chain, "key", ks.fp, "issuer", s.issuer.KeyID(),
				"subject", describe(ks.cert), "not_after", ks.cert.NotAfter, "attempt", attempt)
			return
		}
		if s.ctx.Err() != nil {
			return
		}
		level := "seal: certification failed; records stay sealed by the local key and the certification is retried"
		if errors.Is(err, errWrongIssuerKey) {
			s.logger.Error(level, "chain", s.chain, "issuer", s.issuer.KeyID(), "attempt", attempt, "retry_in", backoff, "error", err)
		} else {
			s.logger.Warn(level, "chain", s.chain, "issuer", s.issuer.KeyID(), "attempt", attempt, "retry_in", backoff, "error", err)
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, MaxRetryBackoff)
	}
}

// certifyOnce reads the issuer's public key (once: the issuer caches it), writes its fingerprint into the
// certificate, has the issuer sign the certificate in DomainCert, and checks the signature under that public
// key before any record carries it, so a key id naming another key than the one signing fails here, loudly,
// and not at audit time.
func (s *Sealer) certifyOnce(ks *keyState) error {
	ctx, cancel := context.WithTimeout(s.ctx, certifyTimeout)
	defer cancel()
	pub, err := s.issuer.PublicKey(ctx)
	if err != nil {
		return fmt.Errorf("read the issuer's public key: %w", err)
	}
	fp, err := Fingerprint(pub)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.issuerKey = fp
	if ks.cert.IssuerKey != fp {
		ks.cert.IssuerKey = fp
		if err := ks.setCert(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	raw := ks.certRaw
	s.mu.Unlock()

	digest := DomainHash(DomainCert, raw)
	der, err := s.issuer.Sign(ctx, digest[:])
	if err != nil {
		return fmt.Errorf("issuer signs the certificate: %w", err)
	}
	sig, err := EncodeSignature(der)
	if err != nil {
		return err
	}
	if err := VerifyDigest(pub, digest, sig); err != nil {
		return fmt.Errorf("%w: %s signed the certificate, but its public key %s does not verify it", errWrongIssuerKey, s.issuer.KeyID(), fp)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !bytes.Equal(ks.certRaw, raw) {
		return errors.New("the certificate changed while it was being signed")
	}
	ks.certSig = sig
	close(ks.certified)
	return nil
}
