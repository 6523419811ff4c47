package program

import (
	"regexp"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

// nameRules are the naming rules of the services whose resources the stack names (the AWS API references'
// length limits and patterns), by type token.
var nameRules = map[string]struct {
	max     int
	pattern *regexp.Regexp
}{
	"aws:s3/bucketV2:BucketV2":                                  {63, regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)},
	"aws:lambda/function:Function":                              {64, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)},
	"aws:iam/role:Role":                                         {64, regexp.MustCompile(`^[\w+=,.@-]+$`)},
	"aws:iam/rolePolicy:RolePolicy":                             {128, regexp.MustCompile(`^[\w+=,.@-]+$`)},
	"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": {64, regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)},
	"aws:bedrock/inferenceProfile:InferenceProfile":             {64, regexp.MustCompile(`^([0-9a-zA-Z:.][ _-]?)+$`)},
	"aws:glue/catalogDatabase:CatalogDatabase":                  {255, regexp.MustCompile(`^[a-z0-9_]+$`)},
	"aws:athena/workgroup:Workgroup":                            {128, regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)},
	"aws:sns/topic:Topic":                                       {256, regexp.MustCompile(`^[A-Za-z0-9_-]+$`)},
	"aws:kms/alias:Alias":                                       {256, regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]+$`)},
	"aws:cloudwatch/metricAlarm:MetricAlarm":                    {255, regexp.MustCompile(`^[^\x00-\x1f]+$`)},
	"aws:cloudwatch/eventRule:EventRule":                        {64, regexp.MustCompile(`^[\.\-_A-Za-z0-9]+$`)},
	"aws:scheduler/schedule:Schedule":                           {64, regexp.MustCompile(`^[0-9a-zA-Z-_.]+$`)},
}

// physicalName is the name AWS gets: the explicit one, else Pulumi's auto-name (the logical name, a hyphen and 7
// random characters).
func physicalName(r pulumitest.Resource) string {
	for _, k := range []string{"name", "bucket"} {
		if v := pulumitest.Get(r.Inputs, k); v.IsString() && v.StringValue() != "" {
			return v.StringValue()
		}
	}
	return r.Name + "-abcdefg"
}

func TestTheLongestStackNameGivesValidResourceNames(t *testing.T) {
	stack := strings.Repeat("s", MaxStackNameLength-3) + "-p1"
	m, _, err := deployAs(t, stack, map[string]string{"alertEmail": "ops@example.com", "logfireToken": testToken,
		"secretsExtensionLayerArn": "arn:aws:lambda:eu-west-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:17"}, "logfireToken")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range m.Resources() {
		rule, ok := nameRules[r.Type]
		if !ok || !r.Custom {
			continue
		}
		checked++
		name := physicalName(r)
		if len(name) > rule.max || !rule.pattern.MatchString(name) {
			t.Errorf("%s %s: physical name %q (%d characters) breaks the service's rule (at most %d, %s)", r.Type, r.Name, name, len(name), rule.max, rule.pattern)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d named resources checked", checked)
	}
}

func TestStackNamesThatBreakResourceNamesAreRefused(t *testing.T) {
	for _, tc := range []struct{ stack, want string }{
		{"Prod", "lowercase"},
		{"my_stack", "lowercase"},
		{"eu.prod", "lowercase"},
		{"-dev", "starting with a letter"},
		{"dev-", "not ending with a hyphen"},
		{strings.Repeat("a", MaxStackNameLength+1), "characters"},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			m, _, err := deployAs(t, tc.stack, map[string]string{"alertEmail": "ops@example.com"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.stack) {
				t.Fatalf("stack %q: %v; want an error naming the stack and the rule (%q)", tc.stack, err, tc.want)
			}
			for _, r := range m.Resources() {
				if r.Custom {
					t.Fatalf("stack %q: %s %s created before the name was refused", tc.stack, r.Type, r.Name)
				}
			}
		})
	}
	if err := ValidateStackName(strings.Repeat("a", MaxStackNameLength)); err != nil {
		t.Errorf("the longest allowed name is refused: %v", err)
	}
}
