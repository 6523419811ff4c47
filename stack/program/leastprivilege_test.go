package program

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

// The least-privilege proofs of the audit trail. TestEveryIAMPolicyIsLeastPrivilege refuses undocumented
// wildcards; the checks here read every policy document of the stack (role, trust, bucket and key policies)
// and prove what the trail's integrity rests on:
//
//   - the function's role can neither delete nor overwrite audit objects outside oversize/, change retention
//     or legal holds, nor touch the bucket's configuration: its only S3 action is s3:PutObject on
//     <bucket>/oversize/*;
//   - the analyst can only read (Get/List/Describe actions, kms:Decrypt and kms:Verify), besides running
//     Athena queries and writing their results, each pinned to its one resource;
//   - no policy allows s3:BypassGovernanceRetention, to anyone;
//   - the digest writer's role may list the bucket's traces/, oversize/ and digests/ prefixes and no other, read
//     and write digests/ only, use the bucket's key through S3 only and write its logs, and nothing else; it is
//     named in no other resource policy than its key's, and its schedule's role may only invoke it;
//   - each signing key has exactly one signer: only the function's role can kms:Sign with the signing key, only
//     the digest role with the digest key. The key policy attached to each names that role, alone, as the
//     principal of its one kms:Sign statement, and allows nobody else kms:Sign, kms:CreateGrant or a wildcard
//     reaching them (the account's IAM included, so an administrator's IAM policy cannot sign); each key's
//     creation policy lets nobody sign; no identity policy but the signer's own reaches its key, so the
//     function cannot sign digests and the digest role cannot seal records;
//   - no Allow uses NotAction, NotResource or NotPrincipal, which would allow all that they do not name.
//
// Every check runs on the deployed stack and must find nothing, and TestLeastPrivilegeChecksCatchWidenedPolicies
// feeds each one widened copies of the same documents, which it must refuse.

// trail names the documents and resources the checks reason about, as the stack's mocks name them.
type trail struct {
	functionPolicy, analystPolicy, digestPolicy, schedulePolicy string // keys of the policy documents
	// signing seals the records, digest signs the digests. otherKeyPolicies are the documents known to govern
	// other keys; a key policy document in none of these is taken to govern a signing key, so an unknown one is
	// checked, not skipped.
	signing, digest                                             signingKey
	otherKeyPolicies                                            map[string]bool
	analystRoleARN, functionRoleARN, digestRoleARN, accountRoot string
	auditBucketARN, auditKeyARN                                 string
	digestFunctionARN, digestLogGroupARN                        string
	resultsBucketARN, resultsKeyARN, workgroupARN               string
}

// signingKey is one key whose signatures the trail rests on, and its one signer.
type signingKey struct {
	what string
	arn  string
	// attached is the policy attached to the key (kms.KeyPolicy), creation the one it was created with.
	attached, creation string
	// signer is the one role that may sign; signerPolicy its role policy, which may name kms:Sign on this key
	// exactly (redundant for a role of the key's account).
	signer, signerPolicy string
}

// signingKeys are the trail's signing keys.
func (tr trail) signingKeys() []signingKey { return []signingKey{tr.signing, tr.digest} }

func stackTrail(t *testing.T, m *pulumitest.Mocks, outs map[string]exported) trail {
	t.Helper()
	resultsKey := m.One(t, "aws:kms/key:Key", "agent-audit-dev-query-results-key")
	role := func(name string) string {
		return "arn:aws:iam::" + pulumitest.Account + ":role/" + m.One(t, "aws:iam/role:Role", name).Name
	}
	functionPolicy := "aws:iam/rolePolicy:RolePolicy agent-audit-dev-permissions policy"
	digestPolicy := "aws:iam/rolePolicy:RolePolicy agent-audit-dev-digest-permissions policy"
	key := func(what, name, arn, signer, signerPolicy string) signingKey {
		m.One(t, "aws:kms/key:Key", name)
		return signingKey{
			what: what, arn: arn, signer: signer, signerPolicy: signerPolicy,
			attached: "aws:kms/keyPolicy:KeyPolicy " + name + "-policy policy", creation: "aws:kms/key:Key " + name + " policy",
		}
	}
	signing := key("the signing key", "agent-audit-dev-signing", outs["signingKeyArn"].value, role("agent-audit-dev-role"), functionPolicy)
	digest := key("the digest key", "agent-audit-dev-digest-key", outs["digestKeyArn"].value, role("agent-audit-dev-digest-role"), digestPolicy)
	other := map[string]bool{}
	for _, k := range m.ByType("aws:kms/key:Key") {
		if "aws:kms/key:Key "+k.Name+" policy" != signing.creation && "aws:kms/key:Key "+k.Name+" policy" != digest.creation {
			other["aws:kms/key:Key "+k.Name+" policy"] = true
		}
	}
	for _, p := range m.ByType("aws:kms/keyPolicy:KeyPolicy") {
		id := pulumitest.Get(p.Inputs, "keyId")
		governsASigningKey := false
		for _, k := range []signingKey{signing, digest} {
			governsASigningKey = governsASigningKey || id.IsString() && (id.StringValue() == k.arn[strings.LastIndex(k.arn, "/")+1:] || id.StringValue() == k.arn)
		}
		if !governsASigningKey {
			other["aws:kms/keyPolicy:KeyPolicy "+p.Name+" policy"] = true
		}
	}
	return trail{
		functionPolicy:    functionPolicy,
		analystPolicy:     "aws:iam/rolePolicy:RolePolicy agent-audit-dev-query-analyst-read policy",
		digestPolicy:      digestPolicy,
		schedulePolicy:    "aws:iam/rolePolicy:RolePolicy agent-audit-dev-digest-schedule-invoke policy",
		signing:           signing,
		digest:            digest,
		otherKeyPolicies:  other,
		analystRoleARN:    outs["analystRoleArn"].value,
		functionRoleARN:   signing.signer,
		digestRoleARN:     digest.signer,
		accountRoot:       "arn:aws:iam::" + pulumitest.Account + ":root",
		auditBucketARN:    "arn:aws:s3:::" + outs["auditBucket"].value,
		auditKeyARN:       outs["auditKeyArn"].value,
		digestFunctionARN: "arn:aws:lambda:" + pulumitest.Region + ":" + pulumitest.Account + ":function:agent-audit-dev-digest",
		digestLogGroupARN: "arn:aws:logs:" + pulumitest.Region + ":" + pulumitest.Account + ":log-group:/aws/lambda/agent-audit-dev-digest",
		resultsBucketARN:  "arn:aws:s3:::agent-audit-dev-query-results",
		resultsKeyARN:     "arn:aws:kms:" + pulumitest.Region + ":" + pulumitest.Account + ":key/key-" + resultsKey.Name,
		workgroupARN:      "arn:aws:athena:" + pulumitest.Region + ":" + pulumitest.Account + ":workgroup/" + outs["athenaWorkgroup"].value,
	}
}

// overlaps reports whether two IAM patterns (actions or ARNs, "*" matching any run of characters) can match a
// common string: whether a grant written as a covers anything named by b. Actions compare case-insensitively,
// as IAM compares them.
func overlaps(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	var match func(a, b string) bool
	match = func(a, b string) bool {
		switch {
		case a == "" && b == "":
			return true
		case a != "" && a[0] == '*':
			return match(a[1:], b) || (b != "" && match(a, b[1:]))
		case b != "" && b[0] == '*':
			return match(a, b[1:]) || (a != "" && match(a[1:], b))
		case a == "" || b == "":
			return false
		default:
			return a[0] == b[0] && match(a[1:], b[1:])
		}
	}
	return match(a, b)
}

// allows visits every action of every Allow statement of every document, in a stable order.
func allows(docs map[string]pulumitest.Policy, visit func(where string, s pulumitest.Statement, action string)) {
	var where []string
	for w := range docs {
		where = append(where, w)
	}
	sort.Strings(where)
	for _, w := range where {
		for _, s := range docs[w].Statement {
			if s.Effect != "Allow" {
				continue
			}
			for _, a := range s.Action {
				visit(w, s, a)
			}
		}
	}
}

// functionMayNot lists what the function's role must not be able to do to the trail. Its one S3 action is
// checked separately; this names the dangers, so a wildcard grant that reaches one of them is named too.
var functionMayNot = []string{
	"s3:DeleteObject*", "s3:DeleteBucket*", "s3:PutBucket*",
	"s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention", "s3:PutBucketObjectLockConfiguration",
	"s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration", "s3:PutReplicationConfiguration",
	"s3:PutObjectAcl", "s3:PutObjectVersionAcl", "s3:PutObjectTagging", "s3:PutObjectVersionTagging",
}

// checkFunctionCannotAlterTheTrail: the function's only S3 grant is s3:PutObject on <bucket>/oversize/*.
func checkFunctionCannotAlterTheTrail(docs map[string]pulumitest.Policy, tr trail) []string {
	var out []string
	doc, ok := docs[tr.functionPolicy]
	if !ok {
		return []string{"function: no role policy " + tr.functionPolicy}
	}
	oversize := tr.auditBucketARN + "/oversize/*"
	puts := 0
	allows(map[string]pulumitest.Policy{tr.functionPolicy: doc}, func(_ string, s pulumitest.Statement, a string) {
		for _, bad := range functionMayNot {
			if overlaps(a, bad) {
				out = append(out, fmt.Sprintf("function: %s grants %s (as %s on %v)", s.Sid, bad, a, s.Resource))
			}
		}
		if !overlaps(a, "s3:*") {
			return
		}
		if a != "s3:PutObject" {
			out = append(out, fmt.Sprintf("function: %s grants %s, want s3:PutObject as its only S3 action", s.Sid, a))
		}
		if !slices.Equal(s.Resource, []string{oversize}) {
			out = append(out, fmt.Sprintf("function: %s grants %s on %v, want %s only", s.Sid, a, s.Resource, oversize))
		}
		puts++
	})
	if puts != 1 {
		out = append(out, fmt.Sprintf("function: %d S3 grants, want exactly s3:PutObject on %s", puts, oversize))
	}
	return out
}

// analystMayAlsoDo are the analyst's grants that are not reads, each on the one resource it needs: running
// queries in the workgroup, and Athena writing their results with the results key.
func analystMayAlsoDo(tr trail) map[string]string {
	return map[string]string{
		"athena:StartQueryExecution": tr.workgroupARN,
		"athena:StopQueryExecution":  tr.workgroupARN,
		"s3:PutObject":               tr.resultsBucketARN + "/*",
		"s3:AbortMultipartUpload":    tr.resultsBucketARN + "/*",
		"kms:GenerateDataKey":        tr.resultsKeyARN,
	}
}

// isRead tells a read-only action: Get, List, Describe and BatchGet actions, kms:Decrypt (reading encrypted
// records) and kms:Verify (checking a signature). None may carry a wildcard.
func isRead(action string) bool {
	service, verb, ok := strings.Cut(action, ":")
	if !ok || strings.Contains(action, "*") {
		return false
	}
	if service == "kms" && (verb == "Decrypt" || verb == "Verify") {
		return true
	}
	for _, p := range []string{"Get", "List", "Describe", "BatchGet"} {
		if strings.HasPrefix(verb, p) {
			return true
		}
	}
	return false
}

// checkAnalystOnlyReads: every action the analyst is allowed, in its role policy or in a policy naming it as a
// principal, is a read or one of analystMayAlsoDo on its one resource.
func checkAnalystOnlyReads(docs map[string]pulumitest.Policy, tr trail) []string {
	var out []string
	if _, ok := docs[tr.analystPolicy]; !ok {
		return []string{"analyst: no role policy " + tr.analystPolicy}
	}
	exceptions := analystMayAlsoDo(tr)
	allows(docs, func(where string, s pulumitest.Statement, a string) {
		if where != tr.analystPolicy && !slices.Contains(s.Principal["AWS"], tr.analystRoleARN) {
			return
		}
		if isRead(a) {
			return
		}
		if res, ok := exceptions[a]; ok && slices.Equal(s.Resource, []string{res}) {
			return
		}
		out = append(out, fmt.Sprintf("analyst: %s in %s grants %s on %v, which is not a read", s.Sid, where, a, s.Resource))
	})
	return out
}

// checkNobodyBypassesGovernance: no document allows s3:BypassGovernanceRetention, however it is spelled.
func checkNobodyBypassesGovernance(docs map[string]pulumitest.Policy, _ trail) []string {
	var out []string
	allows(docs, func(where string, s pulumitest.Statement, a string) {
		if overlaps(a, "s3:BypassGovernanceRetention") {
			out = append(out, fmt.Sprintf("bypass: %s %s allows s3:BypassGovernanceRetention (as %s)", where, s.Sid, a))
		}
	})
	return out
}

// checkEachKeyHasOneSigner: for each signing key, the one statement allowing kms:Sign on it is in the policy
// attached to it, and names its signer alone, for kms:Sign alone. No other statement of a document governing a
// signing key reaches kms:Sign or kms:CreateGrant (a grant could confer kms:Sign), whoever its principal: an
// account-root principal there would let every IAM policy allowing kms:Sign, an administrator's "*" included,
// sign. A signer's role policy may name kms:Sign on its own key exactly (redundant for a role of the key's
// account); no other identity or resource policy may reach a signing key with it, so the function cannot sign
// a digest, nor the digest role a record. Other keys' policies may delegate kms:* to IAM: in a key policy
// Resource "*" is that key, not a signing key.
func checkEachKeyHasOneSigner(docs map[string]pulumitest.Policy, tr trail) []string {
	var out []string
	keys := tr.signingKeys()
	inKeyPolicy, inSignerPolicy := map[string]int{}, map[string]int{}
	allows(docs, func(where string, s pulumitest.Statement, a string) {
		signs, grants := overlaps(a, "kms:Sign"), overlaps(a, "kms:CreateGrant")
		if !signs && !grants {
			return
		}
		keyPolicy := strings.HasPrefix(where, "aws:kms/key:Key ") || strings.HasPrefix(where, "aws:kms/keyPolicy:KeyPolicy ")
		switch {
		case keyPolicy && tr.otherKeyPolicies[where]:
			// Another key's policy: it governs that key only.
		case keyPolicy:
			// A signing key's own policy, or one taken to govern one.
			i := slices.IndexFunc(keys, func(k signingKey) bool { return k.attached == where })
			if i < 0 || a != "kms:Sign" || len(s.Action) != 1 || len(s.Principal) != 1 || !slices.Equal(s.Principal["AWS"], []string{keys[i].signer}) {
				out = append(out, fmt.Sprintf("sign: %s %s allows %s to %v: on a signing key only its one signer may kms:Sign, alone, in the attached key policy", where, s.Sid, a, s.Principal))
				return
			}
			inKeyPolicy[keys[i].what]++
		default:
			for _, k := range keys {
				if where == k.signerPolicy && signs && !grants && slices.Equal(s.Resource, []string{k.arn}) {
					inSignerPolicy[k.what]++
					return
				}
			}
			for _, r := range s.Resource {
				for _, k := range keys {
					if overlaps(r, k.arn) {
						out = append(out, fmt.Sprintf("sign: %s %s grants %s on %s, which reaches %s", where, s.Sid, a, r, k.what))
					}
				}
			}
		}
	})
	for _, k := range keys {
		if inKeyPolicy[k.what] != 1 || inSignerPolicy[k.what] > 1 {
			out = append(out, fmt.Sprintf("sign: %d key policy statements and %d signer role statements allow kms:Sign on %s, want one and at most one", inKeyPolicy[k.what], inSignerPolicy[k.what], k.what))
		}
	}
	return out
}

// digestMay are the digest role's grants, each on exactly its resources: list the bucket (by prefix, see
// digestListPrefixes), read and write digests/, use the bucket's key through S3, write its own logs.
func digestMay(tr trail) map[string][]string {
	digests, logs := []string{tr.auditBucketARN + "/digests/*"}, []string{tr.digestLogGroupARN + ":*"}
	return map[string][]string{
		"s3:ListBucket": {tr.auditBucketARN}, "s3:ListBucketVersions": {tr.auditBucketARN},
		"s3:GetObject": digests, "s3:GetObjectVersion": digests, "s3:PutObject": digests,
		"kms:Decrypt": {tr.auditKeyARN}, "kms:GenerateDataKey": {tr.auditKeyARN},
		"logs:CreateLogStream": logs, "logs:PutLogEvents": logs,
	}
}

// digestListPrefixes are the s3:prefix values the digest role may list: the trail's three prefixes.
var digestListPrefixes = []string{"traces/", "traces/*", "oversize/", "oversize/*", "digests/", "digests/*"}

// checkDigestRoleOnlyWritesDigests: the digest role is allowed exactly digestMay (each grant present, so the
// writer works, and nothing more), listing only under digestListPrefixes and using the bucket's key only
// through S3, none of functionMayNot; no resource policy but its key's names it, and that one for kms:Sign and
// kms:GetPublicKey only (the writer names the key's fingerprint and checks its first signature); and the
// schedule's role may invoke the digest Lambda and nothing else.
func checkDigestRoleOnlyWritesDigests(docs map[string]pulumitest.Policy, tr trail) []string {
	var out []string
	doc, ok := docs[tr.digestPolicy]
	if !ok {
		return []string{"digest: no role policy " + tr.digestPolicy}
	}
	may, seen := digestMay(tr), map[string]bool{}
	viaS3 := "s3." + pulumitest.Region + ".amazonaws.com"
	allows(map[string]pulumitest.Policy{tr.digestPolicy: doc}, func(_ string, s pulumitest.Statement, a string) {
		for _, bad := range functionMayNot {
			if overlaps(a, bad) {
				out = append(out, fmt.Sprintf("digest: %s grants %s (as %s on %v)", s.Sid, bad, a, s.Resource))
			}
		}
		res, ok := may[a]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("digest: %s grants %s on %v, which the writer does not need", s.Sid, a, s.Resource))
			return
		case !slices.Equal(s.Resource, res):
			out = append(out, fmt.Sprintf("digest: %s grants %s on %v, want %v only", s.Sid, a, s.Resource, res))
		}
		seen[a] = true
		switch service, _, _ := strings.Cut(a, ":"); {
		case strings.HasPrefix(a, "s3:List"):
			prefixes, _ := s.Condition["StringLike"]["s3:prefix"].([]any)
			limited := len(s.Condition) == 1 && len(s.Condition["StringLike"]) == 1 && len(prefixes) > 0
			for _, p := range prefixes {
				limited = limited && slices.Contains(digestListPrefixes, fmt.Sprint(p))
			}
			if !limited {
				out = append(out, fmt.Sprintf("digest: %s lists beyond %v: %v", s.Sid, digestListPrefixes, s.Condition))
			}
		case service == "kms":
			if len(s.Condition) != 1 || len(s.Condition["StringEquals"]) != 1 || s.Condition["StringEquals"]["kms:ViaService"] != viaS3 {
				out = append(out, fmt.Sprintf("digest: %s uses the bucket's key other than through S3: %v", s.Sid, s.Condition))
			}
		}
	})
	for a := range may {
		if !seen[a] {
			out = append(out, "digest: the role lacks "+a+", which the writer needs")
		}
	}
	allows(docs, func(where string, s pulumitest.Statement, a string) {
		if where != tr.digestPolicy && slices.Contains(s.Principal["AWS"], tr.digestRoleARN) && !(where == tr.digest.attached && (a == "kms:Sign" || a == "kms:GetPublicKey")) {
			out = append(out, fmt.Sprintf("digest: %s %s grants the digest role %s", where, s.Sid, a))
		}
	})
	invoke := statementsByAction(docs[tr.schedulePolicy])
	if len(invoke) != 1 || invoke["lambda:InvokeFunction"] != tr.digestFunctionARN {
		out = append(out, fmt.Sprintf("digest: the schedule's role may %v, want lambda:InvokeFunction on %s only", invoke, tr.digestFunctionARN))
	}
	return out
}

// statementsByAction maps each action a document allows to the resources it is granted on, comma-joined.
func statementsByAction(p pulumitest.Policy) map[string]string {
	out := map[string]string{}
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if out[a] != "" {
				out[a] += ","
			}
			out[a] += strings.Join(s.Resource, ",")
		}
	}
	return out
}

// checkNoInvertedAllows: an Allow with NotAction, NotResource or NotPrincipal allows what it does not name,
// which none of the checks above could see.
func checkNoInvertedAllows(docs map[string]pulumitest.Policy, _ trail) []string {
	var out []string
	for where, d := range docs {
		for _, s := range d.Statement {
			if s.Effect == "Allow" && (len(s.NotAction) != 0 || len(s.NotResource) != 0 || len(s.NotPrincipal) != 0) {
				out = append(out, fmt.Sprintf("inverted: %s %s is an Allow with NotAction, NotResource or NotPrincipal", where, s.Sid))
			}
		}
	}
	return out
}

// leastPrivilegeChecks are every proof, by the prefix their findings carry.
var leastPrivilegeChecks = map[string]func(map[string]pulumitest.Policy, trail) []string{
	"function": checkFunctionCannotAlterTheTrail,
	"analyst":  checkAnalystOnlyReads,
	"bypass":   checkNobodyBypassesGovernance,
	"digest":   checkDigestRoleOnlyWritesDigests,
	"sign":     checkEachKeyHasOneSigner,
	"inverted": checkNoInvertedAllows,
}

// deployedPolicies deploys the stack with Athena and Logfire (the most roles and grants) and parses every
// policy document.
func deployedPolicies(t *testing.T) (*pulumitest.Mocks, map[string]pulumitest.Policy, trail) {
	t.Helper()
	m, outs, err := deploy(t, map[string]string{"alertEmail": "ops@example.com", "logfireToken": testToken}, "logfireToken")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]pulumitest.Policy{}
	for where, v := range m.PolicyInputs() {
		docs[where] = pulumitest.ParsePolicy(t, v)
	}
	return m, docs, stackTrail(t, m, outs)
}

func TestTheTrailIsLeastPrivilege(t *testing.T) {
	m, docs, tr := deployedPolicies(t)
	for _, key := range []string{tr.functionPolicy, tr.analystPolicy, tr.digestPolicy, tr.schedulePolicy, tr.signing.attached,
		tr.signing.creation, tr.digest.attached, tr.digest.creation} {
		if _, ok := docs[key]; !ok {
			t.Fatalf("no policy document %q: the checks would prove nothing", key)
		}
	}
	// A KMS grant confers kms:Sign outside every policy document, so the stack makes none.
	if n := len(m.ByType("aws:kms/grant:Grant")); n != 0 {
		t.Errorf("%d KMS grants in the stack, want none", n)
	}
	for name, check := range leastPrivilegeChecks {
		if v := check(docs, tr); len(v) != 0 {
			t.Errorf("%s:\n%s", name, strings.Join(v, "\n"))
		}
	}
}

// widen returns a deep enough copy of docs with statement s added to the document at where.
func widen(docs map[string]pulumitest.Policy, where string, s pulumitest.Statement) map[string]pulumitest.Policy {
	out := map[string]pulumitest.Policy{}
	for w, d := range docs {
		out[w] = pulumitest.Policy{Version: d.Version, Statement: slices.Clone(d.Statement)}
	}
	d := out[where]
	d.Statement = append(d.Statement, s)
	out[where] = d
	return out
}

// TestLeastPrivilegeChecksCatchWidenedPolicies proves each check can fail: each case adds one statement an
// attacker or a careless edit could write to a real document of the stack, and names the check that must
// refuse it.
func TestLeastPrivilegeChecksCatchWidenedPolicies(t *testing.T) {
	_, docs, tr := deployedPolicies(t)
	allow := func(actions []string, resources ...string) pulumitest.Statement {
		return pulumitest.Statement{Sid: "Widened", Effect: "Allow", Action: actions, Resource: resources}
	}
	principal := func(s pulumitest.Statement, arn string) pulumitest.Statement {
		s.Principal = map[string][]string{"AWS": {arn}}
		return s
	}
	bucket, objects := tr.auditBucketARN, tr.auditBucketARN+"/*"
	operatorPolicy := "aws:iam/rolePolicy:RolePolicy agent-audit-dev-operator-invoke policy"
	firehosePolicy := "aws:iam/rolePolicy:RolePolicy agent-audit-dev-audit-stream-delivery policy"
	bucketPolicy := "aws:s3/bucketPolicy:BucketPolicy agent-audit-dev-audit-policy policy"
	for _, key := range []string{operatorPolicy, firehosePolicy, bucketPolicy} {
		if _, ok := docs[key]; !ok {
			t.Fatalf("no policy document %q to widen", key)
		}
	}
	tests := []struct {
		name  string
		where string
		add   pulumitest.Statement
		check string
	}{
		{"the function deletes audit objects", tr.functionPolicy, allow([]string{"s3:DeleteObject"}, objects), "function"},
		{"the function deletes object versions", tr.functionPolicy, allow([]string{"s3:DeleteObjectVersion"}, tr.auditBucketARN+"/oversize/*"), "function"},
		{"the function writes anywhere in the bucket", tr.functionPolicy, allow([]string{"s3:PutObject"}, objects), "function"},
		{"the function overwrites records under traces/", tr.functionPolicy, allow([]string{"s3:PutObject"}, bucket+"/traces/*"), "function"},
		{"the function shortens retention", tr.functionPolicy, allow([]string{"s3:PutObjectRetention"}, bucket+"/oversize/*"), "function"},
		{"the function lifts legal holds", tr.functionPolicy, allow([]string{"s3:PutObjectLegalHold"}, objects), "function"},
		{"the function rewrites the lock configuration", tr.functionPolicy, allow([]string{"s3:PutBucketObjectLockConfiguration"}, bucket), "function"},
		{"the function replaces the bucket policy", tr.functionPolicy, allow([]string{"s3:PutBucketPolicy"}, bucket), "function"},
		{"the function deletes the bucket policy", tr.functionPolicy, allow([]string{"s3:DeleteBucketPolicy"}, bucket), "function"},
		{"the function rewrites the lifecycle", tr.functionPolicy, allow([]string{"s3:PutLifecycleConfiguration"}, bucket), "function"},
		{"the function gets s3:* on its prefix", tr.functionPolicy, allow([]string{"s3:*"}, bucket+"/oversize/*"), "function"},
		{"the function gets s3:Put* on the bucket", tr.functionPolicy, allow([]string{"s3:Put*"}, bucket), "function"},
		{"the function reads audit objects", tr.functionPolicy, allow([]string{"s3:GetObject"}, bucket+"/oversize/*"), "function"},
		{"the function gets everything", tr.functionPolicy, allow([]string{"*"}, "*"), "function"},
		{"the function writes digests", tr.functionPolicy, allow([]string{"s3:PutObject"}, bucket+"/digests/*"), "function"},
		{"the function lists the bucket", tr.functionPolicy, allow([]string{"s3:ListBucketVersions"}, bucket), "function"},
		{"the function reads digests", tr.functionPolicy, allow([]string{"s3:GetObjectVersion"}, bucket+"/digests/*"), "function"},

		{"the digest role writes records", tr.digestPolicy, allow([]string{"s3:PutObject"}, bucket+"/traces/*"), "digest"},
		{"the digest role writes oversize content", tr.digestPolicy, allow([]string{"s3:PutObject"}, bucket+"/oversize/*"), "digest"},
		{"the digest role writes anywhere in the bucket", tr.digestPolicy, allow([]string{"s3:PutObject"}, objects), "digest"},
		{"the digest role reads records", tr.digestPolicy, allow([]string{"s3:GetObject"}, bucket+"/traces/*"), "digest"},
		{"the digest role deletes digest versions", tr.digestPolicy, allow([]string{"s3:DeleteObjectVersion"}, bucket+"/digests/*"), "digest"},
		{"the digest role shortens a digest's retention", tr.digestPolicy, allow([]string{"s3:PutObjectRetention"}, bucket+"/digests/*"), "digest"},
		{"the digest role gets s3:* on digests/", tr.digestPolicy, allow([]string{"s3:*"}, bucket+"/digests/*"), "digest"},
		{"the digest role lists any prefix", tr.digestPolicy, allow([]string{"s3:ListBucketVersions"}, bucket), "digest"},
		{"the digest role lists another prefix", tr.digestPolicy, pulumitest.Statement{Sid: "Widened", Effect: "Allow", Action: []string{"s3:ListBucket"},
			Resource: []string{bucket}, Condition: map[string]map[string]any{"StringLike": {"s3:prefix": []any{"errors/*"}}}}, "digest"},
		{"the digest role decrypts with the bucket key directly", tr.digestPolicy, allow([]string{"kms:Decrypt"}, tr.auditKeyARN), "digest"},
		{"the digest role re-encrypts with the bucket key", tr.digestPolicy, allow([]string{"kms:ReEncryptTo"}, tr.auditKeyARN), "digest"},
		{"the digest role invokes the agent", tr.digestPolicy, allow([]string{"lambda:InvokeFunction"}, "arn:aws:lambda:eu-west-1:123456789012:function:agent-audit-dev"), "digest"},
		{"the bucket policy lets the digest role delete", bucketPolicy, principal(allow([]string{"s3:DeleteObject"}, objects), tr.digestRoleARN), "digest"},
		{"the digest key lets its signer disable it", tr.digest.attached, principal(allow([]string{"kms:DisableKey"}, "*"), tr.digestRoleARN), "digest"},
		{"the schedule's role invokes the agent too", tr.schedulePolicy, allow([]string{"lambda:InvokeFunction"}, "arn:aws:lambda:eu-west-1:123456789012:function:agent-audit-dev"), "digest"},
		{"the schedule's role invokes any function", tr.schedulePolicy, allow([]string{"lambda:InvokeFunction"}, "*"), "digest"},

		{"the analyst writes audit records", tr.analystPolicy, allow([]string{"s3:PutObject"}, bucket+"/traces/*"), "analyst"},
		{"the analyst deletes query results", tr.analystPolicy, allow([]string{"s3:DeleteObject"}, tr.resultsBucketARN+"/*"), "analyst"},
		{"the analyst drops the table", tr.analystPolicy, allow([]string{"glue:DeleteTable"}, "arn:aws:glue:eu-west-1:123456789012:table/agent_audit_dev/records"), "analyst"},
		{"the analyst changes the table", tr.analystPolicy, allow([]string{"glue:UpdateTable"}, "arn:aws:glue:eu-west-1:123456789012:catalog"), "analyst"},
		{"the analyst deletes the workgroup", tr.analystPolicy, allow([]string{"athena:DeleteWorkGroup"}, tr.workgroupARN), "analyst"},
		{"the analyst gets athena:* on the workgroup", tr.analystPolicy, allow([]string{"athena:*"}, tr.workgroupARN), "analyst"},
		{"the analyst reads with a wildcard", tr.analystPolicy, allow([]string{"s3:Get*"}, bucket+"/traces/*"), "analyst"},
		{"the analyst encrypts with the audit key", tr.analystPolicy, allow([]string{"kms:GenerateDataKey"}, tr.auditKeyARN), "analyst"},
		{"the analyst runs queries in another workgroup", tr.analystPolicy, allow([]string{"athena:StartQueryExecution"}, "arn:aws:athena:eu-west-1:123456789012:workgroup/primary"), "analyst"},
		{"a key policy lets the analyst disable the signing key", tr.signing.attached, principal(allow([]string{"kms:DisableKey"}, "*"), tr.analystRoleARN), "analyst"},

		{"the audit bucket policy allows the bypass", bucketPolicy, principal(allow([]string{"s3:BypassGovernanceRetention"}, objects), tr.accountRoot), "bypass"},
		{"the Firehose role may bypass", firehosePolicy, allow([]string{"s3:Bypass*"}, objects), "bypass"},
		{"the operator gets s3:*", operatorPolicy, allow([]string{"s3:*"}, objects), "bypass"},

		{"the operator signs", operatorPolicy, allow([]string{"kms:Sign"}, tr.signing.arn), "sign"},
		{"the Firehose role signs with any key", firehosePolicy, allow([]string{"kms:Sign"}, "arn:aws:kms:eu-west-1:123456789012:key/*"), "sign"},
		{"the analyst gets kms:* on everything", tr.analystPolicy, allow([]string{"kms:*"}, "*"), "sign"},
		{"the function signs with every key", tr.functionPolicy, allow([]string{"kms:Sign"}, "*"), "sign"},
		{"the signing key lets the analyst sign", tr.signing.attached, principal(allow([]string{"kms:Sign"}, "*"), tr.analystRoleARN), "sign"},
		{"the signing key delegates kms:* to IAM", tr.signing.attached, principal(allow([]string{"kms:*"}, "*"), tr.accountRoot), "sign"},
		{"the signing key delegates kms:Sign to IAM, so an administrator's IAM policy signs", tr.signing.attached, principal(allow([]string{"kms:Sign"}, "*"), tr.accountRoot), "sign"},
		{"the signing key lets the account's IAM create grants", tr.signing.attached, principal(allow([]string{"kms:CreateGrant"}, "*"), tr.accountRoot), "sign"},
		{"the signing key lets the function create grants", tr.signing.attached, principal(allow([]string{"kms:CreateGrant"}, "*"), tr.functionRoleARN), "sign"},
		{"the signing key lets anyone sign", tr.signing.attached, principal(allow([]string{"kms:Sign"}, "*"), "*"), "sign"},
		{"the function signs in a statement that also names the operator", tr.signing.attached,
			pulumitest.Statement{Sid: "Widened", Effect: "Allow", Principal: map[string][]string{"AWS": {tr.functionRoleARN, "arn:aws:iam::123456789012:role/agent-audit-dev-operator"}}, Action: []string{"kms:Sign"}, Resource: []string{"*"}}, "sign"},
		{"the function's key policy statement grants more than kms:Sign", tr.signing.attached, principal(allow([]string{"kms:Sign", "kms:ScheduleKeyDeletion"}, "*"), tr.functionRoleARN), "sign"},
		{"the function signs in a second key policy statement", tr.signing.attached, principal(allow([]string{"kms:Sign"}, "*"), tr.functionRoleARN), "sign"},
		{"the signing key's creation policy delegates kms:Sign to IAM", tr.signing.creation, principal(allow([]string{"kms:Sign"}, "*"), tr.accountRoot), "sign"},
		{"the signing key's creation policy delegates kms:* to IAM, as KMS's default policy does", tr.signing.creation, principal(allow([]string{"kms:*"}, "*"), tr.accountRoot), "sign"},
		{"a second policy attached to the signing key delegates kms:Sign to IAM", "aws:kms/keyPolicy:KeyPolicy agent-audit-dev-signing-second policy", principal(allow([]string{"kms:Sign"}, "*"), tr.accountRoot), "sign"},

		{"the function signs with the digest key", tr.functionPolicy, allow([]string{"kms:Sign"}, tr.digest.arn), "sign"},
		{"the digest key lets the function sign", tr.digest.attached, principal(allow([]string{"kms:Sign"}, "*"), tr.functionRoleARN), "sign"},
		{"the digest role signs with the signing key", tr.digestPolicy, allow([]string{"kms:Sign"}, tr.signing.arn), "sign"},
		{"the signing key lets the digest role seal records", tr.signing.attached, principal(allow([]string{"kms:Sign"}, "*"), tr.digestRoleARN), "sign"},
		{"the digest role signs with any key", tr.digestPolicy, allow([]string{"kms:Sign"}, "arn:aws:kms:eu-west-1:123456789012:key/*"), "sign"},
		{"the digest key delegates kms:Sign to IAM", tr.digest.attached, principal(allow([]string{"kms:Sign"}, "*"), tr.accountRoot), "sign"},
		{"the digest key lets the account's IAM create grants", tr.digest.attached, principal(allow([]string{"kms:CreateGrant"}, "*"), tr.accountRoot), "sign"},
		{"the digest key's creation policy delegates kms:* to IAM", tr.digest.creation, principal(allow([]string{"kms:*"}, "*"), tr.accountRoot), "sign"},
		{"the digest role signs in a second digest key statement", tr.digest.attached, principal(allow([]string{"kms:Sign"}, "*"), tr.digestRoleARN), "sign"},
		{"the operator signs digests", operatorPolicy, allow([]string{"kms:Sign"}, tr.digest.arn), "sign"},

		{"the function is allowed all but one action", tr.functionPolicy,
			pulumitest.Statement{Sid: "Widened", Effect: "Allow", NotAction: []string{"s3:DeleteObject"}, Resource: []string{"*"}}, "inverted"},
		{"the bucket allows everyone but one principal", bucketPolicy,
			pulumitest.Statement{Sid: "Widened", Effect: "Allow", NotPrincipal: map[string][]string{"AWS": {tr.accountRoot}}, Action: []string{"s3:GetObject"}, Resource: []string{objects}}, "inverted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := leastPrivilegeChecks[tt.check]
			if v := check(widen(docs, tt.where, tt.add), tr); len(v) == 0 {
				t.Errorf("the %s check passes a policy widened with %+v", tt.check, tt.add)
			}
		})
	}
	// Narrowing a key's policy to no kms:Sign at all is refused too: its signer could not sign.
	for _, k := range tr.signingKeys() {
		t.Run("the signer's kms:Sign statement is gone from "+k.what+"'s policy", func(t *testing.T) {
			narrowed := widen(docs, k.attached, pulumitest.Statement{Sid: "Harmless", Effect: "Deny", Action: []string{"kms:Decrypt"}, Resource: []string{"*"}})
			d := narrowed[k.attached]
			d.Statement = slices.DeleteFunc(d.Statement, func(s pulumitest.Statement) bool { return slices.Contains(s.Action, "kms:Sign") })
			narrowed[k.attached] = d
			if v := checkEachKeyHasOneSigner(narrowed, tr); len(v) == 0 {
				t.Error("the sign check passes a key policy that lets nobody sign")
			}
		})
	}
	// Narrowing the digest role below what the writer needs is refused: it could not list versions.
	t.Run("the digest role cannot list versions", func(t *testing.T) {
		narrowed := widen(docs, tr.digestPolicy, pulumitest.Statement{Sid: "Harmless", Effect: "Deny", Action: []string{"s3:GetObject"}, Resource: []string{"*"}})
		d := narrowed[tr.digestPolicy]
		for i, s := range d.Statement {
			d.Statement[i].Action = slices.DeleteFunc(slices.Clone(s.Action), func(a string) bool { return a == "s3:ListBucketVersions" })
		}
		narrowed[tr.digestPolicy] = d
		if v := checkDigestRoleOnlyWritesDigests(narrowed, tr); len(v) == 0 {
			t.Error("the digest check passes a role that cannot list object versions")
		}
	})
	// The originals are untouched by widening, so every case above was refused for its own statement.
	for name, check := range leastPrivilegeChecks {
		if v := check(docs, tr); len(v) != 0 {
			t.Errorf("%s fails the deployed stack after widening copies: %v", name, v)
		}
	}
}

func TestOverlaps(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"s3:PutObject", "s3:PutObject", true},
		{"s3:putobject", "s3:PutObject", true},
		{"s3:*", "s3:DeleteObject", true},
		{"*", "s3:BypassGovernanceRetention", true},
		{"s3:Put*", "s3:PutBucket*", true},
		{"s3:Delete*", "s3:DeleteObject*", true},
		{"s3:PutObject", "s3:PutObject*", true},
		{"s3:PutObject", "s3:PutObjectRetention", false},
		{"s3:GetObject", "s3:DeleteObject*", false},
		{"s3:Get*", "s3:Put*", false},
		{"arn:aws:kms:eu-west-1:123456789012:key/*", "arn:aws:kms:eu-west-1:123456789012:key/key-x", true},
		{"arn:aws:kms:eu-west-1:123456789012:key/key-y", "arn:aws:kms:eu-west-1:123456789012:key/key-x", false},
		{"arn:aws:s3:::b/oversize/*", "arn:aws:s3:::b/traces/*", false},
	}
	for _, tt := range tests {
		if got := overlaps(tt.a, tt.b); got != tt.want {
			t.Errorf("overlaps(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := overlaps(tt.b, tt.a); got != tt.want {
			t.Errorf("overlaps(%q, %q) = %v, want %v (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}
