package iamsimtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// found is the part of a Problem a case pins: where, what kind, and the offending string.
type found struct {
	index int
	kind  ProblemKind
	value string
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		doc  string
		want []found
	}{
		{"a made-up action is reported: Converse is authorised by bedrock:InvokeModel, there is no bedrock:Converse",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Sid": "Invoke", "Effect": "Allow", "Action": "bedrock:Converse",
				 "Resource": "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"}]}`,
			[]found{{0, UnknownAction, "bedrock:Converse"}}},
		{"the real actions are not reported",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Sid": "Invoke", "Effect": "Allow", "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
				 "Resource": ["arn:aws:bedrock:eu-west-1::foundation-model/*",
				              "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0"]}]}`,
			nil},
		{"a service that does not exist is reported",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allow", "Action": "bedrocks:InvokeModel", "Resource": "*"}]}`,
			[]found{{0, UnknownAction, "bedrocks:InvokeModel"}}},
		{"a pattern that matches no action is reported, one that matches some is not",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allow", "Action": ["s3:Frobnicate*", "s3:Get*"], "Resource": "arn:aws:s3:::audit/*"}]}`,
			[]found{{0, UnknownAction, "s3:Frobnicate*"}}},
		{"a bogus condition key is reported",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::audit/*",
				 "Condition": {"StringEquals": {"s3:NotAKey": "x", "s3:ExistingObjectTag/team": "audit"}}}]}`,
			[]found{{0, UnknownConditionKey, "s3:NotAKey"}}},
		{"a key of the service that none of the statement's actions supports is reported",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:eu-west-1:123456789012:key/k",
				 "Condition": {"StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_256"}}}]}`,
			[]found{{0, UnknownConditionKey, "kms:SigningAlgorithm"}}},
		{"global keys, tag keys and keys with a variable part are accepted",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "arn:aws:kms:eu-west-1:123456789012:key/k",
				 "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com",
				                                "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::audit",
				                                "aws:PrincipalTag/team": "audit", "aws:SourceAccount": "123456789012"},
				               "ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/break-glass"}}}]}`,
			nil},
		{"a bucket ARN for an object action is reported both ways",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::audit"}]}`,
			[]found{{0, ResourceMatchesNoType, "arn:aws:s3:::audit"}, {0, ActionMatchesNoResource, "s3:GetObject"}}},
		{"a wildcard-only action on a specific ARN is reported",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "arn:aws:xray:eu-west-1:123456789012:group/g"}]}`,
			[]found{{0, ResourceMatchesNoType, "arn:aws:xray:eu-west-1:123456789012:group/g"}, {0, ActionMatchesNoResource, "xray:PutTraceSegments"}}},
		{"wildcards and policy variables in ARNs are allowed where IAM allows them",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:*Object"],
				 "Resource": ["arn:aws:s3:::audit-*", "arn:aws:s3:::audit-*/traces/${aws:username}/*"]},
				{"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"}]}`,
			nil},
		{"the statement index and Sid locate a problem in a later statement",
			KindIdentity, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::audit/*"},
				{"Sid": "Second", "Effect": "Allow", "Action": "s3:GetObjectz", "Resource": "arn:aws:s3:::audit/*"}]}`,
			[]found{{1, UnknownAction, "s3:GetObjectz"}}},
		{"a trust policy's keys are checked against sts:AssumeRole",
			KindTrust, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole",
				 "Condition": {"StringEquals": {"sts:ExternalId": "123456789012", "sts:ExternalIdz": "x"}}}]}`,
			[]found{{0, UnknownConditionKey, "sts:ExternalIdz"}}},
		{"a key policy with Resource * passes, a key that exists nowhere under Action * does not",
			KindKey, `{"Version": "2012-10-17", "Statement": [
				{"Sid": "Sign", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/fn"},
				 "Action": ["kms:Sign", "kms:GetPublicKey"], "Resource": "*",
				 "Condition": {"StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_256"}}},
				{"Sid": "Nobody", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
				 "Condition": {"Bool": {"kms:NoSuchKey": "true", "kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}]}`,
			[]found{{1, UnknownConditionKey, "kms:NoSuchKey"}}},
		{"a syntax error is reported with its path",
			KindBucket, `{"Version": "2012-10-17", "Statement": [
				{"Effect": "Allowed", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::audit/*"}]}`,
			[]found{{0, InvalidSyntax, "Statement[0].Effect"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			problems := Validate(t, []Document{{Name: "doc", Kind: tc.kind, Document: json.RawMessage(tc.doc)}})
			var got []found
			for _, p := range problems {
				if p.Document != "doc" || p.Message == "" {
					t.Errorf("problem %+v: want Document %q and a message", p, "doc")
				}
				got = append(got, found{p.StatementIndex, p.Kind, p.Value})
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("problems:\n%s\nwant %v", problemLines(problems), tc.want)
			}
		})
	}
}

func TestValidateNamesTheDocumentAndSid(t *testing.T) {
	bad := json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::audit/*"},
		{"Sid": "Converse", "Effect": "Allow", "Action": "bedrock:Converse", "Resource": "*"}]}`)
	good := json.RawMessage(`{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}}`)
	problems := Validate(t, []Document{
		{Name: "good", Kind: KindIdentity, Document: good},
		{Name: "fn-bedrock", Kind: KindIdentity, Document: bad},
	})
	want := []Problem{{Document: "fn-bedrock", StatementIndex: 1, Sid: "Converse", Kind: UnknownAction, Value: "bedrock:Converse"}}
	if len(problems) != 1 {
		t.Fatalf("problems:\n%s\nwant %+v", problemLines(problems), want)
	}
	p := problems[0]
	p.Message = ""
	if p != want[0] {
		t.Fatalf("problem %+v, want %+v", problems[0], want[0])
	}
	if s := problems[0].String(); s != "fn-bedrock Statement[1] (Sid Converse): unknown-action: "+problems[0].Message {
		t.Fatalf("String() = %q", s)
	}
}

func problemLines(problems []Problem) string {
	s := ""
	for _, p := range problems {
		s += fmt.Sprintf("  %s (value %q)\n", p, p.Value)
	}
	return s
}
