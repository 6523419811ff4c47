package iamsimtest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const (
	account    = "123456789012"
	auditKey   = "arn:aws:kms:eu-west-1:" + account + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	breakGlass = "arn:aws:iam::" + account + ":role/break-glass"
	admin      = "arn:aws:iam::" + account + ":role/admin"
	function   = "arn:aws:iam::" + account + ":role/function"
	record     = "arn:aws:s3:::audit/traces/2026/01/02/record.json"
)

// administrator is the identity policy of an account administrator: every action on every resource.
var administrator = Policy{Name: "AdministratorAccess", Document: json.RawMessage(
	`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`)}

// checkDecisions fails t for each decision whose Result is not want[i].
func checkDecisions(t *testing.T, got []Decision, want []Result) {
	t.Helper()
	for i, d := range got {
		if d.Result != want[i] {
			t.Errorf("%s, want %s", d, want[i])
		}
	}
}

func TestABucketPolicyDenyForEveryPrincipalOverridesAnIdentityAllow(t *testing.T) {
	mayDelete := Policy{Name: "may-delete", Document: json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::audit/*"}]}`)}
	denyDelete := json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::audit/*"}]}`)
	req := Simulation{Principal: function, Action: "s3:DeleteObject", Resource: record, ResourceAccount: account,
		IdentityPolicies: []Policy{mayDelete}}
	withoutDeny, withDeny := req, req
	withoutDeny.Name, withDeny.Name = "identity allow alone", "identity allow under a bucket Deny"
	withDeny.ResourcePolicy = denyDelete

	got := Simulate(t, []Simulation{withoutDeny, withDeny})
	checkDecisions(t, got, []Result{Allowed, ExplicitlyDenied})
	if !slices.ContainsFunc(got[1].Reasons, func(r string) bool { return strings.Contains(r, "Sid NoDeletes") }) {
		t.Errorf("%s: want the NoDeletes statement among the reasons", got[1])
	}
}

func TestADenyExceptingOneRoleByPrincipalArnLetsExactlyThatRoleThrough(t *testing.T) {
	s3All := Policy{Name: "s3-all", Document: json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}`)}
	onlyBreakGlass := json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Sid": "OnlyBreakGlassBypasses", "Effect": "Deny", "Principal": "*", "Action": "s3:BypassGovernanceRetention",
		 "Resource": "arn:aws:s3:::audit/*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": "` + breakGlass + `"}}}]}`)
	noException := json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Deny", "Principal": "*", "Action": "s3:BypassGovernanceRetention", "Resource": "arn:aws:s3:::audit/*"}]}`)
	sim := func(name, principal string, policy json.RawMessage) Simulation {
		return Simulation{Name: name, Principal: principal, Action: "s3:BypassGovernanceRetention", Resource: record,
			ResourceAccount: account, IdentityPolicies: []Policy{s3All}, ResourcePolicy: policy}
	}
	got := Simulate(t, []Simulation{
		sim("the excepted role", breakGlass, onlyBreakGlass),
		sim("a session of the excepted role", "arn:aws:sts::"+account+":assumed-role/break-glass/incident-42", onlyBreakGlass),
		sim("an administrator with s3:*", admin, onlyBreakGlass),
		sim("a role whose name extends the excepted one", breakGlass+"-2", onlyBreakGlass),
		sim("the excepted role once the exception is gone", breakGlass, noException),
	})
	checkDecisions(t, got, []Result{Allowed, Allowed, ExplicitlyDenied, ExplicitlyDenied, ExplicitlyDenied})
}

func TestAKeyPolicyThatDoesNotDelegateToTheAccountAdmitsOnlyTheRolesItNames(t *testing.T) {
	signOnly := json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Sid": "FunctionSigns", "Effect": "Allow", "Principal": {"AWS": "` + function + `"},
		 "Action": "kms:Sign", "Resource": "*"}]}`)
	delegating := json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Sid": "FunctionSigns", "Effect": "Allow", "Principal": {"AWS": "` + function + `"},
		 "Action": "kms:Sign", "Resource": "*"},
		{"Sid": "AccountDelegates", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::` + account + `:root"},
		 "Action": "kms:*", "Resource": "*"}]}`)
	sim := func(name, principal string, identity []Policy, keyPolicy json.RawMessage) Simulation {
		return Simulation{Name: name, Principal: principal, Action: "kms:Sign", Resource: auditKey,
			ResourceAccount: account, IdentityPolicies: identity, ResourcePolicy: keyPolicy}
	}
	got := Simulate(t, []Simulation{
		sim("the named role, by the key policy alone", function, nil, signOnly),
		sim("an administrator of the same account", admin, []Policy{administrator}, signOnly),
		sim("the administrator once the key policy delegates to the account", admin, []Policy{administrator}, delegating),
	})
	checkDecisions(t, got, []Result{Allowed, ImplicitlyDenied, Allowed})
}

func TestTheEngineSaysWhyItCouldNotEvaluate(t *testing.T) {
	converse := Policy{Name: "converse", Document: json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "bedrock:Converse", "Resource": "*"}]}`)}
	broken := Policy{Name: "broken", Document: json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Permit", "Action": "bedrock:InvokeModel", "Resource": "*"}]}`)}
	model := "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
	got := Simulate(t, []Simulation{
		{Name: "an action that does not exist", Principal: function, Action: "bedrock:Converse", Resource: model,
			ResourceAccount: account, IdentityPolicies: []Policy{converse}},
		{Name: "an invalid identity policy", Principal: function, Action: "bedrock:InvokeModel", Resource: model,
			ResourceAccount: account, IdentityPolicies: []Policy{broken}},
	})
	for i, want := range []string{"invalid.action", `identity policy "broken": Statement[0].Effect`} {
		d := got[i]
		if d.Result != Failed || !slices.ContainsFunc(d.Errors, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("%s, want %s with an error containing %q", d, Failed, want)
		}
	}
}

func TestContextKeysThatDoNotApplyAreListedAsIgnored(t *testing.T) {
	keyUser := Policy{Name: "key-user", Document: json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "kms:Sign", "Resource": "` + auditKey + `",
		 "Condition": {"StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_256"}}}]}`)}
	delegating := json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::` + account + `:root"}, "Action": "kms:*", "Resource": "*"}]}`)
	got := Simulate(t, []Simulation{{Name: "sign with an S3 key in the context", Principal: function, Action: "kms:Sign",
		Resource: auditKey, ResourceAccount: account, IdentityPolicies: []Policy{keyUser}, ResourcePolicy: delegating,
		Context: map[string][]string{"kms:SigningAlgorithm": {"ECDSA_SHA_256"}, "s3:x-amz-acl": {"private"}}}})
	d := got[0]
	if d.Result != Allowed || !slices.Equal(d.IgnoredContextKeys, []string{"s3:x-amz-acl"}) {
		t.Fatalf("%s, want Allowed with s3:x-amz-acl ignored and kms:SigningAlgorithm used", d)
	}
}

// BenchmarkSimulate100 measures one Simulate call of 100 simulations (one engine process): the cost a suite pays
// per batch. Half are allowed by the key policy, half are implicitly denied to an administrator.
func BenchmarkSimulate100(b *testing.B) {
	keyPolicy := json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Principal": {"AWS": "` + function + `"}, "Action": ["kms:Sign", "kms:GetPublicKey"], "Resource": "*"}]}`)
	sims := make([]Simulation, 100)
	for i := range sims {
		principal, identity := function, []Policy(nil)
		if i%2 == 1 {
			principal, identity = admin, []Policy{administrator}
		}
		sims[i] = Simulation{Name: "sign", Principal: principal, Action: "kms:Sign", Resource: auditKey,
			ResourceAccount: account, IdentityPolicies: identity, ResourcePolicy: keyPolicy}
	}
	Simulate(b, sims[:1]) // install outside the measurement
	b.ReportAllocs()
	for b.Loop() {
		if got := Simulate(b, sims); got[0].Result != Allowed || got[1].Result != ImplicitlyDenied {
			b.Fatalf("%s; %s", got[0], got[1])
		}
	}
}
