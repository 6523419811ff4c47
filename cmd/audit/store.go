package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/trail"
)

// ErrNoAWSCredentials is returned for an s3:// root when the AWS SDK's default chain finds no region or no
// credentials.
var ErrNoAWSCredentials = errors.New("no AWS region/credentials found: set AWS_PROFILE or AWS_REGION (and credentials: " +
	"aws configure, aws sso login, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")

// credentialsTimeout bounds the search for credentials, whose last step (the EC2 instance metadata service)
// waits for a network answer that a laptop never gives.
const credentialsTimeout = 5 * time.Second

// openStore opens an audit root: s3://bucket through the AWS SDK's default configuration, anything else as a
// local directory. For S3 it first checks that the chain yields a region and credentials and, if not, returns
// ErrNoAWSCredentials instead of the SDK's chain of errors (which names every provider it tried, instance
// metadata included).
func openStore(ctx context.Context, root string) (trail.Store, error) {
	bucket, ok := strings.CutPrefix(root, "s3://")
	if !ok {
		return trail.NewLocal(root), nil
	}
	cfg, err := loadAWSConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("%s: %w", root, ErrNoAWSCredentials)
	}
	cctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return nil, fmt.Errorf("%s: %w", root, ErrNoAWSCredentials)
	}
	// The function's own switch for S3-compatible endpoints (MinIO) applies to the CLI too.
	pathStyle, _ := strconv.ParseBool(os.Getenv(agentenv.S3ForcePathStyle))
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
	return trail.NewS3(client, strings.TrimSuffix(bucket, "/")), nil
}

// gunzip inflates a GZIP object (all its members: Firehose may concatenate).
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not GZIP: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("corrupt GZIP: %w", err)
	}
	return out, nil
}

// loadAWSConfig is the AWS SDK's default configuration with its logger silenced: the SDK logs warnings (such as
// falling back to IMDSv1 while it looks for credentials) to stderr, where they would bury the CLI's own message.
// What fails still fails, with an error.
func loadAWSConfig(ctx context.Context) (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(ctx, awsconfig.WithLogger(logging.Nop{}))
}
