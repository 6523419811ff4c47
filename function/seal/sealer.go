package seal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by Seal after Close.
var ErrClosed = errors.New("seal: sealer closed")

// maxDeclaredKept bounds how many records' declarations the Sealer remembers, to declare them again should such
// a record be reported undelivered too.
const maxDeclaredKept = 1024

// Sealer signs records and chains them, with a key of its own that its Issuer certifies (see the package
// documentation). Safe for concurrent use: it holds its lock while sealing a record (a local signature, no
// network), so concurrent callers are serialised and the chain stays one sequence. Certification runs in the
// background; only the Sealer's first record waits for it, at most the certify wait.
type Sealer struct {
	issuer   Issuer
	chain    string
	subject  func() Subject
	validity time.Duration
	wait     time.Duration
	backoff  time.Duration
	now      func() time.Time
	logger   *slog.Logger

	// ctx bounds the background certifications; Close cancels it and waits for them.
	ctx    context.Context
	cancel context.CancelFunc
	work   sync.WaitGroup

	mu     sync.Mutex
	closed bool
	// issuerKey is the fingerprint of the issuer's public key, once a certification has read it.
	issuerKey string
	// cur seals; next is the renewal being certified.
	cur, next *keyState
	// waited is set once the first record has waited for its key's certification.
	waited bool
	seq    int64
	// prev is the hex signed hash of the record at seq.
	prev string
	// scratch holds the seal's text while a record is sealed.
	scratch []byte
	// pending are undelivered seqs not yet declared; declared holds what recent records declared.
	pending  []int64
	declared map[int64][]int64
	// save records the chain position after each change (ResumeSealer); nil for an in-memory chain.
	save func()
	// unlock releases a resumed chain's lock; the process's end does it otherwise.
	unlock func()
}

// Option configures a Sealer.
type Option func(*Sealer)

// WithSubject sets what the certificates name (default LocalSubject). f is called whenever a key is
// certified: at the first record (or Certify) and at each renewal.
func WithSubject(f func() Subject) Option { return func(s *Sealer) { s.subject = f } }

// WithValidity sets how long a key seals before it is renewed (default DefaultValidity).
func WithValidity(d time.Duration) Option { return func(s *Sealer) { s.validity = d } }

// WithCertifyWait sets the longest the first record waits for its key's first certification attempt (default
// DefaultCertifyWait); 0 never waits.
func WithCertifyWait(d time.Duration) Option { return func(s *Sealer) { s.wait = d } }

// WithRetryBackoff sets the first pause before a failed certification is retried (default
// DefaultRetryBackoff); it doubles after every failure, up to MaxRetryBackoff.
func WithRetryBackoff(d time.Duration) Option { return func(s *Sealer) { s.backoff = d } }

// WithLogger sets the logger for certifications and their failures (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Sealer) { s.logger = l } }

// WithClock sets the clock that dates records and certificates (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Sealer) { s.now = now } }

// NewSealer returns a Sealer starting a new chain, with a random chain id, whose keys issuer certifies.
func NewSealer(issuer Issuer, opts ...Option) (*Sealer, error) {
	if id := issuer.KeyID(); len(id) == 0 || len(id) > MaxKeyIDBytes || subjectField(id) != id || id == "unknown" {
		return nil, fmt.Errorf("seal: issuer key id %q: want 1..%d bytes of printable ASCII without quotes, backslashes, <, > or &", id, MaxKeyIDBytes)
	}
	chain, err := newChainID()
	if err != nil {
		return nil, err
	}
	s := &Sealer{
		issuer: issuer, chain: chain, subject: LocalSubject, validity: DefaultValidity,
		wait: DefaultCertifyWait, backoff: DefaultRetryBackoff, now: time.Now, logger: slog.Default(),
		declared: map[int64][]int64{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.validity < time.Minute {
		return nil, fmt.Errorf("seal: validity %s: want at least a minute", s.validity)
	}
	if s.backoff <= 0 {
		s.backoff = DefaultRetryBackoff
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

func newChainID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("seal: chain id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Close stops the background certifications, waits for them to return, and releases what a resumed Sealer
// holds (ResumeSealer's lock), so another process may continue the chain. Seal fails with ErrClosed afterwards.
func (s *Sealer) Close() {
	s.mu.Lock()
	s.closed = true
	if s.unlock != nil {
		s.unlock()
		s.unlock, s.save = nil, nil
	}
	s.mu.Unlock()
	s.cancel()
	s.work.Wait()
}

// Chain returns the chain id of the records this Sealer seals.
func (s *Sealer) Chain() string { return s.chain }

// Seq returns the position of the last record sealed, 0 before the first.
func (s *Sealer) Seq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// Certify starts certifying the Sealer's first key in the background, if that has not started yet, and
// returns at once. Call it as soon as the certificate's Subject is known (in Lambda: at the first invocation,
// which tells the function's ARN), so that the first record finds its key certified; Seal starts it otherwise.
func (s *Sealer) Certify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		if _, err := s.keyFor(s.now()); err != nil {
			s.logger.Error("seal: no key to certify", "chain", s.chain, "error", err)
		}
	}
}

// Seal seals line, one '\n'-terminated OTLP/JSON line as pdata's JSONMarshaler writes it, and returns the
// sealed line and its position in the chain. The seal's attributes go at the start of the first resource's
// attributes (at most Overhead bytes); the line is otherwise unchanged. The signature covers the sealed line
// with the signature value blanked, hashed in DomainRecord, and the next record's prev is that hash.
//
// The first call waits for the key's first certification attempt, at most the certify wait (and ctx); no later
// call waits on the issuer: until certification succeeds, records carry the certificate without AttrCertSig.
// A failure takes no position (the chain has no gap for a record that never existed) and returns no line: a
// line that does not start with its first resource, one that already holds an agent_audit.seal.* attribute
// (the seal's namespace is reserved), or a closed Sealer; line is then unchanged. On success the sealed line
// may be built in line's spare capacity, so the caller keeps only the returned line; without enough capacity it
// is one new buffer of exactly its size.
func (s *Sealer) Seal(ctx context.Context, line []byte) ([]byte, int64, error) {
	ins, err := findInsertion(line)
	if err != nil {
		return nil, 0, fmt.Errorf("seal: %w", err)
	}
	if bytes.Contains(line, []byte(sealKey)) {
		return nil, 0, errors.New("seal: record already holds an agent_audit.seal.* attribute, a name the seal reserves")
	}
	s.awaitFirst(ctx)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, 0, ErrClosed
	}
	now := s.now()
	ks, err := s.keyFor(now)
	if err != nil {
		return nil, 0, err
	}
	f := sealFields{
		chain: s.chain, seq: s.seq + 1, prev: s.prev, undelivered: s.pending[:min(len(s.pending), MaxUndelivered)],
		key: ks.fp, cert: ks.certAttr, certSig: ks.certSig, time: now.UnixNano(), alg: Algorithm,
	}
	head := appendSeal(append(s.scratch[:0], ins.open...), &f)
	s.scratch = head
	if n := len(head) + maxSigChars + len(ins.close); n > Overhead {
		return nil, 0, fmt.Errorf("seal: the seal would take %d bytes, over its bound of %d", n, Overhead)
	}
	digest := domainHashParts(DomainRecord, line[:ins.at], head, []byte(ins.close), line[ins.at:])
	var sig [ed25519SigChars]byte
	base64.RawURLEncoding.Encode(sig[:], ed25519.Sign(ks.priv, digest[:]))
	n := len(head) + len(sig) + len(ins.close)
	var out []byte
	if cap(line)-len(line) >= n {
		// Built in line's spare capacity: one move of the record's tail instead of a second 30 KB buffer.
		out = line[:len(line)+n]
	} else {
		out = make([]byte, len(line)+n)
		copy(out, line[:ins.at])
	}
	copy(out[ins.at+n:], line[ins.at:])
	at := ins.at
	at += copy(out[at:], head)
	at += copy(out[at:], sig[:])
	copy(out[at:], ins.close)

	s.seq, s.prev = f.seq, hex.EncodeToString(digest[:])
	if n := len(f.undelivered); n > 0 {
		s.declared[f.seq] = slices.Clone(f.undelivered)
		s.pending = s.pending[n:]
		if len(s.declared) > maxDeclaredKept {
			delete(s.declared, slices.Min(slices.Collect(maps.Keys(s.declared))))
		}
	}
	if s.save != nil {
		s.save()
	}
	return out, f.seq, nil
}

// Undelivered tells the Sealer that the records at seqs were sealed but will never be delivered (their shipment
// failed). The chain's next records declare them in AttrUndelivered, MaxUndelivered at a time, so that verify
// reports a declared gap, not a missing record. The seqs a reported record itself declared are declared again.
// Seqs the Sealer has not sealed are ignored. Safe for concurrent use; it never blocks on the issuer.
func (s *Sealer) Undelivered(seqs ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, q := range seqs {
		if q < 1 || q > s.seq {
			continue
		}
		s.pending = append(s.pending, q)
		if d, ok := s.declared[q]; ok {
			s.pending = append(s.pending, d...)
			delete(s.declared, q)
		}
		changed = true
	}
	if !changed {
		return
	}
	slices.Sort(s.pending)
	s.pending = slices.Compact(s.pending)
	if s.save != nil {
		s.save()
	}
}

// awaitFirst makes the Sealer's first record wait for its key's first certification attempt, within the
// certify wait since the certification started, and ctx.
func (s *Sealer) awaitFirst(ctx context.Context) {
	s.mu.Lock()
	if s.waited || s.closed {
		s.mu.Unlock()
		return
	}
	s.waited = true
	ks, err := s.keyFor(s.now())
	s.mu.Unlock()
	if err != nil {
		return
	}
	remain := s.wait - time.Since(ks.started)
	if remain <= 0 {
		return
	}
	t := time.NewTimer(remain)
	defer t.Stop()
	select {
	case <-ks.tried:
	case <-t.C:
	case <-ctx.Done():
	}
	select {
	case <-ks.certified:
	default:
		s.logger.WarnContext(ctx, "seal: sealing without a certificate signature; the issuer has not certified the key yet, and certification goes on in the background",
			"chain", s.chain, "issuer", s.issuer.KeyID(), "waited", time.Since(ks.started).Round(time.Millisecond))
	}
}

// keyFor returns the key that seals at now, creating the first key, starting a renewal when the current key's
// window nears its end, and switching to the renewal once it is certified or the current window has ended.
// Callers hold s.mu.
func (s *Sealer) keyFor(now time.Time) (*keyState, error) {
	if s.cur == nil {
		ks, err := s.newKey(now)
		if err != nil {
			return nil, err
		}
		s.cur = ks
	}
	if s.next == nil && !now.Before(s.cur.renewAt) {
		ks, err := s.newKey(now)
		if err != nil {
			s.logger.Error("seal: cannot renew the sealing key", "chain", s.chain, "error", err)
		} else {
			s.next = ks
		}
	}
	if s.next != nil && (s.next.certSig != "" || !now.Before(s.cur.cert.NotAfter)) {
		s.cur, s.next = s.next, nil
	}
	return s.cur, nil
}

// describe is the certificate's subject for logs.
func describe(c Certificate) string {
	return strings.Join([]string{c.Function, c.Version, c.LogStream}, " ")
}
