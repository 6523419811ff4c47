package main

import (
	"archive/zip"
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

const (
	functionToken = "aws:lambda/function:Function"
	roleARN       = "arn:aws:iam::" + pulumitest.Account + ":role/ticket-agent-role"
)

// The program runs on Pulumi's mocks: what it creates is the example's function, configured for the runtime,
// with a role that may write the audit trail and sign with the key, and a key only that role may sign with.
func TestTheProgramDeploysTheTicketAgent(t *testing.T) {
	m := &pulumitest.Mocks{}
	if err := pulumitest.Run(m, Program); err != nil {
		t.Fatalf("program: %v", err)
	}
	fn := m.One(t, functionToken, "ticket-agent").Inputs

	t.Run("the function is the example's main package, built for Lambda", func(t *testing.T) {
		zipPath := pulumitest.Get(fn, "code").ArchiveValue().Path
		pulumitest.AssertLambdaArchive(t, zipPath)
		bootstrap := unzip(t, zipPath, "bootstrap")
		for _, want := range []string{"lookup_ticket", "sla_status", "never guess a ticket's state"} {
			if !bytes.Contains(bootstrap, []byte(want)) {
				t.Errorf("bootstrap lacks %q: it is not built from %s", want, FunctionPackage)
			}
		}
	})

	t.Run("its environment is a valid runtime configuration naming the trail's parts", func(t *testing.T) {
		env := map[string]string{}
		for k, v := range pulumitest.Get(fn, "environment.variables").ObjectValue() {
			env[string(k)] = v.StringValue()
		}
		cfg, err := agentaudit.ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatalf("the runtime refuses the environment %v: %v", env, err)
		}
		keyARN := pulumitest.Get(m.One(t, "aws:kms/key:Key", "ticket-signing").State, "arn").StringValue()
		if cfg.AgentName != "ticket-agent" || cfg.SigningKeyID != keyARN || cfg.FirehoseStream != "ticket-audit-stream" ||
			cfg.OversizeBucket == "" || !cfg.CaptureContent || env[agentenv.SigningKeyID] != keyARN {
			t.Errorf("configuration %+v", cfg)
		}
	})

	t.Run("the role writes the trail and signs with the key, nothing more", func(t *testing.T) {
		if got := pulumitest.Get(fn, "role").StringValue(); got != roleARN {
			t.Fatalf("role %s", got)
		}
		policy := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "ticket-agent-permissions").Inputs, "policy"))
		granted := map[string][]string{}
		for _, s := range policy.Statement {
			for _, a := range s.Action {
				granted[a] = append(granted[a], s.Resource...)
			}
		}
		keyARN := pulumitest.Get(m.One(t, "aws:kms/key:Key", "ticket-signing").State, "arn").StringValue()
		bucketARN := pulumitest.Get(m.ByType("aws:s3/bucketV2:BucketV2")[0].State, "arn").StringValue()
		for action, want := range map[string]string{
			"kms:Sign":                keyARN,
			"firehose:PutRecordBatch": "arn:aws:firehose:eu-west-1:" + pulumitest.Account + ":deliverystream/ticket-audit-stream",
			"s3:PutObject":            bucketARN + "/oversize/*",
		} {
			if !slices.Equal(granted[action], []string{want}) {
				t.Errorf("%s granted on %v, want only %s", action, granted[action], want)
			}
		}
		for _, a := range []string{"s3:DeleteObject", "s3:GetObject", "kms:Decrypt", "s3:PutObjectRetention"} {
			if _, ok := granted[a]; ok {
				t.Errorf("the function may %s", a)
			}
		}
		keyPolicy := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:kms/keyPolicy:KeyPolicy", "ticket-signing-policy").Inputs, "policy"))
		var signers []string
		for _, s := range keyPolicy.Statement {
			if s.Effect == "Allow" && slices.Contains(s.Action, "kms:Sign") {
				signers = append(signers, s.Principal["AWS"]...)
			}
		}
		if !slices.Equal(signers, []string{roleARN}) {
			t.Errorf("the key's signers are %v, want only the function's role", signers)
		}
	})
}

func unzip(t *testing.T, path, name string) []byte {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name == name {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s holds no %s", path, name)
	return nil
}
