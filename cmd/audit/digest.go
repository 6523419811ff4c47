package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agent-audit/agent-audit/function/awsjson"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
)

type digestFlags struct {
	root       string
	signingKey string
	kmsKeyID   string
	period     time.Duration
	lookback   time.Duration
	settle     time.Duration
}

func newDigestCommand() *cobra.Command {
	f := digestFlags{}
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "Write the signed digests that prove the trail complete",
		Long: `Digest writes the signed digests of an audit root under digests/: each lists every object version
under traces/ and oversize/ that no earlier digest listed, and is chained to the one before by its hash, so
` + "`audit verify`" + ` can name an object removed, changed or injected, and a digest removed or replaced.

For an s3:// root it writes the digest of every period (--period) that has ended and settled since the last
digest, oldest first, and starts the chain when there is none: the code the stack's digest Lambda runs every
period. Sign with --kms-key-id (only the digest writer's role may sign with the stack's digest key, so against
the stack's bucket this runs as that role, to catch up by hand) or, for a bucket of your own, --signing-key.

For a local root it closes the period now: one digest covering everything written to the root before the call,
signed with the local signing key. ` + "`audit run`" + ` and ` + "`audit demo`" + ` do this after they finish.

It prints the key of each digest written.`,
		Example: `  audit digest
  audit digest --root ./audit-data
  audit digest --root s3://my-audit-bucket --kms-key-id arn:aws:kms:eu-west-1:123456789012:key/...`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			keyGiven := cmd.Flags().Changed("signing-key")
			return writeDigests(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f, keyGiven, time.Now())
		},
	}
	fl := cmd.Flags()
	registerRootFlag(cmd, &f.root)
	fl.StringVar(&f.signingKey, "signing-key", defaultKeyFile(), "PEM ECDSA P-256 key signing the digests (local roots: the key `audit run` seals with)")
	fl.StringVar(&f.kmsKeyID, "kms-key-id", "", "sign with this KMS key (ARN) instead of --signing-key; required for s3:// roots unless --signing-key is given")
	fl.DurationVar(&f.period, "period", digest.DefaultPeriod, "digest period (s3:// roots): the stack's digestPeriodMinutes")
	fl.DurationVar(&f.lookback, "lookback", digest.DefaultLookback, "how far back each listing reaches in hour partitions (s3:// roots)")
	fl.DurationVar(&f.settle, "settle", digest.DefaultSettle, "wait after a period's end before it is listed (s3:// roots)")
	return cmd
}

// writeDigests writes the due digests of f.root and prints their keys.
func writeDigests(ctx context.Context, stdout, stderr io.Writer, f digestFlags, keyGiven bool, now time.Time) error {
	if ctx == nil {
		ctx = context.Background()
	}
	f.root = readRoot(f.root)
	s3Root := strings.HasPrefix(f.root, "s3://")
	if s3Root && f.kmsKeyID == "" && !keyGiven {
		return usageError(fmt.Errorf("digest: sign a bucket's digests with --kms-key-id (the digest writer's key) or an explicit --signing-key"))
	}
	if f.period <= 0 || f.lookback <= f.period || f.settle < 0 {
		return usageError(fmt.Errorf("digest: --period %s, --lookback %s, --settle %s: want a positive period, a longer lookback and a settle of 0 or more", f.period, f.lookback, f.settle))
	}
	signer, pub, err := digestSigner(ctx, stderr, f)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, f.root)
	if err != nil {
		return err
	}
	var keys []string
	if s3Root {
		w := digest.NewWriter(store, signer, pub, digest.WithPeriod(f.period), digest.WithLookback(f.lookback),
			digest.WithSettle(f.settle), digest.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
		keys, err = w.Write(ctx, now)
	} else {
		var key string
		key, err = closeLocalPeriod(ctx, store, signer, pub, now)
		keys = []string{key}
	}
	for _, k := range keys {
		fmt.Fprintln(stdout, "digest written:", objectLocation(f.root, k))
	}
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		fmt.Fprintln(stdout, "no digest due: the last digest is the newest period that has ended and settled")
	}
	return nil
}

// closeLocalPeriod writes a local root's digest covering everything written to it before now: the writers (a
// run, a demo) have finished, so nothing written before now can still appear.
func closeLocalPeriod(ctx context.Context, store trail.Store, signer seal.Signer, pub *ecdsa.PublicKey, now time.Time) (string, error) {
	w := digest.NewWriter(store, signer, pub, digest.WithLogger(slog.New(slog.DiscardHandler)))
	key, err := w.WriteNow(ctx, now)
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", store.Root(), err)
	}
	return key, nil
}

// writeLocalDigest closes a local root's period after a run or a demo with the key that sealed its records,
// and says where the digest went.
func writeLocalDigest(ctx context.Context, stderr io.Writer, root, signingKey, kmsKeyID string) error {
	signer, pub, err := digestSigner(ctx, stderr, digestFlags{signingKey: signingKey, kmsKeyID: kmsKeyID})
	if err != nil {
		return err
	}
	key, err := closeLocalPeriod(ctx, trail.NewLocal(root), signer, pub, time.Now())
	if err != nil {
		return fmt.Errorf("the records are written, but their digest is not: %w", err)
	}
	fmt.Fprintln(stderr, "audit digest written to", objectLocation(root, key))
	return nil
}

// digestSigner returns the signer f names and its public key: the KMS key (its public key fetched with
// kms:GetPublicKey), or the local key file (created when absent, as `audit run` does).
func digestSigner(ctx context.Context, stderr io.Writer, f digestFlags) (seal.Signer, *ecdsa.PublicKey, error) {
	if f.kmsKeyID == "" {
		key, created, err := seal.LoadOrCreateKeyFile(f.signingKey)
		if err != nil {
			return nil, nil, err
		}
		if created {
			fmt.Fprintln(stderr, "created signing key", f.signingKey)
		}
		s, err := seal.NewFileSigner(key)
		if err != nil {
			return nil, nil, err
		}
		return s, &key.PublicKey, nil
	}
	cfg, err := loadAWSConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	signer := seal.NewKMSSigner(awsjson.NewKMS(cfg, nil), f.kmsKeyID)
	pub, err := signer.PublicKey(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("digest: %w", err)
	}
	return signer, pub, nil
}

// objectLocation names key in root as a user finds it: a path under a local root, or the s3:// URL.
func objectLocation(root, key string) string {
	if strings.HasPrefix(root, "s3://") {
		return strings.TrimSuffix(root, "/") + "/" + key
	}
	return filepath.Join(root, filepath.FromSlash(key))
}
