package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/trail"
)

// openStore opens an audit root: s3://bucket through the AWS SDK's default configuration, anything else as a
// local directory.
func openStore(ctx context.Context, root string) (trail.Store, error) {
	bucket, ok := strings.CutPrefix(root, "s3://")
	if !ok {
		return trail.NewLocal(root), nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
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
