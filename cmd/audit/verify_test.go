package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/components"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify"
)

// sealedRoot runs the agent n times into a fresh root, each run one sealed record of one chain (and a digest).
func sealedRoot(t *testing.T, n int) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "audit-data")
	prompts := []string{"What is 17 * 23?", "What time is it?", "Count the words: one two three", "hello"}
	for i := range n {
		if _, stderr, err := execute(t, "run", "--root", root, prompts[i%len(prompts)]); err != nil {
			t.Fatalf("run: %v\n%s", err, stderr)
		}
	}
	return root
}

// objectKeys lists the current objects under prefix of a local root.
func objectKeys(t *testing.T, root, prefix string) []string {
	t.Helper()
	objs, err := trail.NewLocal(root).Versions(context.Background(), prefix, "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

// objectsBySeq maps each record's chain position to the file holding it.
func objectsBySeq(t *testing.T, root string) map[int64]string {
	t.Helper()
	v := seal.NewVerifier(publicKey(t, defaultKeyFile()))
	out := map[int64]string{}
	for _, k := range objectKeys(t, root, "traces/") {
		path := filepath.Join(root, filepath.FromSlash(k))
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := gunzip(raw)
		if err != nil {
			t.Fatal(err)
		}
		r, err := v.Verify(data)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[r.Seq] = path
	}
	return out
}

func publicKey(t *testing.T, path string) *ecdsa.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := seal.ParsePublicKeyPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rewrite replaces old with new inside a GZIP object.
func rewrite(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gunzip(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(plain, []byte(old)) {
		t.Fatalf("%s does not hold %q", path, old)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(bytes.Replace(plain, []byte(old), []byte(new), 1))
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// otherPublicKey writes the public half of a fresh key, one that sealed nothing.
func otherPublicKey(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.pem")
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// problemLines are the report's listed problems.
var problemLine = regexp.MustCompile(`(?m)^  - (\S+) `)

func listedKinds(out string) []string {
	section := out
	if i := strings.Index(out, "Problems ("); i >= 0 {
		section = out[i:]
		if j := strings.Index(section, "Notices ("); j >= 0 {
			section = section[:j]
		}
	} else {
		return nil
	}
	var kinds []string
	for _, m := range problemLine.FindAllStringSubmatch(section, -1) {
		kinds = append(kinds, m[1])
	}
	return kinds
}

func TestVerifyPassesAnIntactRoot(t *testing.T) {
	root := sealedRoot(t, 4)
	out, _, err := execute(t, "verify", "--root", root)
	if err != nil || exitCode(err) != ExitOK {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	for _, want := range []string{"Validating the audit trail in " + root, "4/4 record objects valid", "4/4 records valid (0 duplicate copies; every one's own signature checked)",
		"4/4 digests valid", "Chains (1):", "signatures    held", "chains        held", "digests       held", "completeness  held",
		"retention     not checked  a local root has no Object Lock", "VERIFIED: every record verifies and every chain is whole to its proven end; not checked: retention"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	out, _, err = execute(t, "verify", "--root", root, "-o", "json", "--since", "1h")
	var rep verify.Report
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || !rep.Verified || rep.Records.Valid != 4 || len(rep.Findings) != 0 || rep.Since.IsZero() || len(rep.Chains) != 1 {
		t.Fatalf("json report %s, err %v", out, err)
	}
}

// TestVerifyReportFaults are the faults issue 11 part 7 found in the report, as a new user meets them.
func TestVerifyReportFaults(t *testing.T) {
	t.Run("a wrong key is named once, with its counts, and no record is called absent", func(t *testing.T) {
		root := sealedRoot(t, 4)
		out, _, err := execute(t, "verify", "--root", root, "--public-key", otherPublicKey(t))
		fp, _ := seal.Fingerprint(publicKey(t, defaultKeyFile()))
		if exitCode(err) != ExitProblems || !slices.Equal(listedKinds(out), []string{"unknown-key"}) ||
			!strings.Contains(out, "signed by key "+fp+" (issuer local:"+fp+"), which you did not pass: 4 records in 4 objects") || strings.Contains(out, " missing:") || strings.Contains(out, "missing-record") {
			t.Fatalf("exit %d\n%s", exitCode(err), out)
		}
	})
	t.Run("a one-byte change is reported once", func(t *testing.T) {
		root := sealedRoot(t, 4)
		rewrite(t, objectsBySeq(t, root)[1], "391", "392")
		out, _, err := execute(t, "verify", "--root", root)
		if exitCode(err) != ExitProblems || !slices.Equal(listedKinds(out), []string{"bad-signature"}) || !strings.Contains(out, "Problems (1)") {
			t.Fatalf("exit %d, problems %v\n%s", exitCode(err), listedKinds(out), out)
		}
	})
	t.Run("a whole chain is not claimed after its newest record and the chain state were deleted", func(t *testing.T) {
		root := sealedRoot(t, 4)
		os.Remove(objectsBySeq(t, root)[4])
		os.Remove(filepath.Join(root, seal.ChainStateFile))
		os.RemoveAll(filepath.Join(root, "digests")) // and the digests that would name the object gone
		out, _, err := execute(t, "verify", "--root", root)
		if exitCode(err) != ExitOK || strings.Contains(out, "every chain is whole") || !strings.Contains(out, "completeness  not checked") ||
			!strings.Contains(out, "not proven: digests, completeness, retention") {
			t.Fatalf("exit %d\n%s", exitCode(err), out)
		}
	})
	t.Run("with the digests left, the deleted newest record is found", func(t *testing.T) {
		root := sealedRoot(t, 4)
		os.Remove(objectsBySeq(t, root)[4])
		os.Remove(filepath.Join(root, seal.ChainStateFile))
		out, _, err := execute(t, "verify", "--root", root)
		if exitCode(err) != ExitProblems || !slices.Equal(listedKinds(out), []string{"listed-version-gone"}) {
			t.Fatalf("exit %d, problems %v\n%s", exitCode(err), listedKinds(out), out)
		}
	})
	t.Run("a failed report does not claim success", func(t *testing.T) {
		root := sealedRoot(t, 2)
		rewrite(t, objectsBySeq(t, root)[2], "What time", "What tyme")
		out, _, err := execute(t, "verify", "--root", root)
		if exitCode(err) != ExitProblems || strings.Contains(strings.ToLower(out), "verified") || !strings.Contains(out, "FAILED: 1 problem found in "+root) {
			t.Fatalf("exit %d\n%s", exitCode(err), out)
		}
	})
	t.Run("a mistyped --root says it does not exist", func(t *testing.T) {
		root := sealedRoot(t, 1)
		out, _, err := execute(t, "verify", "--root", root+"-typo")
		if exitCode(err) != ExitCannotCheck || !strings.Contains(err.Error(), root+"-typo does not exist") || strings.Contains(out+err.Error(), "no audit records") {
			t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
		}
	})
}

func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, root string, bySeq map[int64]string)
		kinds  []string
		want   string
	}{
		{"a deleted record is the digest's missing object, which held it", func(t *testing.T, root string, bySeq map[int64]string) {
			os.Remove(bySeq[2])
		}, []string{"listed-version-gone"}, "it held the records the chains lack"},
		{"deleting the last records is found", func(t *testing.T, root string, bySeq map[int64]string) {
			os.Remove(bySeq[3])
			os.Remove(bySeq[4])
			os.RemoveAll(filepath.Join(root, "digests"))
		}, []string{"chain-end-missing"}, "records 3..4 missing at the end of the chain: the chain state says it reached 4"},
		{"a record copied over another breaks a signature or a link", func(t *testing.T, root string, bySeq map[int64]string) {
			data, _ := os.ReadFile(bySeq[1])
			os.WriteFile(bySeq[2], data, 0o644)
			os.RemoveAll(filepath.Join(root, "digests"))
		}, []string{"missing-record"}, "record 2 missing"},
		{"an empty root is a failure, not a pass", func(t *testing.T, root string, bySeq map[int64]string) {
			os.RemoveAll(filepath.Join(root, "traces"))
			os.RemoveAll(filepath.Join(root, "digests"))
			os.Remove(filepath.Join(root, seal.ChainStateFile))
		}, []string{"no-records"}, "nothing was verified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := sealedRoot(t, 4)
			tt.tamper(t, root, objectsBySeq(t, root))
			out, _, err := execute(t, "verify", "--root", root)
			if exitCode(err) != ExitProblems || !slices.Equal(listedKinds(out), tt.kinds) || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d (%v), problems %v, want %v and %q:\n%s", exitCode(err), err, listedKinds(out), tt.kinds, tt.want, out)
			}
		})
	}
}

func TestVerifyJSONFindingsAreObjectsInAStableOrder(t *testing.T) {
	root := sealedRoot(t, 4)
	bySeq := objectsBySeq(t, root)
	rewrite(t, bySeq[3], "Count the words", "Count the wordz")
	rewrite(t, bySeq[1], "391", "392")
	var first string
	for range 3 {
		out, _, err := execute(t, "verify", "--root", root, "-o", "json")
		if exitCode(err) != ExitProblems {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		if first == "" {
			first = out
		} else if out != first {
			t.Fatalf("two runs print different reports:\n%s\n%s", first, out)
		}
	}
	var rep struct {
		Verified bool             `json:"verified"`
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(first), &rep); err != nil || rep.Verified || len(rep.Findings) != 2 {
		t.Fatalf("%v\n%s", err, first)
	}
	seqs := map[float64]bool{}
	for i, f := range rep.Findings {
		seqs[f["seq"].(float64)] = true
		if f["kind"] != "bad-signature" || f["severity"] != "problem" || f["line"] != 1.0 || f["chain"] == "" || f["trace_id"] == "" ||
			!strings.HasPrefix(f["key"].(string), "traces/") {
			t.Errorf("finding %d: %v", i, f)
		}
	}
	if !seqs[1] || !seqs[3] || rep.Findings[0]["key"].(string) > rep.Findings[1]["key"].(string) {
		t.Errorf("findings not in key order: %v", rep.Findings)
	}
}

func TestVerifyExitCodes(t *testing.T) {
	root := sealedRoot(t, 1)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "example")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // nothing listens: S3 and KMS cannot be reached
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, ExitOK, ""},
		{[]string{"--since", "last tuesday"}, ExitUsage, "--since \"last tuesday\": want a duration"},
		{[]string{"-o", "yaml"}, ExitUsage, "want text or json"},
		{[]string{"--retention-days", "-1"}, ExitUsage, "want 0 or more"},
		{[]string{"--no-such-flag"}, ExitUsage, "unknown flag"},
		{[]string{"extra-argument"}, ExitUsage, "unknown command"},
		{[]string{"--public-key", filepath.Join(root, "nope.pem")}, ExitUsage, "no such file"},
		{[]string{"--root", "s3://some-bucket"}, ExitUsage, "pass the stack's public key"},
		{[]string{"--root", filepath.Join(root, "nope")}, ExitCannotCheck, "does not exist"},
		{[]string{"--root", "s3://some-bucket", "--public-key", defaultKeyFile()}, ExitCannotCheck, "connect"},
		{[]string{"--kms-key-id", "arn:aws:kms:eu-west-1:123456789012:key/x"}, ExitCannotCheck, "kms GetPublicKey"},
	}
	for _, tt := range tests {
		_, _, err := execute(t, append([]string{"verify", "--root", root}, tt.args...)...)
		if exitCode(err) != tt.code || (tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want))) {
			t.Errorf("verify %v: exit %d (%v), want %d and %q", tt.args, exitCode(err), err, tt.code, tt.want)
		}
	}
	rewrite(t, objectsBySeq(t, root)[1], "391", "392")
	if _, _, err := execute(t, "verify", "--root", root); exitCode(err) != ExitProblems {
		t.Errorf("a tampered root: exit %d (%v), want %d", exitCode(err), err, ExitProblems)
	}
	t.Setenv(agentenv.SigningKeyFile, filepath.Join(t.TempDir(), "absent.pem"))
	if _, _, err := execute(t, "verify", "--root", root); exitCode(err) != ExitCannotCheck || !strings.Contains(err.Error(), "pass the key that certified the records") {
		t.Errorf("no local signing key to check against: exit %d (%v), want %d", exitCode(err), err, ExitCannotCheck)
	}
	if got, _ := parseSince("2026-11-01", time.Now()); !got.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("--since 2026-11-01 read as %v", got)
	}
}

func TestVerifyChecksOversizeContent(t *testing.T) {
	root := filepath.Join(t.TempDir(), "audit-data")
	event := filepath.Join(t.TempDir(), "big.json")
	prompt, _ := json.Marshal(map[string]string{"prompt": "Count the words: " + strings.Repeat("lorem ipsum ", 87_000)})
	os.WriteFile(event, prompt, 0o644)
	if _, stderr, err := execute(t, "run", "--root", root, "--max-prompt-bytes", "1048576", "--event", event); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	// audit show reads the oversize content back in place of the reference.
	traces, _, err := execute(t, "traces", "--root", root, "-o", "csv")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.SplitN(strings.Split(traces, "\n")[1], ",", 3)[1]
	shown, _, err := execute(t, "show", id, "--root", root)
	resolved := regexp.MustCompile(`(?m)^\s+gen_ai\.tool\.call\.arguments\s+\{"text":"lorem ipsum lorem`)
	if err != nil || !resolved.MatchString(shown) || !strings.Contains(shown, "agent_audit.oversize.key") {
		t.Fatalf("show %s: %v\n%s", id, err, shown)
	}
	out, _, err := execute(t, "verify", "--root", root)
	if err != nil || !strings.Contains(out, "4/4 oversize objects valid") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	keys := objectKeys(t, root, "oversize/")
	if len(keys) != 4 {
		t.Fatalf("%d oversize objects", len(keys))
	}
	rewrite(t, filepath.Join(root, keys[0]), "lorem", "LOREM")
	os.Remove(filepath.Join(root, keys[1]))
	out, _, err = execute(t, "verify", "--root", root)
	if exitCode(err) != ExitProblems || !slices.Equal(listedKinds(out), []string{"oversize-mismatch", "oversize-missing"}) {
		t.Fatalf("verify passed tampered oversize content (exit %d, problems %v):\n%s", exitCode(err), listedKinds(out), out)
	}
	for _, want := range []string{"oversize-mismatch " + keys[0], "content hashes to", "oversize-missing " + keys[1], "referenced by span"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestVerifyExpectsTheStacksDefaultRetention(t *testing.T) {
	if DefaultVerifyRetentionDays != components.DefaultRetentionDays {
		t.Fatalf("audit verify expects %d days of retention by default, the stack deploys %d", DefaultVerifyRetentionDays, components.DefaultRetentionDays)
	}
}
