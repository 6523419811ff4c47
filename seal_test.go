package agentaudit

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/audittest"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
	"github.com/agent-audit/agent-audit/internal/kmstest"
	"github.com/agent-audit/agent-audit/internal/miniotest"
)

// TestSealedRecordsAndOversizeContentInALockedBucket configures the function only through its environment, as
// in Lambda: records sealed with a KMS key, oversize content put into an Object Lock bucket on a real S3 server.
func TestSealedRecordsAndOversizeContentInALockedBucket(t *testing.T) {
	bedrock := bedrocktest.New(t, testProfileARN)
	fh := firehosetest.New(t, testStream)
	keys := kmstest.New(t)
	store := miniotest.Start(t)
	const bucket = "audit-locked"
	store.LockedBucket(t, bucket, types.ObjectLockRetentionModeCompliance, 1)
	env := map[string]string{
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.URL,
		"AWS_ENDPOINT_URL_FIREHOSE":        fh.URL,
		"AWS_ENDPOINT_URL_KMS":             keys.URL,
		"AWS_ENDPOINT_URL_S3":              store.Endpoint,
		"AWS_REGION":                       miniotest.Region,
		"AWS_ACCESS_KEY_ID":                store.AccessKey,
		"AWS_SECRET_ACCESS_KEY":            store.SecretKey,
		"AWS_CONFIG_FILE":                  "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":      "/dev/null",
		agentenv.InferenceProfileARN:       testProfileARN,
		agentenv.ModelID:                   "claude-haiku-4-5",
		agentenv.FirehoseStream:            testStream,
		agentenv.OversizeBucket:            bucket,
		agentenv.S3ForcePathStyle:          "true",
		agentenv.SigningKeyID:              keys.KeyARN,
	}
	cfg := configFromEnv(t, env)
	var logs bytes.Buffer
	a, err := New(context.Background(), cfg, WithTools(agent.DefaultTools()...), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}

	answer := strings.Repeat("A long answer. ", 80_000) // 1.2 MB: more than a Firehose record holds
	bedrock.Enqueue(bedrocktest.Reply{Text: "short"}, bedrocktest.Reply{Text: answer})
	for range 2 {
		if _, err := invoke(t, a, `{"prompt":"Tell me everything."}`); err != nil {
			t.Fatalf("invoke: %v", err)
		}
	}

	records := fh.Records(testStream)
	v := seal.NewVerifier(keys.PublicKey())
	var chains seal.Chains
	for i, rec := range records {
		if len(rec) > audit.DefaultMaxRecordBytes {
			t.Errorf("record %d is %d bytes", i, len(rec))
		}
		r, err := v.Verify(rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if r.Issuer != keys.KeyARN || r.IssuerKey != fingerprint(t, keys) || !r.Certified {
			t.Errorf("record %d is vouched for by %s %s (certified %v), want the KMS key %s", i, r.Issuer, r.IssuerKey, r.Certified, keys.KeyARN)
		}
		chains.Add(r, "record")
	}
	rep := chains.Check(false)
	if len(rep.Problems) != 0 || rep.Records != len(records) || rep.Chains != 1 {
		t.Fatalf("chain: %+v", rep)
	}
	if sign, pub := keys.Calls("Sign"), keys.Calls("GetPublicKey"); sign != 1 || pub != 1 {
		t.Fatalf("%d kms:Sign and %d kms:GetPublicKey calls for %d records, want one of each", sign, pub, len(records))
	}
	// The container's logs witness where its chain started and ended, outside the bucket.
	a.LastChanceFlush()
	var chain string
	for _, rec := range records {
		r, _ := v.Verify(rec)
		chain = r.Chain
	}
	for _, want := range []string{`msg="seal chain starts" chain=` + chain, fmt.Sprintf(`msg="seal chain ends" chain=%s last_seq=%d`, chain, len(records))} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}

	var refs []audittest.Span
	for _, s := range audittest.Decode(t, records) {
		if s.Attrs[audit.AttrOversizeKey] != nil {
			refs = append(refs, s)
		}
	}
	if len(refs) != 2 { // the chat span's output and the run's output
		t.Fatalf("%d spans reference oversize content, want 2", len(refs))
	}
	client := store.Client(t)
	for _, s := range refs {
		key := s.Attrs[audit.AttrOversizeKey].(string)
		if uri := s.Attrs[audit.AttrOversizeURI]; uri != "s3://"+bucket+"/"+key {
			t.Errorf("uri %v", uri)
		}
		obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("oversize object %s: %v", key, err)
		}
		gz, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(zr)
		sum := sha256.Sum256(content)
		if s.Attrs[audit.AttrOversizeSHA256] != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: sha256 attribute does not match the stored content", key)
		}
		if !bytes.Contains(content, []byte(strings.Repeat("A long answer. ", 1000))) {
			t.Errorf("%s does not hold the answer", key)
		}
		// The bucket's default retention applied to the object the function put.
		if obj.ObjectLockMode != types.ObjectLockModeCompliance || obj.ObjectLockRetainUntilDate == nil ||
			obj.ObjectLockRetainUntilDate.Before(time.Now().Add(23*time.Hour)) {
			t.Errorf("%s: lock %s until %v, want COMPLIANCE for a day", key, obj.ObjectLockMode, obj.ObjectLockRetainUntilDate)
		}
	}
}

func fingerprint(t *testing.T, keys *kmstest.Server) string {
	t.Helper()
	fp, err := seal.Fingerprint(keys.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// kmsApp is the function with the offline model, Firehose and a KMS signing key, configured through its
// environment, the AWS clients making one attempt per call (so injected KMS faults are counted exactly).
func kmsApp(t *testing.T, keys *kmstest.Server, opts ...Option) (*Function, *firehosetest.Server, *bytes.Buffer) {
	t.Helper()
	fh := firehosetest.New(t, testStream)
	env := map[string]string{
		"AWS_ENDPOINT_URL_FIREHOSE":   fh.URL,
		"AWS_ENDPOINT_URL_KMS":        keys.URL,
		"AWS_REGION":                  kmstest.Region,
		"AWS_ACCESS_KEY_ID":           "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "not-a-secret",
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		agentenv.Model:                ModelOffline,
		agentenv.FirehoseStream:       testStream,
		agentenv.SigningKeyID:         keys.KeyARN,
	}
	cfg := configFromEnv(t, env)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	a, err := New(context.Background(), cfg, append([]Option{WithTools(agent.DefaultTools()...), WithAWSConfig(awsCfg), WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a, fh, logs
}

// In Lambda the certificate names the function by the ARN the first invocation tells, its version and the
// container's log stream; every record of the container is vouched for by the one kms:Sign.
func TestTheCertificateNamesTheInvokedFunctionAndItsContainer(t *testing.T) {
	keys := kmstest.New(t)
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "agent")
	t.Setenv("AWS_LAMBDA_FUNCTION_VERSION", "7")
	t.Setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2026/06/08/[7]0a1b2c3d4e5f")
	a, fh, _ := kmsApp(t, keys)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID: "req-1", InvokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:agent:live",
	})
	for range 5 {
		if _, err := a.Invoke(ctx, []byte(`{"prompt":"What is 2 + 2?"}`)); err != nil {
			t.Fatal(err)
		}
	}
	v := seal.NewVerifier(keys.PublicKey())
	var chains seal.Chains
	for i, rec := range fh.Records(testStream) {
		r, err := v.Verify(rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !r.Certified || r.Cert.Function != "arn:aws:lambda:eu-west-1:123456789012:function:agent" || r.Cert.Version != "7" ||
			r.Cert.LogStream != "2026/06/08/[7]0a1b2c3d4e5f" || r.Cert.Issuer != keys.KeyARN {
			t.Fatalf("record %d: certified %v, certificate %+v", i, r.Certified, r.Cert)
		}
		chains.Add(r, fmt.Sprint("record ", i))
	}
	if rep := chains.Check(false); len(rep.Problems) != 0 || rep.Records != 5 {
		t.Fatalf("chain: %+v", rep)
	}
	if n := keys.Calls("Sign"); n != 1 {
		t.Fatalf("%d kms:Sign calls for 5 invocations", n)
	}
}

// KMS failing at the first certification: the records are sealed all the same, by the container's key, and
// verify as uncertified; the certification is retried in the background, and its success vouches for them.
func TestKMSFailingAtTheFirstCertificationStillSealsAndALaterSuccessCertifies(t *testing.T) {
	keys := kmstest.New(t)
	keys.FailNext("KMSInternalException", "ThrottlingException")
	a, fh, logs := kmsApp(t, keys, WithSealerOptions(seal.WithRetryBackoff(100*time.Millisecond)))
	v := seal.NewVerifier(keys.PublicKey())
	var chains seal.Chains
	certified := 0
	for i := 0; certified < 2; i++ {
		if i > 100 {
			t.Fatalf("not certified after %d invocations; KMS saw %d GetPublicKey, %d Sign", i, keys.Calls("GetPublicKey"), keys.Calls("Sign"))
		}
		if _, err := a.Invoke(context.Background(), []byte(`{"prompt":"What is 2 + 2?"}`)); err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		records := fh.Records(testStream)
		r, err := v.Verify(records[len(records)-1])
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		if i == 0 && r.Certified {
			t.Fatal("the first record is certified although KMS failed")
		}
		if r.Certified {
			certified++
		}
		chains.Add(r, fmt.Sprint("invocation ", i))
		time.Sleep(50 * time.Millisecond)
	}
	if rep := chains.Check(false); len(rep.Problems) != 0 {
		t.Fatalf("chain: %v", rep.Problems)
	}
	if !strings.Contains(logs.String(), "certification failed") || !strings.Contains(logs.String(), "seal key certified") {
		t.Fatalf("the failure and the later certification are not logged:\n%s", logs.String())
	}
}
