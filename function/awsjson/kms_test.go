package awsjson

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/agent-audit/agent-audit/function/awsenv"
	"github.com/agent-audit/agent-audit/internal/awsjsontest"
	"github.com/agent-audit/agent-audit/internal/kmstest"
)

// TestTheKMSClientAnswersAsTheSDKClient runs the SDK's kms client and KMS through the same calls against the same
// server and requires the same outcome (the public key, a signature that verifies, or the error code, and how
// many attempts), and requests the server reads and authenticates alike: a valid Signature V4 for service kms,
// the same target and the same body.
func TestTheKMSClientAnswersAsTheSDKClient(t *testing.T) {
	digest := sha256.Sum256([]byte("a chain head"))
	cases := []struct {
		name     string
		op       string
		key      func(*kmstest.Server) string
		digest   []byte
		disable  bool
		failures []string
	}{
		{"the public key is read", "GetPublicKey", arn, nil, false, nil},
		{"a digest is signed", "Sign", arn, digest[:], false, nil},
		{"a key named by its alias signs", "Sign", func(*kmstest.Server) string { return kmstest.Alias }, digest[:], false, nil},
		{"a missing key is NotFoundException", "GetPublicKey", func(*kmstest.Server) string { return "1234abcd-0000-0000-0000-000000000000" }, nil, false, nil},
		{"a disabled key is DisabledException", "Sign", arn, digest[:], true, nil},
		{"a digest of the wrong length is refused", "Sign", arn, digest[:20], false, nil},
		{"throttling is retried", "Sign", arn, digest[:], false, []string{"ThrottlingException"}},
		{"an internal error is retried until the attempts run out", "GetPublicKey", arn, nil, false, []string{"KMSInternalException", "KMSInternalException", "KMSInternalException"}},
		{"an unavailable key is retried", "Sign", arn, digest[:], false, []string{"KeyUnavailableException"}},
		{"an access error is not retried", "Sign", arn, digest[:], false, []string{"AccessDeniedException"}},
	}
	type outcome struct {
		PublicKey []byte
		Signed    bool
		Answer    awsjsontest.Answer
		Attempts  int
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := kmstest.New(t)
			if tc.disable {
				server.Disable()
			}
			rec := awsjsontest.NewRecorder(t, server.URL)
			key := tc.key(server)
			run := func(pub func(context.Context) ([]byte, error), sign func(context.Context) ([]byte, error)) (outcome, []awsjsontest.Request) {
				server.FailNext(tc.failures...)
				var o outcome
				var err error
				if tc.op == "GetPublicKey" {
					o.PublicKey, err = pub(context.Background())
				} else {
					var sig []byte
					sig, err = sign(context.Background())
					o.Signed = err == nil && ecdsa.VerifyASN1(server.PublicKey(), tc.digest, sig)
				}
				o.Answer = awsjsontest.AnswerOf(err)
				if o.Answer.NoAnswer {
					t.Fatalf("not an API error: %v", err)
				}
				reqs := rec.Taken()
				o.Attempts = len(reqs)
				return o, reqs
			}
			sdk := kms.NewFromConfig(awsjsontest.Config(rec.URL))
			want, sdkReqs := run(func(ctx context.Context) ([]byte, error) {
				out, err := sdk.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(key)})
				if err != nil {
					return nil, err
				}
				return out.PublicKey, nil
			}, func(ctx context.Context) ([]byte, error) {
				out, err := sdk.Sign(ctx, &kms.SignInput{KeyId: aws.String(key), Message: tc.digest,
					MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
				if err != nil {
					return nil, err
				}
				return out.Signature, nil
			})
			ours := NewKMS(awsjsontest.Config(rec.URL), nil)
			got, ourReqs := run(func(ctx context.Context) ([]byte, error) { return ours.GetPublicKey(ctx, key) },
				func(ctx context.Context) ([]byte, error) { return ours.SignDigest(ctx, key, tc.digest) })
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("KMS: %+v, the SDK client: %+v", got, want)
			}
			for _, r := range append(sdkReqs, ourReqs...) {
				awsjsontest.VerifySignature(t, r, "kms")
			}
			awsjsontest.SameRequest(t, sdkReqs[0], ourReqs[0])
		})
	}
}

func arn(s *kmstest.Server) string { return s.KeyARN }

// TestRetrySettingsFromTheEnvironmentApplyAsToTheSDKClient configures both clients from the same Lambda-like
// environment (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE through awsenv) and requires as many attempts against a KMS that
// keeps failing with a retryable error.
func TestRetrySettingsFromTheEnvironmentApplyAsToTheSDKClient(t *testing.T) {
	for _, mode := range []string{"standard", "adaptive"} {
		t.Run(mode, func(t *testing.T) {
			server := kmstest.New(t)
			env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
				"AWS_ENDPOINT_URL_KMS": server.URL, "AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": mode}
			cfg, err := awsenv.Config(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			attempts := func(call func() error) int {
				server.FailNext("KMSInternalException", "KMSInternalException", "KMSInternalException")
				before := server.Calls("GetPublicKey")
				if err := call(); err == nil {
					t.Fatal("want an error after the attempts")
				}
				n := server.Calls("GetPublicKey") - before
				// Three failures were queued, more than the attempts allowed: use up what is left, so the next
				// client starts against a clean server.
				for server.Calls("GetPublicKey")-before < 3 {
					_, _ = NewKMS(cfg, nil).GetPublicKey(context.Background(), server.KeyARN)
				}
				return n
			}
			sdk := kms.NewFromConfig(cfg)
			want := attempts(func() error {
				_, err := sdk.GetPublicKey(context.Background(), &kms.GetPublicKeyInput{KeyId: aws.String(server.KeyARN)})
				return err
			})
			got := attempts(func() error { _, err := NewKMS(cfg, nil).GetPublicKey(context.Background(), server.KeyARN); return err })
			if got != want || got != 2 {
				t.Fatalf("KMS made %d attempts, the SDK client %d, want 2", got, want)
			}
		})
	}
}
