package program

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

// TestTheTrailsProtectionHoldsAgainstAdministrators checks the deny statements that keep administrators from
// erasing or crypto-shredding the trail, with and without a break-glass role, and that KMS's lockout safety check
// passes for every key policy (the account may still change it).
func TestTheTrailsProtectionHoldsAgainstAdministrators(t *testing.T) {
	const breakGlass = "arn:aws:iam::123456789012:role/audit-break-glass"
	for _, tc := range []struct {
		name          string
		breakGlass    string
		wantCondition string
	}{
		{"with no break-glass role nobody is exempt", "", "map[]"},
		{"with one, it alone is exempt", breakGlass, "map[ArnNotEquals:map[aws:PrincipalArn:" + breakGlass + "]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := map[string]string{"alertEmail": "ops@example.com"}
			if tc.breakGlass != "" {
				config["breakGlassRoleArn"] = tc.breakGlass
			}
			m, _, err := deploy(t, config)
			if err != nil {
				t.Fatal(err)
			}
			docs := m.PolicyInputs()
			denies := func(where string, actions ...string) {
				t.Helper()
				for _, st := range pulumitest.ParsePolicy(t, docs[where]).Statement {
					if st.Effect == "Deny" && slices.Equal(st.Action, actions) {
						if strings.Join(st.Principal["AWS"], ",") != "*" || fmt.Sprint(st.Condition) != tc.wantCondition {
							t.Errorf("%s: deny of %v is %+v", where, actions, st)
						}
						return
					}
				}
				t.Errorf("%s denies nobody %v", where, actions)
			}
			denies("aws:s3/bucketPolicy:BucketPolicy agent-audit-dev-audit-policy policy", "s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration")
			keyPolicies := []string{
				"aws:kms/key:Key agent-audit-dev-audit-key policy",
				"aws:kms/key:Key agent-audit-dev-signing policy",
				"aws:kms/keyPolicy:KeyPolicy agent-audit-dev-signing-policy policy",
				"aws:kms/key:Key agent-audit-dev-digest-key policy",
				"aws:kms/keyPolicy:KeyPolicy agent-audit-dev-digest-key-policy policy",
			}
			for _, where := range keyPolicies {
				denies(where, "kms:ScheduleKeyDeletion", "kms:DisableKey")
			}
			// KMS refuses a key policy under which the caller could not change it again (the lockout safety check);
			// the deployer's permission comes through the account principal, so the account must be allowed
			// kms:PutKeyPolicy and no Deny may take it.
			for where, doc := range docs {
				if !strings.HasPrefix(where, "aws:kms/") {
					continue
				}
				allowed := false
				for _, st := range pulumitest.ParsePolicy(t, doc).Statement {
					covers := slices.Contains(st.Action, "kms:PutKeyPolicy") || slices.Contains(st.Action, "kms:*")
					switch {
					case covers && st.Effect == "Deny":
						t.Errorf("%s denies kms:PutKeyPolicy: %+v", where, st)
					case covers && slices.Contains(st.Principal["AWS"], "arn:aws:iam::123456789012:root"):
						allowed = true
					}
				}
				if !allowed {
					t.Errorf("%s does not let the account change it: KMS's lockout safety check refuses it", where)
				}
			}
			for _, key := range m.ByType("aws:kms/key:Key") {
				if key.Name != "agent-audit-dev-query-results-key" && !key.RetainOnDelete {
					t.Errorf("key %s is deleted with the stack: the records it protects would become unreadable", key.Name)
				}
			}
		})
	}
	_, _, err := deploy(t, map[string]string{"alertEmail": "ops@example.com", "breakGlassRoleArn": "arn:aws:iam::123456789012:user/admin"})
	if err == nil || !strings.Contains(err.Error(), "breakGlassRoleArn") {
		t.Errorf("a user as break-glass role: %v", err)
	}
}

func TestTamperAlarmsWatchTheStacksBucketAndKeys(t *testing.T) {
	m, _, err := deploy(t, map[string]string{"alertEmail": "ops@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	keys := pulumitest.Get(m.One(t, "aws:cloudwatch/eventRule:EventRule", "agent-audit-dev-guard-keys").Inputs, "eventPattern").StringValue()
	for _, want := range []string{"arn:aws:kms:eu-west-1:123456789012:key/key-agent-audit-dev-audit-key", "arn:aws:kms:eu-west-1:123456789012:key/key-agent-audit-dev-signing", "arn:aws:kms:eu-west-1:123456789012:key/key-agent-audit-dev-digest-key"} {
		if !strings.Contains(keys, want) {
			t.Errorf("key rule %s does not watch %s", keys, want)
		}
	}
	bucket := pulumitest.Get(m.One(t, "aws:cloudwatch/eventRule:EventRule", "agent-audit-dev-guard-bucket").Inputs, "eventPattern").StringValue()
	if !strings.Contains(bucket, `"bucketName":["agent-audit-dev-audit"]`) {
		t.Errorf("bucket rule %s does not watch the audit bucket", bucket)
	}
	topic := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:sns/topicPolicy:TopicPolicy", "agent-audit-dev-tokens-topic-policy").Inputs, "policy"))
	if len(topic.Statement) != 2 || !strings.Contains(fmt.Sprint(topic.Statement[1].Condition), "rule/agent-audit-dev-guard-keys") {
		t.Errorf("the alarm topic does not let the guard rules publish: %+v", topic.Statement)
	}
}
