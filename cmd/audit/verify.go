package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/spf13/cobra"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
	"github.com/agent-audit/agent-audit/trail/verify"
)

// DefaultVerifyRetentionDays is the Object Lock horizon verify expects by default: the stack's default
// auditRetentionDays (a test keeps the two equal).
const DefaultVerifyRetentionDays = 7

type verifyFlags struct {
	root             string
	window           timeWindow
	publicKeys       []string
	kmsKeyID         string
	digestPublicKeys []string
	digestKMSKeyID   string
	retentionDays    int
	allSignatures    bool
	output           string
}

func newVerifyCommand() *cobra.Command {
	f := verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the trail: record seals, chains, digests, oversize content and (on S3) Object Lock retention",
		Long: `Verify reads every audit record under the root and reports, as aws cloudtrail validate-logs does, what it
covered (the root, the records' time range, every chain from its first to its last seq, the keys accepted),
how many objects, records and digests were valid, each problem found, and which guarantees held:
  signatures    each record verifies under the key its certificate names, certified by a key you passed;
  chains        no seq missing between the records present, every record linked to the one before, no fork
                (a retried delivery's byte-identical copy is a duplicate, a notice);
  digests       the signed digest chain is whole and lists exactly the object versions that are there;
  completeness  nothing is missing from the end of a chain and no chain is gone: proven by the digests, or for
                a local root by its chain state; otherwise it says it is not proven;
  retention     on s3:// roots, every object version is under Object Lock for --retention-days past its
                creation, and none was overwritten or deleted.
Oversize content each record references is checked against the hash the record carries.

--since takes the forms of every command's --since, and verify reads whole hour partitions: it checks every
record of the hour --since falls in (the header says from which hour). It has no --until: a chain is checked to
its end.

Exit status: 0 verified (no problem; the guarantees say what is proven), 1 an integrity problem was found,
2 a usage error (a bad flag), 3 the trail could not be checked (the root does not exist or cannot be read,
credentials are missing, the KMS key cannot be reached).

Local roots are checked against the local signing key (` + "`audit run`" + `'s --signing-key) unless --public-key is
given, and so are their digests. For the bucket pass the stack's public key (pulumi stack output
signingPublicKeyPem) or --kms-key-id, and for its digests --digest-public-key (digestPublicKeyPem).`,
		Example: `  audit verify
  audit verify --root ./audit-data --since 24h -o json
  pulumi stack output signingPublicKeyPem > audit-signing.pub.pem
  pulumi stack output digestPublicKeyPem > audit-digest.pub.pem
  audit verify --root s3://my-audit-bucket --public-key audit-signing.pub.pem \
    --digest-public-key audit-digest.pub.pem --since 2026-11-01 --retention-days 365`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerify(cmd.Context(), cmd.OutOrStdout(), f, time.Now())
		},
	}
	fl := cmd.Flags()
	registerRootFlag(cmd, &f.root)
	registerTimeWindow(cmd, &f.window, "", false)
	fl.StringArrayVar(&f.publicKeys, "public-key", nil, "PEM public key (or local private key) that certifies the records; repeatable")
	fl.StringVar(&f.kmsKeyID, "kms-key-id", "", "also accept records certified by this KMS key, whose public key is fetched with kms:GetPublicKey")
	fl.StringArrayVar(&f.digestPublicKeys, "digest-public-key", nil, "PEM public key of the digest writer; repeatable (local roots: the local signing key)")
	fl.StringVar(&f.digestKMSKeyID, "digest-kms-key-id", "", "also accept digests signed by this KMS key (kms:GetPublicKey)")
	fl.IntVar(&f.retentionDays, "retention-days", DefaultVerifyRetentionDays, "Object Lock horizon each object version must reach, days (s3:// roots)")
	fl.BoolVar(&f.allSignatures, "all-signatures", false, "check every record's own signature, also where the next record's signed link authenticates it")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return cmd
}

// runVerify checks the root and prints the report; its error carries the exit code.
func runVerify(ctx context.Context, stdout io.Writer, f verifyFlags, now time.Time) error {
	if ctx == nil {
		ctx = context.Background()
	}
	f.root = readRoot(f.root)
	opts, err := verifyOptions(f, now)
	if err != nil {
		return usageError(err)
	}
	s3Root := strings.HasPrefix(f.root, "s3://")
	if s3Root && len(f.publicKeys) == 0 && f.kmsKeyID == "" {
		return usageError(errors.New("verify: pass the stack's public key with --public-key (pulumi stack output signingPublicKeyPem) or --kms-key-id"))
	}
	if !s3Root {
		if _, err := os.Stat(f.root); err != nil {
			return cannotCheckError(fmt.Errorf("verify: the audit root %s does not exist or cannot be read: %w", f.root, err))
		}
	}
	store, err := openStore(ctx, f.root)
	if err != nil {
		return cannotCheckError(err)
	}
	if err := acceptedKeys(ctx, store, f, &opts); err != nil {
		return err
	}
	rep, err := verify.Verify(ctx, store, opts)
	if err != nil {
		return cannotCheckError(err)
	}
	if err := printReport(stdout, f.output, rep); err != nil {
		return err
	}
	if !rep.Verified {
		return problemsError(fmt.Errorf("verify %s: %s", f.root, count(rep.Problems, "problem")))
	}
	return nil
}

// verifyOptions reads the flags that need no I/O.
func verifyOptions(f verifyFlags, now time.Time) (verify.Options, error) {
	if f.output != "text" && f.output != FormatJSON {
		return verify.Options{}, fmt.Errorf("--output %q: want text or json", f.output)
	}
	if f.retentionDays < 0 {
		return verify.Options{}, fmt.Errorf("--retention-days %d: want 0 or more", f.retentionDays)
	}
	since, _, err := f.window.resolve(now)
	if err != nil {
		return verify.Options{}, err
	}
	return verify.Options{Since: since, Retention: time.Duration(f.retentionDays) * 24 * time.Hour, AllSignatures: f.allSignatures, Now: now}, nil
}

// acceptedKeys reads the record and digest keys into opts: the files and KMS keys given, or for a local root
// without them, the local signing key (for digests only when the root holds digests, which `audit run` and
// `audit demo` write; a root without any is reported as not covered by digests rather than failed).
func acceptedKeys(ctx context.Context, store trail.Store, f verifyFlags, opts *verify.Options) error {
	_, local := store.(*trail.Local)
	var keys []*ecdsa.PublicKey
	var err error
	if len(f.publicKeys) == 0 && f.kmsKeyID == "" {
		if keys, err = readPublicKeys([]string{defaultKeyFile()}); err != nil {
			return cannotCheckError(fmt.Errorf("%w (the local signing key; pass the key that certified the records with --public-key)", err))
		}
	} else if keys, err = readPublicKeys(f.publicKeys); err != nil {
		return usageError(err)
	}
	if f.kmsKeyID != "" {
		k, err := kmsPublicKey(ctx, f.kmsKeyID)
		if err != nil {
			return cannotCheckError(err)
		}
		keys = append(keys, k)
		opts.LegacyKeyIDs = map[string]*ecdsa.PublicKey{f.kmsKeyID: k} // format-1 records name the key by ARN
	}
	opts.Keys = keys

	digestFiles := f.digestPublicKeys
	if len(digestFiles) == 0 && f.digestKMSKeyID == "" && local {
		ds, err := store.Versions(ctx, digest.Prefix, "")
		if err != nil {
			return cannotCheckError(err)
		}
		if len(ds) == 0 {
			return nil
		}
		digestFiles = []string{defaultKeyFile()}
	}
	digestKeys, err := readPublicKeys(digestFiles)
	if err != nil {
		return usageError(err)
	}
	if f.digestKMSKeyID != "" {
		k, err := kmsPublicKey(ctx, f.digestKMSKeyID)
		if err != nil {
			return cannotCheckError(err)
		}
		digestKeys = append(digestKeys, k)
	}
	if len(digestKeys) > 0 {
		opts.Digests = &verify.DigestOptions{Keys: digestKeys}
	}
	return nil
}

func readPublicKeys(paths []string) ([]*ecdsa.PublicKey, error) {
	var keys []*ecdsa.PublicKey
	for _, path := range paths {
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
	return keys, nil
}

// kmsPublicKey fetches a KMS key's public half.
func kmsPublicKey(ctx context.Context, keyID string) (*ecdsa.PublicKey, error) {
	cfg, err := loadAWSConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	out, err := kms.NewFromConfig(cfg).GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, fmt.Errorf("verify: kms GetPublicKey %s: %w", keyID, err)
	}
	k, err := seal.ParsePublicKeyDER(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("verify: KMS key %s: %w", keyID, err)
	}
	return k, nil
}

// count writes n things: "1 problem", "2 problems".
func count(n int, thing string) string { return plural(n, thing, thing+"s") }

// plural writes n things with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
