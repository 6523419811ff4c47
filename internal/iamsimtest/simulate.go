package iamsimtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Policy is a named policy document attached to the principal of a simulation.
type Policy struct {
	// Name identifies the policy in the decision's reasons and errors.
	Name string `json:"name"`
	// Document is the policy JSON.
	Document json.RawMessage `json:"document"`
}

// Simulation is one request to evaluate. There are no service control, resource control or session policies
// and no permission boundaries: the request is decided by the identity policies and the resource policy alone,
// as in an account outside any organisation.
type Simulation struct {
	// Name identifies the simulation in its decision and in test failures.
	Name string `json:"name"`
	// Principal is the ARN of the caller (a role, a user, an assumed-role session, an account root) or a
	// service principal (firehose.amazonaws.com).
	Principal string `json:"principal"`
	// Action is the requested action (s3:DeleteObject). No wildcards.
	Action string `json:"action"`
	// Resource is the ARN of the resource acted on, "*" for an action without resource types.
	Resource string `json:"resource"`
	// ResourceAccount is the 12-digit account that owns Resource; it decides whether the request is same-account
	// (an identity policy or the resource policy may allow) or cross-account (both must).
	ResourceAccount string `json:"resourceAccount"`
	// Context holds the request's condition keys and their values (one for a single-valued key). The engine
	// ignores a key that does not apply to the action and resource; Decision.IgnoredContextKeys lists those.
	// Unless set here, aws:PrincipalArn (the role ARN, for a role session), aws:PrincipalAccount and
	// aws:PrincipalIsAWSService are derived from an IAM principal, and aws:PrincipalIsAWSService and
	// aws:PrincipalServiceName from a service principal, as AWS sets them for every signed request (the engine
	// does not).
	Context map[string][]string `json:"context,omitempty"`
	// IdentityPolicies are the policies attached to Principal.
	IdentityPolicies []Policy `json:"identityPolicies,omitempty"`
	// ResourcePolicy is the resource's policy (bucket policy, key policy, trust policy), nil for none.
	ResourcePolicy json.RawMessage `json:"resourcePolicy,omitempty"`
}

// Result is the engine's decision on a request.
type Result string

// The decisions.
const (
	// Allowed: some policy allows the request and none denies it.
	Allowed Result = "Allowed"
	// ImplicitlyDenied: nothing allows the request (or, for a KMS key or a cross-account request, not every
	// policy that must allow it does).
	ImplicitlyDenied Result = "ImplicitlyDenied"
	// ExplicitlyDenied: a Deny statement matches the request.
	ExplicitlyDenied Result = "ExplicitlyDenied"
	// Failed: the engine did not evaluate the request; Decision.Errors says why (an invalid policy, an action
	// that does not exist, a resource that matches no resource type of the action).
	Failed Result = "Error"
)

// Decision is the engine's answer to one Simulation.
type Decision struct {
	// Name is the Simulation's Name.
	Name string `json:"name"`
	// Result is the decision, Failed when the engine could not evaluate the request.
	Result Result `json:"result"`
	// Errors are the engine's validation messages, one per problem, when Result is Failed.
	Errors []string `json:"errors,omitempty"`
	// IgnoredContextKeys are keys of Simulation.Context the engine dropped because they do not apply to the
	// action and resource. A condition on such a key sees it as absent.
	IgnoredContextKeys []string `json:"ignoredContextKeys,omitempty"`
	// Reasons name the statements that decided the request (the allowing statements, the denying statement, or
	// the policy with no allowing statement), from the engine's own analysis.
	Reasons []string `json:"reasons,omitempty"`
}

// String renders the decision with its reasons, errors and ignored keys, for test failures.
func (d Decision) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", d.Name, d.Result)
	for _, s := range [][]string{d.Reasons, d.Errors} {
		if len(s) > 0 {
			fmt.Fprintf(&b, "; %s", strings.Join(s, "; "))
		}
	}
	if len(d.IgnoredContextKeys) > 0 {
		fmt.Fprintf(&b, "; ignored context keys %s", strings.Join(d.IgnoredContextKeys, ", "))
	}
	return b.String()
}

// Simulate evaluates sims with @cloud-copilot/iam-simulate (runSimulation, strict mode) and returns one
// Decision per Simulation, in the same order. All simulations run in one engine process, so batch them. A
// failure of that process (not of a simulation, which is a Failed decision) fails t.
func Simulate(t testing.TB, sims []Simulation) []Decision {
	t.Helper()
	if len(sims) == 0 {
		return nil
	}
	var answer struct {
		Decisions []Decision `json:"decisions"`
	}
	run(t, struct {
		Op          string       `json:"op"`
		Simulations []Simulation `json:"simulations"`
	}{"simulate", sims}, &answer)
	if len(answer.Decisions) != len(sims) {
		t.Fatalf("iamsimtest: the engine answered %d simulations with %d decisions", len(sims), len(answer.Decisions))
	}
	return answer.Decisions
}
