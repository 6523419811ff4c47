package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/internal/iamsimtest"
)

// Principals of the claims: the stack's roles, and two the stack does not create, an administrator (Action "*"
// on Resource "*") and the break-glass role with the same identity policy.
const (
	account       = "123456789012"
	functionRole  = "arn:aws:iam::123456789012:role/agent-audit-dev-role"
	analystRole   = "arn:aws:iam::123456789012:role/agent-audit-dev-query-analyst"
	digestRole    = "arn:aws:iam::123456789012:role/agent-audit-dev-digest-role"
	firehoseRole  = "arn:aws:iam::123456789012:role/agent-audit-dev-audit-stream-role"
	operatorRole  = "arn:aws:iam::123456789012:role/agent-audit-dev-operator"
	adminRole     = "arn:aws:iam::123456789012:role/admin"
	auditBucket   = "arn:aws:s3:::agent-audit-dev-audit"
	auditKey      = "arn:aws:kms:eu-west-1:123456789012:key/key-agent-audit-dev-audit-key"
	signingKey    = "arn:aws:kms:eu-west-1:123456789012:key/key-agent-audit-dev-signing"
	digestKey     = "arn:aws:kms:eu-west-1:123456789012:key/key-agent-audit-dev-digest-key"
	administrator = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// stackPolicies indexes one stack's documents: identity policies by role ARN, resource policies by ARN (for a
// key, the attached policy, which replaces the creation one).
type stackPolicies struct {
	identity map[string][]iamsimtest.Policy
	resource map[string]json.RawMessage
}

func index(docs []Document) stackPolicies {
	p := stackPolicies{identity: map[string][]iamsimtest.Policy{}, resource: map[string]json.RawMessage{}}
	for _, d := range docs {
		switch d.Kind {
		case "identity":
			p.identity[d.AttachedTo] = append(p.identity[d.AttachedTo], iamsimtest.Policy{Name: d.Name, Document: d.Document})
		case "key", "bucket", "other":
			// A key with an attached policy (aws:kms/keyPolicy) has both; the attached one is what is in force.
			if _, seen := p.resource[d.AttachedTo]; !seen || strings.Contains(d.Name, "-policy policy") {
				p.resource[d.AttachedTo] = d.Document
			}
		}
	}
	return p
}

// claim is one least-privilege statement about the deployed stack, as a request and the decision it must get.
type claim struct {
	name                      string
	principal, action, target string
	resourcePolicy            string // the ARN whose resource policy applies ("" for none)
	allowed                   bool
	identityOverride          string // an identity policy for principals the stack does not create
	context                   map[string][]string
}

func (c claim) simulation(p stackPolicies) iamsimtest.Simulation {
	s := iamsimtest.Simulation{
		Name: c.name, Principal: c.principal, Action: c.action, Resource: c.target, ResourceAccount: account,
		Context:          map[string][]string{"aws:SecureTransport": {"true"}},
		IdentityPolicies: p.identity[c.principal],
	}
	for k, v := range c.context {
		s.Context[k] = v
	}
	if c.identityOverride != "" {
		s.IdentityPolicies = []iamsimtest.Policy{{Name: "admin", Document: json.RawMessage(c.identityOverride)}}
	}
	if c.resourcePolicy != "" {
		s.ResourcePolicy = p.resource[c.resourcePolicy]
	}
	return s
}

// claims are the stack's least-privilege guarantees. breakGlass says whether the stack has a break-glass role.
func claims(breakGlass bool) []claim {
	objects := func(prefix string) string {
		return auditBucket + "/" + prefix + "year=2026/month=12/day=01/hour=20/x.gz"
	}
	cs := []claim{
		// The function writes oversize content and nothing else in the bucket.
		{name: "the function writes oversize content", principal: functionRole, action: "s3:PutObject", target: objects("oversize/"), resourcePolicy: auditBucket, allowed: true},
		{name: "the function cannot overwrite a record", principal: functionRole, action: "s3:PutObject", target: objects("traces/"), resourcePolicy: auditBucket},
		{name: "the function cannot delete", principal: functionRole, action: "s3:DeleteObject", target: objects("oversize/"), resourcePolicy: auditBucket},
		{name: "the function cannot delete a version", principal: functionRole, action: "s3:DeleteObjectVersion", target: objects("oversize/"), resourcePolicy: auditBucket},
		{name: "the function cannot change retention", principal: functionRole, action: "s3:PutObjectRetention", target: objects("oversize/"), resourcePolicy: auditBucket},
		{name: "the function cannot write digests", principal: functionRole, action: "s3:PutObject", target: auditBucket + "/digests/x.json", resourcePolicy: auditBucket},
		// The analyst only reads.
		{name: "the analyst reads records", principal: analystRole, action: "s3:GetObject", target: objects("traces/"), resourcePolicy: auditBucket, allowed: true},
		{name: "the analyst cannot write records", principal: analystRole, action: "s3:PutObject", target: objects("traces/"), resourcePolicy: auditBucket},
		{name: "the analyst cannot delete records", principal: analystRole, action: "s3:DeleteObject", target: objects("traces/"), resourcePolicy: auditBucket},
		// Only the function signs records, only the digest role signs digests.
		{name: "the function signs records", principal: functionRole, action: "kms:Sign", target: signingKey, resourcePolicy: signingKey, allowed: true},
		{name: "an administrator cannot sign records", principal: adminRole, action: "kms:Sign", target: signingKey, resourcePolicy: signingKey, identityOverride: administrator},
		{name: "the operator cannot sign records", principal: operatorRole, action: "kms:Sign", target: signingKey, resourcePolicy: signingKey},
		{name: "the digest role cannot sign records", principal: digestRole, action: "kms:Sign", target: signingKey, resourcePolicy: signingKey},
		{name: "the digest role signs digests", principal: digestRole, action: "kms:Sign", target: digestKey, resourcePolicy: digestKey, allowed: true},
		{name: "the function cannot sign digests", principal: functionRole, action: "kms:Sign", target: digestKey, resourcePolicy: digestKey},
		{name: "an administrator cannot sign digests", principal: adminRole, action: "kms:Sign", target: digestKey, resourcePolicy: digestKey, identityOverride: administrator},
		// The digest role writes digests/ only.
		{name: "the digest role writes digests", principal: digestRole, action: "s3:PutObject", target: auditBucket + "/digests/x.json", resourcePolicy: auditBucket, allowed: true},
		{name: "the digest role cannot write records", principal: digestRole, action: "s3:PutObject", target: objects("traces/"), resourcePolicy: auditBucket},
		// Firehose writes records and cannot delete them.
		{name: "Firehose writes records", principal: firehoseRole, action: "s3:PutObject", target: objects("traces/"), resourcePolicy: auditBucket, allowed: true},
		{name: "Firehose cannot delete records", principal: firehoseRole, action: "s3:DeleteObject", target: objects("traces/"), resourcePolicy: auditBucket},
		// A write asking for another key is refused even to an administrator.
		{name: "an administrator cannot write under another key", principal: adminRole, action: "s3:PutObject", target: objects("traces/"), resourcePolicy: auditBucket,
			identityOverride: administrator, context: map[string][]string{"s3:x-amz-server-side-encryption": {"aws:kms"}, "s3:x-amz-server-side-encryption-aws-kms-key-id": {"arn:aws:kms:eu-west-1:123456789012:key/other"}}},
		{name: "Firehose may name the audit key", principal: firehoseRole, action: "s3:PutObject", target: objects("traces/"), resourcePolicy: auditBucket, allowed: true,
			context: map[string][]string{"s3:x-amz-server-side-encryption": {"aws:kms"}, "s3:x-amz-server-side-encryption-aws-kms-key-id": {auditKey}}},
		{name: "Firehose cannot ask for S3-managed encryption", principal: firehoseRole, action: "s3:PutObject", target: objects("traces/"), resourcePolicy: auditBucket,
			context: map[string][]string{"s3:x-amz-server-side-encryption": {"AES256"}}},
		// An administrator may still change a key's policy: KMS's lockout safety check needs it.
		{name: "an administrator may change the audit key's policy", principal: adminRole, action: "kms:PutKeyPolicy", target: auditKey, resourcePolicy: auditKey, allowed: true, identityOverride: administrator},
		{name: "an administrator may change the signing key's policy", principal: adminRole, action: "kms:PutKeyPolicy", target: signingKey, resourcePolicy: signingKey, allowed: true, identityOverride: administrator},
		{name: "an administrator may change the digest key's policy", principal: adminRole, action: "kms:PutKeyPolicy", target: digestKey, resourcePolicy: digestKey, allowed: true, identityOverride: administrator},
	}
	// No administrator, only the break-glass role (when there is one), bypasses the lock or shreds a key.
	for _, who := range []struct {
		role  string
		label string
		may   bool
	}{{adminRole, "an administrator", false}, {breakGlassRole, "the break-glass role", breakGlass}} {
		verb := "cannot"
		if who.may {
			verb = "may"
		}
		cs = append(cs,
			claim{name: who.label + " " + verb + " bypass governance retention", principal: who.role, action: "s3:BypassGovernanceRetention", target: objects("traces/"),
				resourcePolicy: auditBucket, allowed: who.may, identityOverride: administrator},
			claim{name: who.label + " " + verb + " change the lock", principal: who.role, action: "s3:PutBucketObjectLockConfiguration", target: auditBucket,
				resourcePolicy: auditBucket, allowed: who.may, identityOverride: administrator},
		)
		for _, key := range []struct{ arn, label string }{{auditKey, "audit key"}, {signingKey, "signing key"}, {digestKey, "digest key"}} {
			cs = append(cs,
				claim{name: who.label + " " + verb + " schedule the deletion of the " + key.label, principal: who.role, action: "kms:ScheduleKeyDeletion", target: key.arn,
					resourcePolicy: key.arn, allowed: who.may, identityOverride: administrator},
				claim{name: who.label + " " + verb + " disable the " + key.label, principal: who.role, action: "kms:DisableKey", target: key.arn,
					resourcePolicy: key.arn, allowed: who.may, identityOverride: administrator},
			)
		}
	}
	return cs
}

// check runs the claims against p and returns, per claim, whether the engine's decision matches it.
func check(t *testing.T, cs []claim, p stackPolicies) []iamsimtest.Decision {
	t.Helper()
	sims := make([]iamsimtest.Simulation, len(cs))
	for i, c := range cs {
		sims[i] = c.simulation(p)
	}
	return iamsimtest.Simulate(t, sims)
}

func holds(c claim, d iamsimtest.Decision) bool {
	if d.Result == iamsimtest.Failed {
		return false
	}
	return (d.Result == iamsimtest.Allowed) == c.allowed
}

// TestLeastPrivilegeClaimsHoldOnTheEngine sends each claim to the IAM engine with the stack's own documents.
func TestLeastPrivilegeClaimsHoldOnTheEngine(t *testing.T) {
	for name, docs := range variants(t) {
		cs := claims(name == "full")
		for i, d := range check(t, cs, index(docs)) {
			if !holds(cs[i], d) {
				t.Errorf("%s stack: %q does not hold: %s", name, cs[i].name, d)
			}
		}
	}
}

// TestEachClaimFailsWhenItsPolicyIsWidened proves the claims can fail: each case widens one document the way a
// careless edit could, and the named claim must then be refuted by the engine.
func TestEachClaimFailsWhenItsPolicyIsWidened(t *testing.T) {
	docs := variants(t)["full"]
	byName := map[string]claim{}
	for _, c := range claims(true) {
		byName[c.name] = c
	}
	widen := []struct {
		claim string
		doc   string // the Document's Name
		edit  func(doc map[string]any)
	}{
		{"the function cannot delete", "agent-audit-dev-permissions policy", addAllow("s3:DeleteObject", auditBucket+"/*")},
		{"the function cannot overwrite a record", "agent-audit-dev-permissions policy", addAllow("s3:PutObject", auditBucket+"/*")},
		{"the function cannot change retention", "agent-audit-dev-permissions policy", addAllow("s3:PutObjectRetention", auditBucket+"/*")},
		{"the function cannot write digests", "agent-audit-dev-permissions policy", addAllow("s3:PutObject", auditBucket+"/digests/*")},
		{"the analyst cannot write records", "agent-audit-dev-query-analyst-read policy", addAllow("s3:PutObject", auditBucket+"/traces/*")},
		{"the analyst cannot delete records", "agent-audit-dev-query-analyst-read policy", addAllow("s3:*", auditBucket+"/*")},
		{"an administrator cannot sign records", "agent-audit-dev-signing-policy policy", addAccountAllow("kms:Sign")},
		{"the digest role cannot sign records", "agent-audit-dev-signing-policy policy", addPrincipalAllow(digestRole, "kms:Sign")},
		{"the function cannot sign digests", "agent-audit-dev-digest-key-policy policy", addPrincipalAllow(functionRole, "kms:Sign")},
		{"the digest role cannot write records", "agent-audit-dev-digest-permissions policy", addAllow("s3:PutObject", auditBucket+"/*")},
		{"Firehose cannot delete records", "agent-audit-dev-audit-stream-delivery policy", addAllow("s3:DeleteObject", auditBucket+"/*")},
		{"an administrator cannot bypass governance retention", "agent-audit-dev-audit-policy policy", dropStatement("OnlyBreakGlassBypassesTheLock")},
		{"an administrator cannot change the lock", "agent-audit-dev-audit-policy policy", dropStatement("OnlyBreakGlassBypassesTheLock")},
		{"an administrator cannot write under another key", "agent-audit-dev-audit-policy policy", dropStatement("DenyOtherKMSKeys")},
		{"Firehose cannot ask for S3-managed encryption", "agent-audit-dev-audit-policy policy", dropStatement("DenyOtherEncryption")},
		{"an administrator cannot schedule the deletion of the audit key", "agent-audit-dev-audit-key policy", dropStatement("OnlyBreakGlassDeletesOrDisables")},
		{"an administrator cannot disable the signing key", "agent-audit-dev-signing-policy policy", dropStatement("OnlyBreakGlassDeletesOrDisables")},
		{"an administrator cannot schedule the deletion of the digest key", "agent-audit-dev-digest-key-policy policy", dropStatement("OnlyBreakGlassDeletesOrDisables")},
	}
	for _, w := range widen {
		t.Run(w.claim, func(t *testing.T) {
			c, ok := byName[w.claim]
			if !ok {
				t.Fatalf("no claim %q", w.claim)
			}
			widened := make([]Document, len(docs))
			copy(widened, docs)
			found := false
			for i := range widened {
				if widened[i].Name != w.doc {
					continue
				}
				var doc map[string]any
				if err := json.Unmarshal(widened[i].Document, &doc); err != nil {
					t.Fatal(err)
				}
				w.edit(doc)
				b, _ := json.Marshal(doc)
				widened[i].Document, found = b, true
			}
			if !found {
				t.Fatalf("no document %q to widen", w.doc)
			}
			if d := check(t, []claim{c}, index(widened))[0]; holds(c, d) {
				t.Errorf("the claim still holds after widening %s: %s", w.doc, d)
			}
		})
	}
}

func statements(doc map[string]any) []any {
	st, _ := doc["Statement"].([]any)
	return st
}

func addAllow(action, resource string) func(map[string]any) {
	return func(doc map[string]any) {
		doc["Statement"] = append(statements(doc), map[string]any{"Sid": "Widened", "Effect": "Allow", "Action": action, "Resource": resource})
	}
}

func addPrincipalAllow(principal, action string) func(map[string]any) {
	return func(doc map[string]any) {
		doc["Statement"] = append(statements(doc), map[string]any{"Sid": "Widened", "Effect": "Allow", "Principal": map[string]any{"AWS": principal}, "Action": action, "Resource": "*"})
	}
}

func addAccountAllow(action string) func(map[string]any) {
	return addPrincipalAllow("arn:aws:iam::"+account+":root", action)
}

func dropStatement(sid string) func(map[string]any) {
	return func(doc map[string]any) {
		var kept []any
		for _, s := range statements(doc) {
			if m, _ := s.(map[string]any); m["Sid"] != sid {
				kept = append(kept, s)
			}
		}
		doc["Statement"] = kept
	}
}
