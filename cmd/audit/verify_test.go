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

	"github.com/agent-audit/agent-audit/components"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// sealedRoot runs the agent n times into a fresh root, each run one sealed record of one chain.
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

// objectsBySeq maps each record's chain position to the object holding it.
func objectsBySeq(t *testing.T, root string) map[int64]string {
	t.Helper()
	v := seal.NewVerifier(publicKey(t, defaultKeyFile()))
	out := map[int64]string{}
	store := trail.NewLocal(root)
	keys, err := currentKeys(context.Background(), store, "traces/")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		data, err := read(context.Background(), store, k)
		if err != nil {
			t.Fatal(err)
		}
		r, err := v.Verify(data)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[r.Seq] = filepath.Join(root, filepath.FromSlash(k))
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

func TestVerifyPassesAnIntactRoot(t *testing.T) {
	root := sealedRoot(t, 4)
	out, _, err := execute(t, "verify", "--root", root)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	for _, want := range []string{"records          4 (0 duplicate copies)", "chains           1", "OK: every record verifies"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	out, _, err = execute(t, "verify", "--root", root, "-o", "json", "--since", "1h")
	var rep verifyReport
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Records != 4 || len(rep.Problems) != 0 || rep.Since == "" {
		t.Fatalf("json report %s, err %v", out, err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	otherKey := filepath.Join(t.TempDir(), "other.pem")
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	os.WriteFile(otherKey, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)

	tests := []struct {
		name   string
		tamper func(t *testing.T, root string, bySeq map[int64]string) []string
		want   []string
	}{
		{"a changed answer breaks its signature", func(t *testing.T, root string, bySeq map[int64]string) []string {
			rewrite(t, bySeq[1], "391", "392")
			return nil
		}, []string{"line 1: record 1 of chain", "signature does not verify"}},
		{"a deleted record leaves a gap", func(t *testing.T, root string, bySeq map[int64]string) []string {
			os.Remove(bySeq[2])
			return nil
		}, []string{"seq 2: record missing"}},
		{"deleting the last records is found from the root's chain state", func(t *testing.T, root string, bySeq map[int64]string) []string {
			os.Remove(bySeq[3])
			os.Remove(bySeq[4])
			return nil
		}, []string{"seq 3: records 3..4 missing at the end of the chain"}},
		{"a record copied over another is a fork", func(t *testing.T, root string, bySeq map[int64]string) []string {
			data, _ := os.ReadFile(bySeq[1])
			os.WriteFile(bySeq[1]+".copy.gz", data, 0o644)
			os.Remove(bySeq[2])
			os.WriteFile(bySeq[2], data, 0o644)
			return nil
		}, []string{"seq 2: record missing"}},
		{"records vouched for by a key not passed are refused, naming it", func(t *testing.T, root string, bySeq map[int64]string) []string {
			return []string{"--public-key", otherKey}
		}, []string{"certificate signed by key sha256:", "which was not passed"}},
		{"an empty root is a failure, not a pass", func(t *testing.T, root string, bySeq map[int64]string) []string {
			os.RemoveAll(filepath.Join(root, "traces"))
			os.Remove(filepath.Join(root, seal.ChainStateFile))
			return nil
		}, []string{"no audit records found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := sealedRoot(t, 4)
			args := append([]string{"verify", "--root", root}, tt.tamper(t, root, objectsBySeq(t, root))...)
			out, _, err := execute(t, args...)
			if err == nil || !strings.Contains(err.Error(), "problem") {
				t.Fatalf("verify passed a tampered root (err %v):\n%s", err, out)
			}
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q:\n%s", want, out)
				}
			}
		})
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
	if err != nil || !strings.Contains(out, "oversize objects 4") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	keys, _ := currentKeys(context.Background(), trail.NewLocal(root), "oversize/")
	if len(keys) != 4 {
		t.Fatalf("%d oversize objects", len(keys))
	}
	slices.Sort(keys)
	rewrite(t, filepath.Join(root, keys[0]), "lorem", "LOREM")
	os.Remove(filepath.Join(root, keys[1]))
	out, _, err = execute(t, "verify", "--root", root)
	if err == nil {
		t.Fatalf("verify passed tampered oversize content:\n%s", out)
	}
	for _, want := range []string{keys[0] + " (referenced at", "hashes to", keys[1] + " (referenced at", "no such file"} {
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

func TestVerifyFlagsAreChecked(t *testing.T) {
	root := sealedRoot(t, 1)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--since", "last tuesday"}, "--since \"last tuesday\": want a duration"},
		{[]string{"-o", "yaml"}, "want text or json"},
		{[]string{"--retention-days", "-1"}, "want 0 or more"},
		{[]string{"--public-key", filepath.Join(root, "nope.pem")}, "no such file"},
		{[]string{"--root", "s3://some-bucket"}, "pass the stack's public key"},
	}
	for _, tt := range tests {
		_, _, err := execute(t, append([]string{"verify", "--root", root}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("verify %v: error %v, want %q", tt.args, err, tt.want)
		}
	}
	if got, _ := parseSince("2026-11-01", time.Now()); !got.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("--since 2026-11-01 read as %v", got)
	}
}
