package components

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PolicyVersion is the only IAM policy language version AWS accepts for new policies.
const PolicyVersion = "2012-10-17"

// PolicyDocument is an IAM policy document. Every component builds its policies from this one type, rather
// than through the aws:iam/getPolicyDocument data source, so that a policy is plain JSON known at plan time and
// the whole stack's policies can be checked for wildcards by one walk in the tests.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyStatement is one statement of a PolicyDocument. Action and Resource are always lists, so readers never
// have to handle the string-or-list forms IAM also accepts.
type PolicyStatement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal map[string][]string       `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// JSON renders the document. It fails only when a Condition value cannot be encoded.
func (d PolicyDocument) JSON() (string, error) {
	if d.Version == "" {
		d.Version = PolicyVersion
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode IAM policy document: %w", err)
	}
	return string(b), nil
}

// PolicyJSON resolves inputs (typically ARNs of other resources), hands their values in order to build, and
// renders the resulting document as a JSON string output suitable for a policy argument.
func PolicyJSON(build func(values []string) PolicyDocument, inputs ...pulumi.StringInput) pulumi.StringOutput {
	all := make([]any, len(inputs))
	for i, in := range inputs {
		all[i] = in
	}
	return pulumi.All(all...).ApplyT(func(resolved []any) (string, error) {
		values := make([]string, len(resolved))
		for i, v := range resolved {
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("policy input %d resolved to %T, want string", i, v)
			}
			values[i] = s
		}
		return build(values).JSON()
	}).(pulumi.StringOutput)
}
