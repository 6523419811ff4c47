package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/components"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/kmstest"
	"github.com/agent-audit/agent-audit/internal/lambdatest"
	"github.com/agent-audit/agent-audit/internal/miniotest"
	"github.com/agent-audit/agent-audit/internal/pulumitest"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
)

const bucket = "agent-audit-digests"

// deployed runs the DigestWriter component on the mocks for bucket, with a one-minute period and no settling (so
// the test waits at most a minute), and returns the Lambda's environment and the S3 statements of its role's
// policy, exactly as the component deploys them.
func deployed(t *testing.T) (env map[string]string, s3Policy string) {
	t.Helper()
	root, err := components.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	m := &pulumitest.Mocks{}
	settle := time.Duration(0)
	err = pulumitest.Run(m, func(ctx *pulumi.Context) error {
		_, err := components.NewDigestWriter(ctx, "digest", &components.DigestWriterArgs{
			BucketName: pulumi.String(bucket), BucketARN: pulumi.String("arn:aws:s3:::" + bucket),
			KeyARN: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/bucket"),
			Period: time.Minute, Settle: &settle,
			// The component's own build is not what runs here: the test builds ./digester for the host.
			Package: "./components/testdata/tinyfn", ModuleRoot: root, BuildDir: t.TempDir(),
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	env = map[string]string{}
	for k, v := range pulumitest.Get(m.One(t, "aws:lambda/function:Function", "digest").Inputs, "environment.variables").ObjectValue() {
		env[string(k)] = v.StringValue()
	}
	var doc struct {
		Version   string
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "digest-permissions").Inputs, "policy").StringValue()), &doc); err != nil {
		t.Fatal(err)
	}
	// MinIO enforces S3 actions and their conditions; the logs and KMS statements are AWS's to enforce.
	s3Only := doc.Statement[:0]
	for _, s := range doc.Statement {
		if actions, _ := s["Action"].([]any); len(actions) > 0 && strings.HasPrefix(actions[0].(string), "s3:") {
			s3Only = append(s3Only, s)
		}
	}
	doc.Statement = s3Only
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return env, string(b)
}

// TestTheDigestLambdaWritesTheChainWithItsRolesRights runs the real binary under the Lambda emulator against a
// MinIO with Object Lock, as the component configures it and with no more S3 rights than the component grants
// its role (MinIO enforces them): the first run starts the chain, a record object lands, the run after the next
// period's end lists it, and the chain checks out under the KMS key's public key.
func TestTheDigestLambdaWritesTheChainWithItsRolesRights(t *testing.T) {
	ctx := context.Background()
	store := miniotest.Start(t)
	store.LockedBucket(t, bucket, types.ObjectLockRetentionModeGovernance, 1)
	keys := kmstest.New(t)
	env, policy := deployed(t)
	creds := store.SessionCredentials(t, policy)
	env[digest.EnvSigningKeyID] = keys.KeyARN // the component names the mock's key; the peer holds this one
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": creds.SessionToken,
		"AWS_REGION": miniotest.Region, "AWS_ENDPOINT_URL_S3": store.Endpoint, "AWS_ENDPOINT_URL_KMS": keys.URL,
	} {
		env[k] = v
	}
	fn := lambdatest.Start(t, lambdatest.Options{Bootstrap: lambdatest.BuildPackage(t, "./digester"), Env: env})

	// Scheduler sends an empty event; the handler reads none.
	if r := fn.Invoke(t, []byte("{}")); r.Error != nil {
		t.Fatalf("first run: %v\nlogs:\n%s", r.Error, fn.Logs())
	}
	root := store.Client(t)
	// Named as Firehose names it: by the hour it arrives in.
	record := time.Now().UTC().Format("traces/year=2006/month=01/day=02/hour=15/agent-audit-1-2006-01-02-15-04-05.gz")
	if _, err := root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(record), Body: bytes.NewReader([]byte("record")),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + time.Second)))
	if r := fn.Invoke(t, []byte("{}")); r.Error != nil {
		t.Fatalf("second run: %v\nlogs:\n%s", r.Error, fn.Logs())
	}

	fp, err := seal.Fingerprint(keys.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	sum, findings, err := digest.Check(ctx, trail.NewS3(root, bucket), map[string]*ecdsa.PublicKey{fp: keys.PublicKey()}, digest.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Severity == trail.Problem {
			t.Errorf("finding on the Lambda's chain: %+v", f)
		}
	}
	if sum.Digests < 2 || sum.Valid != sum.Digests || sum.ObjectsListed != 1 {
		t.Errorf("summary %+v, want two or more valid digests listing the one record", sum)
	}
	// One public key read per container, one signature per digest.
	if n := keys.Calls("GetPublicKey"); n != 1 {
		t.Errorf("%d GetPublicKey calls, want one per container", n)
	}
	if n := keys.Calls("Sign"); n != sum.Digests {
		t.Errorf("%d Sign calls for %d digests", n, sum.Digests)
	}
	if !strings.Contains(fn.Logs(), `"msg":"digest written"`) {
		t.Errorf("the runs do not log the digests they wrote:\n%s", fn.Logs())
	}

	// With the same credentials, what the role must not do is refused by the store.
	digests := mustVersions(t, trail.NewS3(root, bucket), digest.Prefix)
	role := store.ClientWith(creds)
	attacks := map[string]func() error{
		"overwrite a record": func() error {
			_, err := role.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(record), Body: bytes.NewReader([]byte("forged")),
				ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
			return err
		},
		"write oversize content": func() error {
			_, err := role.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("oversize/x.json.gz"), Body: bytes.NewReader([]byte("x")),
				ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
			return err
		},
		"delete a digest version": func() error {
			_, err := role.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(digests[0].Key), VersionId: aws.String(digests[0].VersionID)})
			return err
		},
		"shorten a digest's retention": func() error {
			_, err := role.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: aws.String(bucket), Key: aws.String(digests[0].Key), VersionId: aws.String(digests[0].VersionID),
				BypassGovernanceRetention: aws.Bool(true), Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(time.Minute))}})
			return err
		},
		"read a record": func() error {
			_, err := role.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(record)})
			return err
		},
		"list outside the trail's prefixes": func() error {
			_, err := role.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("errors/")})
			return err
		},
	}
	for name, attack := range attacks {
		var api smithy.APIError
		if err := attack(); !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" {
			t.Errorf("%s: %v, want AccessDenied", name, err)
		}
	}
}

// mustVersions lists prefix's versions, failing t on error or when there are none.
func mustVersions(t *testing.T, s trail.Store, prefix string) []trail.Object {
	t.Helper()
	vs, err := s.Versions(context.Background(), prefix, "")
	if err != nil || len(vs) == 0 {
		t.Fatalf("versions of %s: %v, %v", prefix, vs, err)
	}
	return vs
}
