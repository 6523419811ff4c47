package e2e

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
	"github.com/agent-audit/agent-audit/internal/kmstest"
	"github.com/agent-audit/agent-audit/internal/lambdatest"
	"github.com/agent-audit/agent-audit/internal/miniotest"
	"github.com/agent-audit/agent-audit/internal/otlptest"
	"github.com/agent-audit/agent-audit/internal/ssmtest"
)

const (
	profileARN     = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/agent"
	modelID        = "claude-haiku-4-5"
	stream         = "agent-audit-e2e"
	bucket         = "agent-audit-e2e"
	tokenParameter = "/agent-audit-e2e/logfire-token"
	agentName      = "e2e-agent"
	// maxPromptBytes is the largest prompt the function accepts here (its configuration's ceiling), so that one
	// prompt alone outgrows a Firehose record.
	maxPromptBytes = 1 << 20
)

// stack is the function under the emulator and every peer it talks to.
type stack struct {
	fn       *lambdatest.Function
	bedrock  *bedrocktest.Server
	firehose *firehosetest.Server
	params   *ssmtest.Server
	logfire  *otlptest.Receiver
	keys     *kmstest.Server
	store    *miniotest.Server
	// token is the Logfire write token, generated for this run; creds are the function's AWS credentials.
	token string
	creds aws.Credentials
}

// functionPolicy is what the AgentFunction component grants the function on the audit bucket: PutObject under
// oversize/ only. MinIO enforces it on the function's session credentials.
var functionPolicy = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::%s/oversize/*"]}]}`, bucket)

// newStack starts the peers and the function, configured only through its environment.
func newStack(t *testing.T) *stack {
	t.Helper()
	s := newPeers(t)
	s.fn = lambdatest.Start(t, lambdatest.Options{Env: s.env()})
	return s
}

// newPeers starts every peer; the function is left to the caller (start it with s.env()).
func newPeers(t *testing.T) *stack {
	t.Helper()
	s := &stack{
		bedrock:  bedrocktest.New(t, profileARN),
		firehose: firehosetest.New(t, stream),
		logfire:  otlptest.New(t),
		keys:     kmstest.New(t),
		store:    miniotest.Start(t),
		token:    "pylf_v1_eu_" + randomToken(),
	}
	s.params = ssmtest.New(t, map[string]string{tokenParameter: s.token})
	s.store.LockedBucket(t, bucket, types.ObjectLockRetentionModeCompliance, 1)
	// Temporary credentials with a session token, as a Lambda role's are; every peer accepts them, MinIO checks them.
	s.creds = s.store.SessionCredentials(t, functionPolicy)
	return s
}

// env is the function's configuration as the AgentFunction component sets it, pointed at the peers.
func (s *stack) env() map[string]string {
	return map[string]string{
		"AWS_REGION":                       miniotest.Region,
		"AWS_ACCESS_KEY_ID":                s.creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":            s.creds.SecretAccessKey,
		"AWS_SESSION_TOKEN":                s.creds.SessionToken,
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": s.bedrock.URL,
		"AWS_ENDPOINT_URL_FIREHOSE":        s.firehose.URL,
		"AWS_ENDPOINT_URL_SSM":             s.params.URL,
		"AWS_ENDPOINT_URL_KMS":             s.keys.URL,
		"AWS_ENDPOINT_URL_S3":              s.store.Endpoint,
		agentenv.Model:                     "bedrock",
		agentenv.InferenceProfileARN:       profileARN,
		agentenv.ModelID:                   modelID,
		agentenv.AgentName:                 agentName,
		agentenv.MaxPromptBytes:            fmt.Sprint(maxPromptBytes),
		agentenv.FirehoseStream:            stream,
		agentenv.OversizeBucket:            bucket,
		agentenv.S3ForcePathStyle:          "true",
		agentenv.SigningKeyID:              s.keys.KeyARN,
		agentenv.LogfireTokenParameter:     tokenParameter,
		agentenv.LogfireBaseURL:            s.logfire.URL,
	}
}

// secrets are the values that must never appear in a log line, a record or the live view.
func (s *stack) secrets() map[string]string {
	return map[string]string{
		"the Logfire token":         s.token,
		"the AWS secret access key": s.creds.SecretAccessKey,
		"the AWS session token":     s.creds.SessionToken,
	}
}

func randomToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
