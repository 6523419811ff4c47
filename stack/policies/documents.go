package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
	"github.com/agent-audit/agent-audit/stack/program"
)

// Document is one policy document the stack deploys, in the form the tool writes it.
type Document struct {
	// Name is unique: the resource's logical name and the input that holds the document.
	Name string `json:"name"`
	// Kind is identity (a role's permissions), trust (who may assume a role), key (a KMS key policy), bucket (an
	// S3 bucket policy) or other (any other resource policy: an SNS topic's).
	Kind string `json:"kind"`
	// AttachedTo is the ARN of the role or resource the document is attached to.
	AttachedTo string          `json:"attachedTo"`
	Document   json.RawMessage `json:"document"`
}

// Documents runs the real stack program on Pulumi's mock engine, as the stack named stack with the namespaced
// config (keys without the agent-audit: prefix; secret lists the secret ones), and returns every policy document
// it would deploy, sorted by name. The mocks answer with account pulumitest.Account and region
// pulumitest.Region. moduleRoot is where go.mod is (the function is built from it).
func Documents(stack string, config map[string]string, secret []string, moduleRoot string) ([]Document, error) {
	full := map[string]string{}
	for k, v := range config {
		full[program.Namespace+":"+k] = v
	}
	keys := make([]string, 0, len(secret))
	for _, k := range secret {
		keys = append(keys, program.Namespace+":"+k)
	}
	cfg, _ := json.Marshal(full)
	sk, _ := json.Marshal(keys)
	// The Pulumi SDK reads a program's config from these variables; the mock engine passes them through.
	restore := setenv(map[string]string{"PULUMI_CONFIG": string(cfg), "PULUMI_CONFIG_SECRET_KEYS": string(sk)})
	defer restore()
	m := &pulumitest.Mocks{}
	if err := pulumitest.RunStack(m, stack, func(ctx *pulumi.Context) error {
		_, err := program.Deploy(ctx, moduleRoot)
		return err
	}); err != nil {
		return nil, fmt.Errorf("run the stack program on the mocks: %w", err)
	}
	return collect(m.Resources())
}

// collect turns every policy input of the recorded resources into a Document.
func collect(resources []pulumitest.Resource) ([]Document, error) {
	arnByID := map[string]string{}
	for _, r := range resources {
		if arn := pulumitest.Get(r.State, "arn"); arn.IsString() && r.ID != "" {
			arnByID[r.Type+" "+r.ID] = arn.StringValue()
		}
	}
	var docs []Document
	for _, r := range resources {
		for _, input := range []string{"policy", "assumeRolePolicy"} {
			v := pulumitest.Get(r.Inputs, input)
			if !v.IsString() || !strings.Contains(v.StringValue(), `"Statement"`) {
				continue
			}
			kind, attached, err := attachment(r, input, arnByID)
			if err != nil {
				return nil, err
			}
			docs = append(docs, Document{Name: r.Name + " " + input, Kind: kind, AttachedTo: attached, Document: json.RawMessage(v.StringValue())})
		}
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].Name < docs[j].Name })
	return docs, nil
}

// attachment tells what a policy input is and the ARN it is attached to.
func attachment(r pulumitest.Resource, input string, arnByID map[string]string) (kind, arn string, err error) {
	ref := func(token, key string) (string, error) {
		v := pulumitest.Get(r.Inputs, key)
		if !v.IsString() {
			return "", fmt.Errorf("%s %s: no %s input to name what its policy is attached to", r.Type, r.Name, key)
		}
		if a, ok := arnByID[token+" "+v.StringValue()]; ok {
			return a, nil
		}
		return "", fmt.Errorf("%s %s: %s %q names no %s of the stack", r.Type, r.Name, key, v.StringValue(), token)
	}
	own := func() (string, error) {
		if a := pulumitest.Get(r.State, "arn"); a.IsString() {
			return a.StringValue(), nil
		}
		return "", fmt.Errorf("%s %s has no ARN", r.Type, r.Name)
	}
	switch {
	case r.Type == "aws:iam/role:Role" && input == "assumeRolePolicy":
		arn, err = own()
		return "trust", arn, err
	case r.Type == "aws:iam/rolePolicy:RolePolicy":
		arn, err = ref("aws:iam/role:Role", "role")
		return "identity", arn, err
	case r.Type == "aws:kms/key:Key":
		arn, err = own()
		return "key", arn, err
	case r.Type == "aws:kms/keyPolicy:KeyPolicy":
		arn, err = ref("aws:kms/key:Key", "keyId")
		return "key", arn, err
	case r.Type == "aws:s3/bucketPolicy:BucketPolicy":
		arn, err = ref("aws:s3/bucketV2:BucketV2", "bucket")
		return "bucket", arn, err
	case r.Type == "aws:sns/topicPolicy:TopicPolicy":
		if a := pulumitest.Get(r.Inputs, "arn"); a.IsString() {
			return "other", a.StringValue(), nil
		}
	}
	return "", "", fmt.Errorf("%s %s: a policy in %s the tool does not know how to attach", r.Type, r.Name, input)
}

// DevStack reads Pulumi.dev.yaml under moduleRoot with Pulumi's own loader and returns the config the tool runs
// the program with: the file's settings, plus a placeholder alertEmail when the file leaves it commented out
// (the program requires one). It refuses a region other than the mocks', since every ARN would name the wrong one.
func DevStack(moduleRoot string) (map[string]string, error) {
	sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
	ps, err := workspace.LoadProjectStack(sink, &workspace.Project{Name: "agent-audit"}, filepath.Join(moduleRoot, "Pulumi.dev.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read Pulumi.dev.yaml: %w", err)
	}
	config := map[string]string{"alertEmail": "you@example.com"}
	for key, v := range ps.Config {
		value, err := v.Value(nil)
		if err != nil {
			return nil, fmt.Errorf("Pulumi.dev.yaml: %s: %w", key, err)
		}
		switch {
		case key.Namespace() == "aws" && key.Name() == "region":
			if value != pulumitest.Region {
				return nil, fmt.Errorf("Pulumi.dev.yaml sets aws:region %s; the documents are written for %s", value, pulumitest.Region)
			}
		case key.Namespace() == program.Namespace:
			config[key.Name()] = value
		}
	}
	return config, nil
}

// setenv sets variables and returns what puts the old values back.
func setenv(vars map[string]string) (restore func()) {
	old := map[string]*string{}
	for k, v := range vars {
		if prev, ok := os.LookupEnv(k); ok {
			old[k] = &prev
		} else {
			old[k] = nil
		}
		os.Setenv(k, v)
	}
	return func() {
		for k, v := range old {
			if v == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *v)
			}
		}
	}
}
