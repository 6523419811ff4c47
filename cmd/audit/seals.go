package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// recordSeal is what the seal of one record holding a trace's spans says, as `audit show` prints it.
type recordSeal struct {
	Key  string
	Line int
	// Sealed is false for a record that carries no seal.
	Sealed bool
	// Chain, Seq, KeyFingerprint, Issuer and SealTime are what the seal claims (unverified unless Verified).
	Chain          string
	Seq            int64
	KeyFingerprint string
	Issuer         string
	SealTime       time.Time
	// Verified is true when the seal verifies under an accepted key (seal.Verifier.Verify).
	Verified bool
	// Problem says why it does not verify ("" when it does).
	Problem string
}

// sealFlags are the keys a read command checks seals with.
type sealFlags struct {
	publicKeys []string
}

func (f *sealFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.publicKeys, "public-key", nil, "PEM public key that certifies the records, for seal checks (local roots: the local signing key); repeatable")
}

// verifier returns the seal verifier for root: the keys given, or for a local root the local signing key when
// there is one. keyed is false when no key is accepted (seals are then read, not verified).
func (f sealFlags) verifier(root string) (v *seal.Verifier, keyed bool, err error) {
	paths := f.publicKeys
	if len(paths) == 0 && !strings.HasPrefix(root, "s3://") {
		if _, err := os.Stat(defaultKeyFile()); err == nil {
			paths = []string{defaultKeyFile()}
		}
	}
	keys, err := readPublicKeys(paths)
	if err != nil {
		return nil, false, usageError(err)
	}
	return seal.NewVerifier(keys...), len(keys) > 0, nil
}

// objectKey turns a source_file of the views (the root, a slash, the key) back into the object's key.
func objectKey(root, sourceFile string) string {
	if k, ok := strings.CutPrefix(sourceFile, strings.TrimRight(root, "/")+"/"); ok {
		return k
	}
	if i := strings.Index(sourceFile, "/traces/"); i >= 0 {
		return sourceFile[i+1:]
	}
	return sourceFile
}

// recordSeals reads each object and checks, with v, every record whose spans belong to one of traces (all
// records when traces is nil). It returns the seals by trace ID, in object and line order.
func recordSeals(ctx context.Context, store trail.Store, keys []string, traces map[string]bool, v *seal.Verifier) (map[string][]recordSeal, error) {
	out := map[string][]recordSeal{}
	for _, key := range keys {
		raw, err := store.Get(ctx, key, "")
		if err != nil {
			return nil, fmt.Errorf("read %s for its seals: %w", key, err)
		}
		data, err := gunzip(raw)
		if err != nil {
			return nil, fmt.Errorf("read %s for its seals: %w", key, err)
		}
		// Lines keep their newline: the seal Verifier reads them as the trail stores them.
		for n, line := range bytes.SplitAfter(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			rs := checkSeal(line, v)
			rs.Key, rs.Line = key, n+1
			id := traceOfRecord(line)
			if traces == nil || traces[id] {
				out[id] = append(out[id], rs)
			}
		}
	}
	return out, nil
}

// checkSeal verifies one record's seal.
func checkSeal(line []byte, v *seal.Verifier) recordSeal {
	r, err := v.Verify(line)
	rs := recordSeal{Sealed: !errors.Is(err, seal.ErrUnsealed), Chain: r.Chain, Seq: r.Seq, KeyFingerprint: r.KeyFingerprint,
		Issuer: r.Issuer, SealTime: r.SealTime, Verified: err == nil}
	if r.TraceID == "" {
		r.TraceID = traceOfRecord(line)
	}
	switch {
	case errors.Is(err, seal.ErrUnknownKey):
		rs.Problem = "signed by a key that was not passed (--public-key)"
	case err != nil:
		rs.Problem = err.Error()
	}
	return rs
}

// traceOfRecord is the trace ID of a record line's first span ("" when it has none), found without unmarshalling
// the record (the seal Verifier reads it so only from a record it can parse).
func traceOfRecord(line []byte) string {
	const field = `"traceId":"`
	i := bytes.Index(line, []byte(field))
	if i < 0 || len(line) < i+len(field)+32 {
		return ""
	}
	return string(line[i+len(field) : i+len(field)+32])
}

// describeSeals writes a trace's seal status, one line per record.
func describeSeals(seals []recordSeal, keyed bool) []string {
	if len(seals) == 0 {
		return []string{"seal: no record of this trace was found"}
	}
	var out []string
	for _, s := range seals {
		where := fmt.Sprintf("%s line %d", s.Key, s.Line)
		if !s.Sealed {
			out = append(out, "seal: NOT SEALED  "+where)
			continue
		}
		verdict := "verifies"
		switch {
		case !keyed:
			verdict = "not checked: no key (pass --public-key)"
		case !s.Verified:
			verdict = "DOES NOT VERIFY: " + s.Problem
		}
		out = append(out, fmt.Sprintf("seal: %s  chain %s seq %d  key %s (issuer %s)  sealed %s  %s",
			verdict, s.Chain, s.Seq, s.KeyFingerprint, s.Issuer, s.SealTime.UTC().Format("2006-01-02 15:04:05 UTC"), where))
	}
	return out
}
