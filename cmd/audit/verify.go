package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
)

// DefaultVerifyRetentionDays is the Object Lock horizon verify expects by default: the stack's default
// auditRetentionDays (a test keeps the two equal).
const DefaultVerifyRetentionDays = 7

// retentionSlack absorbs the clock difference between an object's LastModified and the instant S3 computed its
// default retention from.
const retentionSlack = time.Minute

type verifyFlags struct {
	root          string
	since         string
	publicKeys    []string
	kmsKeyID      string
	retentionDays int
	output        string
}

func newVerifyCommand() *cobra.Command {
	f := verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every record's signature and chain, oversize content, and (on S3) Object Lock retention",
		Long: `Verify reads every audit record under the root and checks that:
  - each record's seal verifies with one of the public keys (no byte changed since it was signed);
  - every chain is whole: no record missing, each record linked to the one before, no two different records
    at one position (a retried delivery's byte-identical copy is counted as a duplicate, not a problem);
  - each oversize object a span references exists and hashes to what the span says;
  - on s3:// roots, every object version carries Object Lock retention reaching at least --retention-days
    past its creation, no audit record object was overwritten, and nothing carries a delete marker.
It prints a summary and exits non-zero on any problem, or when it found no record to check.

Local roots are checked against the local signing key (` + "`audit run`" + `'s --signing-key) unless --public-key is
given; for the bucket pass the stack's public key (pulumi stack output signingPublicKeyPem) or --kms-key-id.`,
		Example: `  audit verify
  audit verify --root ./audit-data --since 24h
  pulumi stack output signingPublicKeyPem > audit-signing.pub.pem
  audit verify --root s3://my-audit-bucket --public-key audit-signing.pub.pem --since 2026-11-01 --retention-days 365`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return verify(cmd.Context(), cmd.OutOrStdout(), f, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.root, "root", defaultReadRoot(), "audit root: a local directory or s3://bucket (default s3://$AUDIT_BUCKET, else ./audit-data)")
	fl.StringVar(&f.since, "since", "", "only records in hour partitions from then on: a duration (24h) or a date or RFC 3339 time (default: everything)")
	fl.StringArrayVar(&f.publicKeys, "public-key", nil, "PEM public key (or local private key) whose signatures are accepted; repeatable")
	fl.StringVar(&f.kmsKeyID, "kms-key-id", "", "also accept signatures of this KMS key, whose public key is fetched with kms:GetPublicKey")
	fl.IntVar(&f.retentionDays, "retention-days", DefaultVerifyRetentionDays, "Object Lock horizon each object version must reach, days (s3:// roots)")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return cmd
}

// verifyReport is what verify found; -o json prints it as is.
type verifyReport struct {
	Root            string   `json:"root"`
	Since           string   `json:"since,omitempty"`
	Objects         int      `json:"objects"`
	Records         int      `json:"records"`
	Chains          int      `json:"chains"`
	Duplicates      int      `json:"duplicates"`
	OversizeObjects int      `json:"oversize_objects"`
	Versions        int      `json:"object_versions_checked"`
	Problems        []string `json:"problems"`
}

func verify(ctx context.Context, stdout io.Writer, f verifyFlags, now time.Time) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.output != "text" && f.output != FormatJSON {
		return fmt.Errorf("--output %q: want text or json", f.output)
	}
	if f.retentionDays < 0 {
		return fmt.Errorf("--retention-days %d: want 0 or more", f.retentionDays)
	}
	since, err := parseSince(f.since, now)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, f.root)
	if err != nil {
		return err
	}
	bucket, _ := store.(trail.RetentionReader)
	keys, err := verifierKeys(ctx, f, bucket != nil)
	if err != nil {
		return err
	}

	rep := verifyReport{Root: f.root, Problems: []string{}}
	if !since.IsZero() {
		rep.Since = since.Format(time.RFC3339)
	}
	problem := func(format string, args ...any) { rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...)) }
	objects, err := currentKeys(ctx, store, "traces/")
	if err != nil {
		return err
	}
	v := seal.NewVerifier(keys...)
	var chains seal.Chains
	oversize := map[string]oversizeRef{}
	for _, key := range objects {
		if !inWindow(key, since) {
			continue
		}
		rep.Objects++
		data, err := read(ctx, store, key)
		if err != nil {
			problem("%s: %v", key, err)
			continue
		}
		for i, line := range bytes.SplitAfter(data, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			where := fmt.Sprintf("%s line %d", key, i+1)
			r, err := v.Verify(line)
			if err != nil {
				problem("%s: %v", where, err)
				continue
			}
			chains.Add(r, where)
			if bytes.Contains(line, []byte(audit.AttrOversizeKey)) {
				if err := collectOversize(line, where, oversize); err != nil {
					problem("%s: %v", where, err)
				}
			}
		}
	}
	if bucket == nil {
		// A local root records how far its chain reached, so records deleted from the end are found too.
		st, err := seal.ReadChainState(filepath.Join(f.root, seal.ChainStateFile))
		switch {
		case err == nil:
			chains.Expect(st.Chain, st.Seq)
		case !errors.Is(err, fs.ErrNotExist):
			problem("%v", err)
		}
	}
	cr := chains.Check(!since.IsZero())
	rep.Records, rep.Chains, rep.Duplicates = cr.Records+cr.Duplicates, cr.Chains, cr.Duplicates
	for _, p := range cr.Problems {
		problem("%s", p)
	}
	for key, ref := range oversize {
		rep.OversizeObjects++
		if err := checkOversize(ctx, store, key, ref); err != nil {
			problem("%s (referenced at %s): %v", key, ref.where, err)
		}
	}
	if bucket != nil {
		n, err := checkRetention(ctx, store, bucket, since, time.Duration(f.retentionDays)*24*time.Hour, oversize, problem)
		if err != nil {
			return err
		}
		rep.Versions = n
	}
	if rep.Records == 0 && len(rep.Problems) == 0 {
		msg := "no audit records found under " + strings.TrimSuffix(f.root, "/") + "/traces/"
		if !since.IsZero() {
			msg += " since " + rep.Since
		}
		problem("%s", msg)
	}
	if err := printVerifyReport(stdout, f.output, rep); err != nil {
		return err
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("verify: %s", problems(len(rep.Problems)))
	}
	return nil
}

// verifierKeys gathers the accepted public keys: the --public-key files, the --kms-key-id's public key, and for
// a local root with neither, the local signing key.
func verifierKeys(ctx context.Context, f verifyFlags, s3Root bool) ([]*ecdsa.PublicKey, error) {
	files := f.publicKeys
	if len(files) == 0 && f.kmsKeyID == "" {
		if s3Root {
			return nil, errors.New("verify: pass the stack's public key with --public-key (pulumi stack output signingPublicKeyPem) or --kms-key-id")
		}
		files = []string{defaultKeyFile()}
	}
	var keys []*ecdsa.PublicKey
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("verify: public key: %w", err)
		}
		k, err := seal.ParsePublicKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("verify: public key %s: %w", path, err)
		}
		keys = append(keys, k)
	}
	if f.kmsKeyID != "" {
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		out, err := kms.NewFromConfig(cfg).GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(f.kmsKeyID)})
		if err != nil {
			return nil, fmt.Errorf("verify: kms GetPublicKey %s: %w", f.kmsKeyID, err)
		}
		k, err := seal.ParsePublicKeyDER(out.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("verify: KMS key %s: %w", f.kmsKeyID, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// oversizeRef is what a span says of its oversize object.
type oversizeRef struct {
	sha256 string
	bytes  int64
	where  string
}

// collectOversize records the oversize references of the record's spans.
func collectOversize(line []byte, where string, refs map[string]oversizeRef) error {
	var u ptrace.JSONUnmarshaler
	td, err := u.UnmarshalTraces(line)
	if err != nil {
		return err
	}
	var errs []error
	for _, rs := range td.ResourceSpans().All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				key, ok := sp.Attributes().Get(audit.AttrOversizeKey)
				if !ok {
					continue
				}
				if !strings.HasPrefix(key.Str(), audit.OversizePrefix) || strings.Contains(key.Str(), "..") {
					errs = append(errs, fmt.Errorf("span %s references %q, outside %s", sp.SpanID(), key.Str(), audit.OversizePrefix))
					continue
				}
				sha, _ := sp.Attributes().Get(audit.AttrOversizeSHA256)
				size, _ := sp.Attributes().Get(audit.AttrOversizeBytes)
				refs[key.Str()] = oversizeRef{sha256: sha.Str(), bytes: size.Int(), where: where}
			}
		}
	}
	return errors.Join(errs...)
}

// checkOversize reads one oversize object and compares it with its reference.
func checkOversize(ctx context.Context, store trail.Store, key string, ref oversizeRef) error {
	content, err := read(ctx, store, key)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(content)
	if got := hex.EncodeToString(sum[:]); got != ref.sha256 {
		return fmt.Errorf("content hashes to %s, the span says %s", got, ref.sha256)
	}
	if int64(len(content)) != ref.bytes {
		return fmt.Errorf("content is %d bytes, the span says %d", len(content), ref.bytes)
	}
	return nil
}

// checkRetention checks every version under traces/ (in the window) and every referenced oversize object: each
// must carry Object Lock retention reaching horizon past its creation; record objects are written once, so a
// second version means an overwrite; a delete marker means someone deleted the current version.
func checkRetention(ctx context.Context, store trail.Store, bucket trail.RetentionReader, since time.Time, horizon time.Duration, oversize map[string]oversizeRef, problem func(string, ...any)) (int, error) {
	checked := 0
	for _, prefix := range []string{"traces/", audit.OversizePrefix} {
		versions, err := store.Versions(ctx, prefix, "")
		if err != nil {
			return checked, err
		}
		perKey := map[string]int{}
		for _, o := range versions {
			ov := objectVersion{key: o.Key, versionID: o.VersionID, modified: o.LastModified, deleteMarker: o.DeleteMarker}
			if !o.DeleteMarker {
				r, err := bucket.Retention(ctx, o.Key, o.VersionID)
				if err != nil {
					return checked, err
				}
				ov.mode, ov.retainUntil = r.Mode, r.RetainUntil
			}
			if prefix == "traces/" && !inWindow(ov.key, since) {
				continue
			}
			if _, referenced := oversize[ov.key]; prefix == audit.OversizePrefix && !referenced {
				continue
			}
			if ov.deleteMarker {
				problem("%s: delete marker %s at %s: the object was deleted (its locked versions remain)", ov.key, ov.versionID, ov.modified.Format(time.RFC3339))
				continue
			}
			checked++
			perKey[ov.key]++
			want := ov.modified.Add(horizon - retentionSlack)
			switch {
			case ov.mode == "":
				problem("%s version %s: no Object Lock retention", ov.key, ov.versionID)
			case ov.retainUntil.Before(want):
				problem("%s version %s: %s retention until %s, short of %s (%d days after it was written)", ov.key, ov.versionID,
					ov.mode, ov.retainUntil.Format(time.RFC3339), ov.modified.Add(horizon).Format(time.RFC3339), int(horizon.Hours()/24))
			}
		}
		if prefix == "traces/" {
			for key, n := range perKey {
				if n > 1 {
					problem("%s: %d versions: an audit object was overwritten", key, n)
				}
			}
		}
	}
	return checked, nil
}

// objectVersion is one version of an object, with its Object Lock retention.
type objectVersion struct {
	key, versionID string
	modified       time.Time
	deleteMarker   bool
	mode           string
	retainUntil    time.Time
}

// currentKeys lists the keys under prefix that have a current version (not behind a delete marker).
func currentKeys(ctx context.Context, store trail.Store, prefix string) ([]string, error) {
	versions, err := store.Versions(ctx, prefix, "")
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, o := range versions {
		if o.IsLatest && !o.DeleteMarker {
			keys = append(keys, o.Key)
		}
	}
	return keys, nil
}

// read gets the current version of key, gunzipped.
func read(ctx context.Context, store trail.Store, key string) ([]byte, error) {
	b, err := store.Get(ctx, key, "")
	if err != nil {
		return nil, err
	}
	return gunzip(b)
}

// partitionHour reads the hour partition of a traces/ key.
var partitionHour = regexp.MustCompile(`year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/`)

// inWindow reports whether key's hour partition ends after since (every key when since is zero, and keys outside
// the layout, so they are checked rather than skipped).
func inWindow(key string, since time.Time) bool {
	if since.IsZero() {
		return true
	}
	m := partitionHour.FindStringSubmatch(key)
	if m == nil {
		return true
	}
	n := make([]int, 4)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	hour := time.Date(n[0], time.Month(n[1]), n[2], n[3], 0, 0, 0, time.UTC)
	return hour.Add(time.Hour).After(since)
}

// parseSince reads --since: empty, a duration before now, a date, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration such as 24h, a date such as 2026-11-01, or an RFC 3339 time", s)
}

func printVerifyReport(w io.Writer, format string, rep verifyReport) error {
	if format == FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	window := "everything"
	if rep.Since != "" {
		window = "since " + rep.Since
	}
	fmt.Fprintf(w, "verified %s (%s)\n", rep.Root, window)
	fmt.Fprintf(w, "  objects          %d\n  records          %d (%d duplicate copies)\n  chains           %d\n  oversize objects %d\n",
		rep.Objects, rep.Records, rep.Duplicates, rep.Chains, rep.OversizeObjects)
	if strings.HasPrefix(rep.Root, "s3://") {
		fmt.Fprintf(w, "  object versions  %d checked for Object Lock retention\n", rep.Versions)
	}
	if len(rep.Problems) == 0 {
		fmt.Fprintln(w, "OK: every record verifies and every chain is whole")
		return nil
	}
	fmt.Fprintf(w, "FAILED: %s\n", problems(len(rep.Problems)))
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "  -", p)
	}
	return nil
}

func problems(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}
