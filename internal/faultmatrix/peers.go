package faultmatrix

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
	"github.com/agent-audit/agent-audit/internal/kmstest"
	"github.com/agent-audit/agent-audit/internal/miniotest"
)

// Bucket is the audit bucket oversize content goes to.
const Bucket = "agent-audit-faultmatrix"

// oversizePolicy is the function's S3 permission in the stack: PutObject under oversize/ only.
const oversizePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::` + Bucket + `/oversize/*"]}]}`

// Store is the S3 server (a real MinIO) holding oversize content, with an Object Lock bucket as the stack creates
// it and credentials limited to the function's own permission. One serves a whole matrix.
type Store struct {
	Server *miniotest.Server
	// Creds are session credentials allowing s3:PutObject on <Bucket>/oversize/* and nothing else.
	Creds aws.Credentials
}

// StartStore starts MinIO with the audit bucket (GOVERNANCE retention, one day); it stops when the test ends.
func StartStore(t testing.TB) *Store {
	t.Helper()
	srv := miniotest.Start(t)
	srv.LockedBucket(t, Bucket, types.ObjectLockRetentionModeGovernance, 1)
	return &Store{Server: srv, Creds: srv.SessionCredentials(t, oversizePolicy)}
}

// content reads an oversize object back with the root credentials and returns its uncompressed content.
func (s *Store) content(ctx context.Context, client *s3.Client, key string) ([]byte, error) {
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer obj.Body.Close()
	gz, err := io.ReadAll(obj.Body)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("not gzip: %w", err)
	}
	return io.ReadAll(zr)
}

// peers are the services one kind's function talks to.
type peers struct {
	firehose *firehosetest.Server
	bedrock  *bedrocktest.Server
	kms      *kmstest.Server
	store    *Store
}

// FunctionEnv is the function's environment as the stack sets it, pointed at the peers through the SDK's
// AWS_ENDPOINT_URL_<SERVICE> variables: Bedrock model, Firehose stream, records sealed with the KMS key, oversize
// content to the Object Lock bucket (when a store is given), with the store's limited session credentials (static
// test credentials without one).
func (p peers) FunctionEnv() map[string]string {
	env := map[string]string{
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": p.bedrock.URL,
		"AWS_ENDPOINT_URL_FIREHOSE":        p.firehose.URL,
		"AWS_ENDPOINT_URL_KMS":             p.kms.URL,
		"AWS_REGION":                       "eu-west-1",
		"AWS_ACCESS_KEY_ID":                "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":            "not-a-secret",
		"AWS_SESSION_TOKEN":                "",
		"AWS_CONFIG_FILE":                  "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":      "/dev/null",
		"AWS_LAMBDA_FUNCTION_NAME":         "agent-audit-faultmatrix",
		agentenv.Model:                     agentenv.ModelBedrock,
		agentenv.InferenceProfileARN:       ProfileARN,
		agentenv.ModelID:                   ModelName,
		agentenv.FirehoseStream:            Stream,
		agentenv.AgentName:                 AgentName,
		agentenv.SigningKeyID:              p.kms.KeyARN,
	}
	if p.store != nil {
		env["AWS_ENDPOINT_URL_S3"] = p.store.Server.Endpoint
		env["AWS_ACCESS_KEY_ID"] = p.store.Creds.AccessKeyID
		env["AWS_SECRET_ACCESS_KEY"] = p.store.Creds.SecretAccessKey
		env["AWS_SESSION_TOKEN"] = p.store.Creds.SessionToken
		env[agentenv.OversizeBucket] = Bucket
		env[agentenv.S3ForcePathStyle] = "true"
	}
	return env
}

// oversizeReader reads oversize objects from store with its root credentials; nil without a store.
func oversizeReader(store *Store) func(key string) ([]byte, error) {
	if store == nil {
		return nil
	}
	client := store.Server.ClientWith(aws.Credentials{AccessKeyID: store.Server.AccessKey, SecretAccessKey: store.Server.SecretKey})
	return func(key string) ([]byte, error) { return store.content(context.Background(), client, key) }
}
