// Command bootstrap is the digest Lambda (provided.al2023, arm64), run every period by the DigestWriter
// component's schedule: each run writes the signed digest of every period that has ended since the last digest
// in the audit bucket (package trail/digest). It only wires: the configuration comes from the environment
// (trail/digest.EnvConfigFrom), the store is the bucket (trail.S3), the issuer is the digest key in KMS.
//
// A run that fails returns its error (Lambda counts it in the function's Errors metric) and is not retried: the
// next run writes every period still missing.
//
// Build: CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o bootstrap ./digester
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/agent-audit/agent-audit/function/awsjson"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)

	w, err := newWriter(context.Background(), logger)
	if err != nil {
		logger.Error("cannot start", "error", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context) error {
		if _, err := w.Write(ctx, time.Now()); err != nil {
			return fmt.Errorf("write digests: %w", err)
		}
		return nil
	})
}

// newWriter reads the environment and builds the writer: the S3 store of the bucket, and the KMS key as the
// issuer, whose public key it reads once per container (a key that cannot be read fails the start).
func newWriter(ctx context.Context, logger *slog.Logger) (*digest.Writer, error) {
	cfg, err := digest.EnvConfigFrom(os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	issuer := seal.NewKMSSigner(awsjson.NewKMS(awsCfg, nil), cfg.SigningKeyID)
	pub, err := issuer.PublicKey(ctx)
	if err != nil {
		return nil, err
	}
	store := trail.NewS3(s3.NewFromConfig(awsCfg), cfg.Bucket)
	return digest.NewWriter(store, issuer, pub,
		digest.WithPeriod(cfg.Period), digest.WithLookback(cfg.Lookback), digest.WithSettle(cfg.Settle), digest.WithLogger(logger)), nil
}
