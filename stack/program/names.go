package program

import (
	"fmt"
	"regexp"
)

// MaxStackNameLength is the longest stack name the program accepts. Every resource name starts with
// "agent-audit-<stack>-", and the longest one Pulumi derives from it, the query-results bucket with its 8-character
// random suffix, must stay within S3's 63 characters with room for the names of components added later; the
// stack's tests deploy a stack of this length and check every physical name against its service's rule.
const MaxStackNameLength = 20

// stackNameRule is what every service that gets a name from the stack accepts: S3 bucket names (lowercase letters,
// digits, hyphens, starting and ending with a letter or digit) are the strictest, then Lambda, IAM, Firehose,
// Bedrock and Glue (which takes the prefix with underscores).
var stackNameRule = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)

// ValidateStackName refuses a stack name that would make a resource name AWS rejects, naming the rule broken.
// Pulumi allows upper case, '_' and '.' in stack names; S3 bucket names allow none of them.
func ValidateStackName(name string) error {
	switch {
	case len(name) > MaxStackNameLength:
		return fmt.Errorf("stack name %q is %d characters; at most %d fit the resource names derived from it (S3 bucket names end at 63)", name, len(name), MaxStackNameLength)
	case !stackNameRule.MatchString(name):
		return fmt.Errorf("stack name %q: use lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (S3 bucket names, which are derived from it, allow nothing else)", name)
	}
	return nil
}
