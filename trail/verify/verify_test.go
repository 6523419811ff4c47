package verify

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify/verifytest"
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newIssuer(t testing.TB, k *ecdsa.PrivateKey) *seal.FileSigner {
	t.Helper()
	s, err := seal.NewFileSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture is a sealed local root and the key that certified it.
type fixture struct {
	verifytest.Root
	key *ecdsa.PrivateKey
}

func newFixture(t testing.TB, o verifytest.Options) fixture {
	t.Helper()
	k := newKey(t)
	root, err := verifytest.WriteRoot(filepath.Join(t.TempDir(), "audit-data"), newIssuer(t, k), o)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{root, k}
}

// verify checks the fixture's root with its key (and opts' other settings).
func (f fixture) verify(t testing.TB, opts Options) Report {
	t.Helper()
	if opts.Keys == nil {
		opts.Keys = []*ecdsa.PublicKey{&f.key.PublicKey}
	}
	rep, err := Verify(context.Background(), trail.NewLocal(f.Dir), opts)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func (f fixture) path(key string) string { return filepath.Join(f.Dir, filepath.FromSlash(key)) }

// edit rewrites the gunzipped content of one object.
func (f fixture) edit(t testing.TB, key string, change func([]byte) []byte) {
	t.Helper()
	raw, err := os.ReadFile(f.path(key))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(change(plain))
	zw.Close()
	if err := os.WriteFile(f.path(key), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editLine rewrites the line holding seq of the fixture's first chain.
func (f fixture) editLine(t testing.TB, seq int64, change func([]byte) []byte) {
	t.Helper()
	key, n := f.Line(f.Chains[0], seq)
	if key == "" {
		t.Fatalf("no record %d", seq)
	}
	f.edit(t, key, func(b []byte) []byte {
		lines := bytes.SplitAfter(b, []byte("\n"))
		lines[n-1] = change(lines[n-1])
		return bytes.Join(lines, nil)
	})
}

// replaceOnce changes the first occurrence of old, which must be there.
func replaceOnce(t testing.TB, old, new string) func([]byte) []byte {
	return func(b []byte) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%q not found", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
}

// problems lists the kinds of the report's problem findings, in report order.
func problems(rep Report) []trail.Kind {
	var ks []trail.Kind
	for _, f := range rep.Findings {
		if f.Severity == trail.Problem {
			ks = append(ks, f.Kind)
		}
	}
	return ks
}

func dump(rep Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  %s %s %s line %d chain %.8s seq %d: %s\n", f.Severity, f.Kind, f.Key, f.Line, f.Chain, f.Seq, f.Detail)
	}
	return b.String()
}

func TestAnIntactRootVerifies(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 40, PerObject: 3})
	rep := f.verify(t, Options{})
	if !rep.Verified || len(rep.Findings) != 0 {
		t.Fatalf("intact root: verified %v\n%s", rep.Verified, dump(rep))
	}
	if rep.Records != (Count{40, 40, 0}) || rep.Objects != (Count{14, 14, 0}) || len(rep.Chains) != 1 {
		t.Fatalf("counts: records %+v objects %+v chains %d", rep.Records, rep.Objects, len(rep.Chains))
	}
	c := rep.Chains[0]
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	if c.ID != f.Chains[0] || c.First.Seq != 1 || c.Last.Seq != 40 || !c.First.Time.Equal(start) || !c.Last.Time.Equal(start.Add(39*time.Millisecond)) ||
		len(c.Keys) != 1 || !c.Keys[0].Certified || c.Keys[0].Records != 40 || !strings.HasPrefix(c.End, "proven") {
		t.Fatalf("chain summary %+v", c)
	}
	fp, _ := seal.Fingerprint(&f.key.PublicKey)
	if c.Keys[0].IssuerKey != fp || !slices.Equal(rep.AcceptedKeys, []string{fp}) || !rep.From.Equal(start) || !rep.Until.Equal(c.Last.Time) {
		t.Fatalf("keys %+v accepted %v, range %v..%v", c.Keys, rep.AcceptedKeys, rep.From, rep.Until)
	}
	g := rep.Guarantees
	if g.Signatures.Status != Held || g.Chains.Status != Held || g.Completeness.Status != Held || g.Retention.Status != NotChecked || g.Digests.Status != NotChecked {
		t.Fatalf("guarantees %+v", g)
	}
}

func TestOneRootCauseIsOneFinding(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, f fixture) Options
		want   trail.Kind
		seq    int64
		detail string
	}{
		{"a changed byte of a record's content is a bad signature, not also a gap or a broken link", func(t *testing.T, f fixture) Options {
			f.editLine(t, 5, replaceOnce(t, `"invoke_agent"`, `"invoke_agenT"`))
			return Options{}
		}, KindBadSignature, 5, "signature does not verify"},
		{"a changed seq is one bad signature, the gap it leaves explained by it", func(t *testing.T, f fixture) Options {
			f.editLine(t, 5, replaceOnce(t, `"agent_audit.seal.seq","value":{"intValue":"5"}`, `"agent_audit.seal.seq","value":{"intValue":"7"}`))
			return Options{}
		}, KindBadSignature, 7, "lacks 5 where this record stands: it is probably that record, its seal altered"},
		{"a changed seq pointing beyond the object is one bad signature too", func(t *testing.T, f fixture) Options {
			f.editLine(t, 6, replaceOnce(t, `"agent_audit.seal.seq","value":{"intValue":"6"}`, `"agent_audit.seal.seq","value":{"intValue":"9"}`))
			return Options{}
		}, KindBadSignature, 9, "the chain lacks 6, and this record claims seq 9, which it cannot hold: it is probably that record"},
		{"a key that was not passed is named once, with its counts", func(t *testing.T, f fixture) Options {
			return Options{Keys: []*ecdsa.PublicKey{&newKey(t).PublicKey}}
		}, KindUnknownKey, 1, "which you did not pass: 12 records in 4 objects"},
		{"a deleted object is one gap", func(t *testing.T, f fixture) Options {
			key, _ := f.Line(f.Chains[0], 5)
			os.Remove(f.path(key))
			return Options{}
		}, KindMissingRecord, 4, "records 4..6 missing between"},
		{"the newest objects removed are found from the chain state", func(t *testing.T, f fixture) Options {
			os.Remove(f.path(f.Objects[3].Key))
			os.Remove(f.path(f.Objects[2].Key))
			return Options{}
		}, KindChainEndMissing, 7, "records 7..12 missing at the end of the chain: the chain state says it reached 12"},
		{"an unsealed record is named as such", func(t *testing.T, f fixture) Options {
			f.editLine(t, 2, func([]byte) []byte { return verifytest.RecordLine(99, time.Now(), "its seal stripped") })
			return Options{}
		}, KindUnsealed, 0, "not sealed; the chain " + "%s lacks 2 where this record stands"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, verifytest.Options{Records: 12, PerObject: 3})
			rep := f.verify(t, tt.tamper(t, f))
			if got := problems(rep); !slices.Equal(got, []trail.Kind{tt.want}) || rep.Verified {
				t.Fatalf("problems %v, want exactly [%s]\n%s", got, tt.want, dump(rep))
			}
			p := rep.Findings[slices.IndexFunc(rep.Findings, func(f trail.Finding) bool { return f.Kind == tt.want })]
			want := strings.ReplaceAll(tt.detail, "%s", f.Chains[0])
			if p.Seq != tt.seq || !strings.Contains(p.Detail, want) || p.Key == "" {
				t.Fatalf("finding %+v, want seq %d and %q", p, tt.seq, tt.detail)
			}
		})
	}
}

func TestAWrongKeyIsNotReportedAsMissingRecords(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 16, PerObject: 4})
	other := newKey(t)
	rep := f.verify(t, Options{Keys: []*ecdsa.PublicKey{&other.PublicKey}})
	fp, _ := seal.Fingerprint(&f.key.PublicKey)
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != KindUnknownKey || !strings.Contains(rep.Findings[0].Detail, "signed by key "+fp+" (issuer local:"+fp+"), which you did not pass: 16 records in 4 objects") {
		t.Fatalf("a wrong key:\n%s", dump(rep))
	}
	if rep.Records.Invalid != 16 || rep.Guarantees.Signatures.Status != Failed || rep.Guarantees.Chains.Status != Held || len(rep.Chains) != 1 || rep.Chains[0].Records != 16 {
		t.Fatalf("records %+v, guarantees %+v, chains %+v", rep.Records, rep.Guarantees, rep.Chains)
	}
}

func TestCompletenessIsClaimedOnlyWhenProven(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 12, PerObject: 3})
	os.Remove(f.path(f.Objects[3].Key))
	os.Remove(filepath.Join(f.Dir, seal.ChainStateFile))
	rep := f.verify(t, Options{})
	// What is here verifies, so no problem is found; but nothing proves the chain ends at 9 any more.
	if !rep.Verified || rep.Guarantees.Completeness.Status != NotChecked || !strings.Contains(rep.Guarantees.Completeness.Why, "no chain state") ||
		rep.Chains[0].End != "not proven" || rep.Chains[0].Last.Seq != 9 {
		t.Fatalf("verified %v, completeness %+v, chain %+v\n%s", rep.Verified, rep.Guarantees.Completeness, rep.Chains[0], dump(rep))
	}
}

func TestForksLinksAndDuplicates(t *testing.T) {
	// Two processes continuing one chain state make two different, validly sealed records at seq 4: what only
	// the holder of the chain's key can do.
	k := newKey(t)
	iss := newIssuer(t, k)
	dir := filepath.Join(t.TempDir(), "audit-data")
	a, err := verifytest.WriteRoot(dir, iss, verifytest.Options{Records: 3, PerObject: 1})
	if err != nil {
		t.Fatal(err)
	}
	state, _ := os.ReadFile(filepath.Join(dir, seal.ChainStateFile))
	fork := filepath.Join(t.TempDir(), "fork")
	os.MkdirAll(fork, 0o755)
	os.WriteFile(filepath.Join(fork, seal.ChainStateFile), state, 0o600)
	later := verifytest.Options{Records: 2, PerObject: 1, Start: time.Date(2026, 11, 1, 11, 0, 0, 0, time.UTC), ContentBytes: 300}
	b, err := verifytest.WriteRoot(fork, iss, later) // seqs 4 and 5 of a's chain, one way
	if err != nil {
		t.Fatal(err)
	}
	later.ContentBytes = 400
	c, err := verifytest.WriteRoot(dir, iss, later) // seqs 4 and 5, another way
	if err != nil || b.Chains[0] != a.Chains[0] || c.Chains[0] != a.Chains[0] {
		t.Fatalf("chains %v %v %v: %v", a.Chains, b.Chains, c.Chains, err)
	}
	f := fixture{verifytest.Root{Dir: dir, Chains: a.Chains, Objects: slices.Concat(a.Objects, c.Objects)}, k}
	copyObject := func(t *testing.T, from fixture, key, to string) {
		t.Helper()
		data, err := os.ReadFile(from.path(key))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(f.path(to)), 0o755)
		if err := os.WriteFile(f.path(to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	other := fixture{b, k}

	t.Run("an untouched chain verifies", func(t *testing.T) {
		if rep := f.verify(t, Options{}); !rep.Verified {
			t.Fatalf("\n%s", dump(rep))
		}
	})
	t.Run("a byte-identical copy is a duplicate, a notice", func(t *testing.T) {
		copyObject(t, f, c.Objects[0].Key, c.Objects[0].Key+".copy.gz")
		defer os.Remove(f.path(c.Objects[0].Key + ".copy.gz"))
		rep := f.verify(t, Options{})
		if !rep.Verified || rep.Duplicates != 1 || len(rep.Findings) != 1 || rep.Findings[0].Kind != KindDuplicate || rep.Findings[0].Seq != 4 {
			t.Fatalf("duplicates %d\n%s", rep.Duplicates, dump(rep))
		}
	})
	t.Run("a second validly sealed record at one seq is a fork", func(t *testing.T) {
		copyObject(t, other, b.Objects[0].Key, "traces/year=2026/month=11/day=01/hour=11/zz-fork.gz")
		defer os.Remove(f.path("traces/year=2026/month=11/day=01/hour=11/zz-fork.gz"))
		rep := f.verify(t, Options{})
		if got := problems(rep); !slices.Equal(got, []trail.Kind{KindFork}) || rep.Findings[0].Seq != 4 {
			t.Fatalf("problems %v\n%s", got, dump(rep))
		}
	})
	t.Run("a record replaced by another validly sealed one breaks the next link", func(t *testing.T) {
		saved, _ := os.ReadFile(f.path(c.Objects[0].Key))
		defer os.WriteFile(f.path(c.Objects[0].Key), saved, 0o644)
		copyObject(t, other, b.Objects[0].Key, c.Objects[0].Key)
		rep := f.verify(t, Options{})
		if got := problems(rep); !slices.Equal(got, []trail.Kind{KindLinkMismatch}) || rep.Findings[0].Seq != 5 || rep.Findings[0].Key != c.Objects[1].Key {
			t.Fatalf("problems %v\n%s", got, dump(rep))
		}
	})
}

func TestDeclaredUndeliveredIsANotice(t *testing.T) {
	k := newKey(t)
	dir := filepath.Join(t.TempDir(), "audit-data")
	s, _, err := seal.ResumeSealer(newIssuer(t, k), filepath.Join(dir, seal.ChainStateFile), seal.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	store := trail.NewLocal(dir)
	for n := range 4 {
		line, seq, err := s.Seal(context.Background(), verifytest.RecordLine(n, time.Now(), "text"))
		if err != nil {
			t.Fatal(err)
		}
		if seq == 2 {
			s.Undelivered(2) // its shipment failed: the next record declares it
			continue
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(line)
		zw.Close()
		store.Put(context.Background(), verifytest.ObjectKey(time.Now(), n), buf.Bytes())
	}
	rep := fixture{verifytest.Root{Dir: dir}, k}.verify(t, Options{})
	if !rep.Verified || len(rep.Findings) != 1 || rep.Findings[0].Kind != KindDeclaredUndelivered || rep.Findings[0].Seq != 2 || rep.Findings[0].Severity != trail.Notice {
		t.Fatalf("\n%s", dump(rep))
	}
}

func TestRecordsOutOfOrderAndManyChains(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 600, PerObject: 7, Chains: 5})
	// Objects listed out of seal order (Firehose names objects by the arrival of their oldest record, and
	// within one second by a random suffix): swap the names of neighbours.
	for i := 0; i+1 < len(f.Objects); i += 2 {
		a, b := f.path(f.Objects[i].Key), f.path(f.Objects[i+1].Key)
		os.Rename(a, a+".tmp")
		os.Rename(b, a)
		os.Rename(a+".tmp", b)
	}
	for _, workers := range []int{1, 2, 8} {
		rep := f.verify(t, Options{Workers: workers})
		if !rep.Verified || rep.Records.Valid != 600 || len(rep.Chains) != 5 {
			t.Fatalf("workers %d: verified %v, records %+v, chains %d\n%s", workers, rep.Verified, rep.Records, len(rep.Chains), dump(rep))
		}
		// Four of the chains have no chain state: their ends are not proven, and the report says so.
		if rep.Guarantees.Completeness.Status != NotChecked || !strings.Contains(rep.Guarantees.Completeness.Why, "the other 4 chains") {
			t.Fatalf("completeness %+v", rep.Guarantees.Completeness)
		}
	}
}

func TestAWindowStartsChainsWhereItStarts(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 6, PerObject: 1, Start: time.Date(2026, 11, 1, 9, 59, 59, 997_000_000, time.UTC)})
	// Seqs 1..3 are in hour 09, 4..6 in hour 10.
	rep := f.verify(t, Options{Since: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)})
	if !rep.Verified || rep.Records.Checked != 3 || rep.Chains[0].First.Seq != 4 {
		t.Fatalf("records %+v chains %+v\n%s", rep.Records, rep.Chains, dump(rep))
	}
	os.Remove(f.path(f.Objects[4].Key))
	rep = f.verify(t, Options{Since: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)})
	if got := problems(rep); !slices.Equal(got, []trail.Kind{KindMissingRecord}) || rep.Findings[0].Seq != 5 {
		t.Fatalf("a gap inside the window: %v\n%s", got, dump(rep))
	}
}

func TestUnreadableObjectsAndEmptyRoots(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 4, PerObject: 2})
	raw, _ := os.ReadFile(f.path(f.Objects[1].Key))
	os.WriteFile(f.path(f.Objects[1].Key), raw[:len(raw)/2], 0o644)
	rep := f.verify(t, Options{})
	if got := problems(rep); !slices.Contains(got, KindUnreadableObject) || rep.Objects.Invalid != 1 {
		t.Fatalf("a truncated object: %v\n%s", got, dump(rep))
	}

	empty := t.TempDir()
	rep, err := Verify(context.Background(), trail.NewLocal(empty), Options{})
	if err != nil || rep.Verified || !slices.Equal(problems(rep), []trail.Kind{KindNoRecords}) {
		t.Fatalf("an empty root: %v\n%s", err, dump(rep))
	}
	if _, err := Verify(context.Background(), trail.NewLocal(filepath.Join(empty, "typo")), Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a root that does not exist: %v, want fs.ErrNotExist", err)
	}
}

func TestFindingsPerKindAreBounded(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 30, PerObject: 10})
	for _, o := range f.Objects {
		f.edit(t, o.Key, func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(`"invoke_agent"`), []byte(`"invoke_agenT"`)) })
	}
	rep := f.verify(t, Options{MaxFindingsPerKind: 5})
	if len(rep.Findings) != 5 || rep.Suppressed[KindBadSignature] != 25 || rep.Problems != 30 {
		t.Fatalf("%d findings listed, %v suppressed, %d problems", len(rep.Findings), rep.Suppressed, rep.Problems)
	}
}

// Issue 14 point 8: the report counts in words a reader files as written: "1 chain", not "1 chains".
func TestTheGuaranteesCountInTheRightNumber(t *testing.T) {
	one := newFixture(t, verifytest.Options{Records: 1, PerObject: 1, Chains: 1}).verify(t, Options{})
	if g := one.Guarantees; !strings.HasPrefix(g.Signatures.Why, "the 1 record verifies,") || !strings.HasPrefix(g.Chains.Why, "1 chain:") {
		t.Fatalf("one record, one chain: %q / %q", g.Signatures.Why, g.Chains.Why)
	}
	two := newFixture(t, verifytest.Options{Records: 4, PerObject: 2, Chains: 2}).verify(t, Options{})
	if g := two.Guarantees; !strings.HasPrefix(g.Signatures.Why, "all 4 records verify,") || !strings.HasPrefix(g.Chains.Why, "2 chains:") {
		t.Fatalf("four records, two chains: %q / %q", g.Signatures.Why, g.Chains.Why)
	}
}
