package seal_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/seal"
)

func TestSealedRecordVerifiesAndStaysOTLP(t *testing.T) {
	k := newKey(t)
	iss := newIssuer(t, k)
	sub := seal.Subject{Function: "arn:aws:lambda:eu-west-1:123456789012:function:agent", Version: "7", LogStream: "2026/06/08/[7]0123abcd"}
	s := newSealer(t, iss, seal.WithSubject(func() seal.Subject { return sub }))
	before := time.Now().Add(-time.Second)
	lines := sealN(t, s, 3)
	v := seal.NewVerifier(&k.PublicKey)
	var keyFP string
	for i, l := range lines {
		if !bytes.HasSuffix(l, []byte("\n")) || bytes.Count(l, []byte("\n")) != 1 {
			t.Fatalf("record %d is not one line: %q", i, l)
		}
		var u ptrace.JSONUnmarshaler
		td, err := u.UnmarshalTraces(l)
		if err != nil {
			t.Fatalf("record %d is not OTLP/JSON: %v", i, err)
		}
		attrs := td.ResourceSpans().At(0).Resource().Attributes()
		if got, _ := attrs.Get("service.name"); got.Str() != "agent-audit" {
			t.Errorf("record %d lost its resource attributes", i)
		}
		// Any OTLP reader sees the seal as typed attributes.
		if ver, _ := attrs.Get(seal.AttrVersion); ver.Type() != pcommon.ValueTypeInt || ver.Int() != 2 {
			t.Errorf("record %d: %s is %s %v", i, seal.AttrVersion, ver.Type(), ver.AsRaw())
		}
		if seq, _ := attrs.Get(seal.AttrSeq); seq.Type() != pcommon.ValueTypeInt || seq.Int() != int64(i+1) {
			t.Errorf("record %d: %s is %v", i, seal.AttrSeq, seq.AsRaw())
		}
		r, err := v.Verify(l)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if r.Version != 2 || r.Seq != int64(i+1) || r.Chain != s.Chain() || !r.Certified {
			t.Errorf("record %d: %+v", i, r)
		}
		if r.Issuer != iss.KeyID() || r.IssuerKey != fingerprint(t, &k.PublicKey) || r.KeyFingerprint == r.IssuerKey {
			t.Errorf("record %d: issuer %s %s, key %s: want the issuer's key certifying a key of the chain's own", i, r.Issuer, r.IssuerKey, r.KeyFingerprint)
		}
		if r.Cert.Function != sub.Function || r.Cert.Version != sub.Version || r.Cert.LogStream != sub.LogStream ||
			r.Cert.Chain != s.Chain() || r.Cert.NotAfter.Sub(r.Cert.NotBefore) != seal.DefaultValidity {
			t.Errorf("record %d: certificate %+v", i, r.Cert)
		}
		if r.SealTime.Before(before) || r.SealTime.After(time.Now()) || r.TraceID != "01020300000000000000000000000000" {
			t.Errorf("record %d: seal time %v, trace %s", i, r.SealTime, r.TraceID)
		}
		if i == 0 {
			keyFP = r.KeyFingerprint
		} else if r.KeyFingerprint != keyFP {
			t.Errorf("record %d is signed by key %s, record 1 by %s: one key per chain", i, r.KeyFingerprint, keyFP)
		}
	}
	if rep := check(t, v, lines, false); len(rep.Problems) != 0 || len(rep.Notices) != 0 || rep.Records != 3 || rep.Chains != 1 {
		t.Errorf("intact chain: %+v", rep)
	}
	if iss.Signs() != 1 {
		t.Errorf("the issuer signed %d times for 3 records, want once", iss.Signs())
	}
}

func TestAnyChangedByteIsDetected(t *testing.T) {
	k := newKey(t)
	l := sealN(t, newSealer(t, newIssuer(t, k)), 1)[0]
	v := seal.NewVerifier(&k.PublicKey)
	changed := 0
	for i := range len(l) - 1 {
		for _, c := range []byte{'0', 'x', ' ', '"', 'A'} {
			if l[i] == c {
				continue
			}
			mod := bytes.Clone(l)
			mod[i] = c
			if _, err := v.Verify(mod); err == nil {
				t.Fatalf("byte %d changed to %q still verifies: %s", i, c, mod)
			}
			changed++
		}
	}
	if changed < len(l) {
		t.Fatalf("only %d variations tried", changed)
	}
}

func TestVerifyNamesTheProblem(t *testing.T) {
	k, other := newKey(t), newKey(t)
	l := sealN(t, newSealer(t, newIssuer(t, k)), 1)[0]
	plain := line(t, record("hello"))
	unsealed := record("hello")
	unsealed.ResourceSpans().At(0).Resource().Attributes().PutStr(seal.AttrUnsealed, "seal: the key was away")
	tests := []struct {
		name string
		line []byte
		keys []*ecdsa.PublicKey
		want error
		text string
	}{
		{"a record certified by a key not passed names that key", l, []*ecdsa.PublicKey{&other.PublicKey}, seal.ErrUnknownKey, "signed by key " + fingerprint(t, &k.PublicKey) + " (issuer local:sha256:"},
		{"one of several keys is enough", l, []*ecdsa.PublicKey{&other.PublicKey, &k.PublicKey}, nil, ""},
		{"an unsealed record says so", plain, []*ecdsa.PublicKey{&k.PublicKey}, seal.ErrUnsealed, ""},
		{"an unsealed record says why", line(t, unsealed), []*ecdsa.PublicKey{&k.PublicKey}, seal.ErrUnsealed, "the key was away"},
		{"changed content fails", bytes.Replace(l, []byte("prompt 0"), []byte("prompt 1"), 1), []*ecdsa.PublicKey{&k.PublicKey}, seal.ErrBadSignature, "record 1 of chain"},
		{"a second signature attribute is malformed", bytes.Replace(l, []byte(`"attributes":[{"key":"gen_ai`), []byte(`"attributes":[{"key":"agent_audit.seal.sig","value":{"stringValue":"AA"}},{"key":"gen_ai`), 1), []*ecdsa.PublicKey{&k.PublicKey}, seal.ErrMalformed, "holds 11 agent_audit.seal.* attributes, its seal 10"},
		{"a seal attribute moved out of order is malformed", bytes.Replace(l, []byte(`{"key":"agent_audit.seal.v","value":{"intValue":"2"}},{"key":"agent_audit.seal.chain"`), []byte(`{"key":"agent_audit.seal.chain"`), 1), []*ecdsa.PublicKey{&k.PublicKey}, seal.ErrMalformed, "without its version"},
		{"an unknown seal format is malformed", bytes.Replace(l, []byte(`"agent_audit.seal.v","value":{"intValue":"2"}`), []byte(`"agent_audit.seal.v","value":{"intValue":"3"}`), 1), []*ecdsa.PublicKey{&k.PublicKey}, seal.ErrMalformed, "seal format 3"},
		{"garbage is not OTLP", []byte("not json\n"), []*ecdsa.PublicKey{&k.PublicKey}, seal.ErrMalformed, "not an OTLP/JSON record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := seal.NewVerifier(tt.keys...).Verify(tt.line)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v is not %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
		})
	}
}

// Each way Seal can fail takes no position and returns no line, so the encoder ships the record cleanly
// unsealed.
func TestASealFailureTakesNoPosition(t *testing.T) {
	k := newKey(t)
	s := newSealer(t, newIssuer(t, k))
	sealN(t, s, 1)
	imitation := record("x")
	imitation.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutStr(seal.AttrSig, "")
	foreign := record("x")
	foreign.ResourceSpans().At(0).Resource().Attributes().PutStr(seal.AttrChain, "0123456789abcdef0123456789abcdef")
	cases := []struct {
		name string
		line []byte
		want string
	}{
		{"a line that does not start with its resource", []byte(`{"resourceSpans":[{"scopeSpans":[]}]}` + "\n"), "does not start with its first resource"},
		{"content imitating the signature attribute", line(t, imitation), "reserves"},
		{"a resource carrying a seal attribute already", line(t, foreign), "reserves"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, seq, err := s.Seal(context.Background(), c.line)
			if err == nil || !strings.Contains(err.Error(), c.want) || out != nil || seq != 0 {
				t.Fatalf("Seal = %q, %d, %v; want an error saying %q", out, seq, err, c.want)
			}
			if s.Seq() != 1 {
				t.Fatalf("a failed seal took position %d", s.Seq())
			}
		})
	}
	t.Run("a closed sealer", func(t *testing.T) {
		s.Close()
		if _, _, err := s.Seal(context.Background(), line(t, record("x"))); !errors.Is(err, seal.ErrClosed) || s.Seq() != 1 {
			t.Fatalf("Seal after Close: %v, seq %d", err, s.Seq())
		}
	})
}

func TestAResourceWithoutAttributesIsSealedToo(t *testing.T) {
	k := newKey(t)
	s := newSealer(t, newIssuer(t, k))
	td := record("x")
	td.ResourceSpans().At(0).Resource().Attributes().Clear()
	l := line(t, td)
	if !bytes.HasPrefix(l, []byte(`{"resourceSpans":[{"resource":{}`)) {
		t.Fatalf("pdata writes an empty resource as %.60s", l)
	}
	sealed, _, err := s.Seal(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.NewVerifier(&k.PublicKey).Verify(sealed); err != nil {
		t.Fatal(err)
	}
	var u ptrace.JSONUnmarshaler
	if _, err := u.UnmarshalTraces(sealed); err != nil {
		t.Fatalf("not OTLP/JSON: %v\n%s", err, sealed)
	}
}
