package components

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The signing key's kind: KMS signs with ECDSA over P-256 (ECDSA_SHA_256, the only algorithm of that spec), and
// anyone holding the exported public key verifies without AWS.
const (
	SigningKeySpec      = "ECC_NIST_P256"
	SigningKeyUsage     = "SIGN_VERIFY"
	SigningKeyAlgorithm = "ECDSA_SHA_256"
)

// DefaultSigningKeyDeletionWindowDays is KMS's longest waiting period, in days: a deleted signing key cannot
// sign, and KMS can no longer verify, so a mistaken deletion gets the most time to be cancelled. (The exported
// public key still verifies every record after the key is gone.)
const DefaultSigningKeyDeletionWindowDays = 30

// signingKeyAdminActions are what the account's IAM may do to the signing key: look at it, administer it and
// schedule its deletion. Deliberately absent: kms:Sign (named signer roles only), kms:Verify, and kms:CreateGrant,
// since a grant could confer kms:Sign outside the key policy.
var signingKeyAdminActions = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey", "kms:EnableKey",
	"kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:GetPublicKey", "kms:ListGrants", "kms:ListKeyPolicies",
	"kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource",
	"kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
}

// signingKeyReaderActions are what ReaderRoleARNs get: read the public key and verify through KMS, nothing else.
var signingKeyReaderActions = []string{"kms:DescribeKey", "kms:GetPublicKey", "kms:Verify"}

// SigningKeyArgs configures a SigningKey. Zero values select defaults.
type SigningKeyArgs struct {
	// ReaderRoleARNs may read the public key and verify signatures through KMS (kms:GetPublicKey, kms:Verify,
	// kms:DescribeKey), named in the key policy itself (e.g. an operator or analyst role). Optional: the public
	// key is an output, and verification needs nothing else. They are named in the policy AllowSigners attaches.
	ReaderRoleARNs []pulumi.StringInput
	// DeletionWindowDays is the key's waiting period before deletion, in days (7–30; default 30).
	DeletionWindowDays int
	// BreakGlassRoleARN is the one IAM role that may schedule the key's deletion or disable it (optional; with
	// none, nobody may): ProtectKey's statement is in both of the key's policies.
	BreakGlassRoleARN string
}

// SigningKey is the asymmetric KMS key that seals the audit records: an ECC_NIST_P256 SIGN_VERIFY key whose
// private half never leaves KMS, an alias alias/<component name>, and the public key as PEM.
//
// Who may sign: the roles passed to AllowSigners, and nobody else. The key policy names each signer role's ARN
// as the principal of its one kms:Sign statement (and of one kms:GetPublicKey statement, so a signer learns the
// fingerprint it certifies with and checks its first signature); it delegates nothing about signing to IAM (no account
// principal with kms:Sign, kms:*, kms:CreateGrant or kms:Verify), so no IAM policy, however broad (an
// administrator's Action "*" on Resource "*"), lets anyone else sign, and no grant can be created to do so. The
// account's IAM may only look at and administer the key; an administrator who wants to sign must first change
// the key policy (kms:PutKeyPolicy), which CloudTrail records.
//
// Two steps, because the signer's role usually needs the key's ARN first (AgentFunction takes it), so the key
// cannot name the role when it is created. NewSigningKey creates the key with an administration-only policy
// under which nobody signs or verifies; AllowSigners then attaches the full policy (administration, readers,
// signers) as a separate kms.KeyPolicy resource. Call AllowSigners exactly once per key: until it runs (and if it
// never does) nobody can sign, and readers are named only in the policy it attaches.
//
// Automatic rotation does not exist for asymmetric keys: a new key is a new public key for verifiers.
//
// The key is kept when the stack is destroyed (RetainOnDelete), and both its policies deny scheduling its
// deletion or disabling it to everyone but BreakGlassRoleARN (ProtectKey).
type SigningKey struct {
	pulumi.ResourceState

	// KeyARN and KeyID identify the key; AliasName is alias/<component name>.
	KeyARN    pulumi.StringOutput
	KeyID     pulumi.StringOutput
	AliasName pulumi.StringOutput
	// PublicKeyPEM is the public key as PEM (PKIX "PUBLIC KEY"), read from KMS by the provider's GetPublicKey:
	// what `audit verify --public-key` checks records against.
	PublicKeyPEM pulumi.StringOutput

	name               string
	account, partition string
	breakGlass         string
	readers            []pulumi.StringInput
	mu                 sync.Mutex
	policyAttached     bool
}

func (a *SigningKeyArgs) withDefaults() (SigningKeyArgs, error) {
	out := SigningKeyArgs{}
	if a != nil {
		out = *a
	}
	if out.DeletionWindowDays == 0 {
		out.DeletionWindowDays = DefaultSigningKeyDeletionWindowDays
	}
	var errs []error
	if out.DeletionWindowDays < 7 || out.DeletionWindowDays > 30 {
		errs = append(errs, fmt.Errorf("DeletionWindowDays: %d is outside 7..30", out.DeletionWindowDays))
	}
	for i, r := range out.ReaderRoleARNs {
		if r == nil {
			errs = append(errs, fmt.Errorf("ReaderRoleARNs[%d]: nil", i))
		}
	}
	if out.BreakGlassRoleARN != "" && !isRoleARN(out.BreakGlassRoleARN) {
		errs = append(errs, fmt.Errorf("BreakGlassRoleARN: %q is not an IAM role ARN", out.BreakGlassRoleARN))
	}
	return out, errors.Join(errs...)
}

// NewSigningKey creates the key and its alias and reads the public key back. It returns one error naming every
// bad argument.
func NewSigningKey(ctx *pulumi.Context, name string, args *SigningKeyArgs, opts ...pulumi.ResourceOption) (*SigningKey, error) {
	cfg, err := args.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", name, err)
	}
	c := &SigningKey{}
	if err := ctx.RegisterComponentResource(typeToken("SigningKey"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	account, partition, err := accountAndPartition(ctx, parent)
	if err != nil {
		return nil, err
	}

	// The creation policy lets the account's IAM administer the key and nobody sign: the signers' roles do not
	// exist yet. Giving no policy at all would leave KMS's default policy (kms:* to the account's IAM, kms:Sign and
	// kms:CreateGrant included) on the key until AllowSigners replaces it, and a grant created in that window
	// would outlive the replacement. IgnoreChanges makes the policy a creation-time value only: after creation
	// the kms.KeyPolicy of AllowSigners owns the key's policy, and without it every later `pulumi up` would see
	// the key's policy differ from this one and put it back, taking kms:Sign from the signers.
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:           pulumi.Sprintf("Signs the %s audit records (ECDSA P-256); kms:Sign only for the roles its key policy names.", name),
		CustomerMasterKeySpec: pulumi.String(SigningKeySpec),
		KeyUsage:              pulumi.String(SigningKeyUsage),
		DeletionWindowInDays:  pulumi.Int(cfg.DeletionWindowDays),
		Policy:                pulumi.String(mustJSON(ProtectKey(SigningKeyPolicy(partition, account, nil, nil), cfg.BreakGlassRoleARN))),
	}, parent, pulumi.IgnoreChanges([]string{"policy"}), pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, err
	}
	alias, err := kms.NewAlias(ctx, name+"-alias", &kms.AliasArgs{
		Name:        pulumi.String("alias/" + name),
		TargetKeyId: key.KeyId,
	}, parent)
	if err != nil {
		return nil, err
	}
	public := kms.GetPublicKeyOutput(ctx, kms.GetPublicKeyOutputArgs{KeyId: key.Arn}, parent)

	c.KeyARN, c.KeyID, c.AliasName, c.PublicKeyPEM = key.Arn, key.KeyId, alias.Name, public.PublicKeyPem()
	c.name, c.account, c.partition, c.readers, c.breakGlass = name, account, partition, cfg.ReaderRoleARNs, cfg.BreakGlassRoleARN
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"keyArn": c.KeyARN, "keyId": c.KeyID, "aliasName": c.AliasName, "publicKeyPem": c.PublicKeyPEM,
	})
}

// AllowSigners attaches the key's full policy, as a kms.KeyPolicy child of the component named
// <component name>-policy: the account's IAM may administer the key, ReaderRoleARNs may read the public key and
// verify, and roleARNs, and only they, may kms:Sign. Each signer must be an IAM role ARN (no wildcard, no account
// root, no user): a role named in the key policy of a key in its own account needs no IAM grant to sign.
//
// Call it once, after the signers' roles exist (their ARNs are outputs, so the policy waits for them); a second
// call returns an error, since two policies on one key would overwrite each other. Until the policy is attached
// nobody can sign; removing the resource later makes the provider restore KMS's default policy, which delegates
// everything, kms:Sign included, to the account's IAM. A signer ARN that is not a role fails the deployment.
func (c *SigningKey) AllowSigners(ctx *pulumi.Context, roleARNs []pulumi.StringInput, opts ...pulumi.ResourceOption) (*kms.KeyPolicy, error) {
	var errs []error
	if len(roleARNs) == 0 {
		errs = append(errs, errors.New("roleARNs: at least one signer role is required"))
	}
	for i, r := range roleARNs {
		if r == nil {
			errs = append(errs, fmt.Errorf("roleARNs[%d]: nil", i))
		}
	}
	c.mu.Lock()
	if c.policyAttached {
		errs = append(errs, errors.New("the key policy is already attached: pass every signer in one call"))
	}
	if len(errs) == 0 {
		c.policyAttached = true
	}
	c.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("signing key %s: allow signers: %w", c.name, err)
	}

	inputs := make([]any, 0, len(c.readers)+len(roleARNs))
	for _, r := range c.readers {
		inputs = append(inputs, r)
	}
	for _, r := range roleARNs {
		inputs = append(inputs, r)
	}
	readers := len(c.readers)
	policy := pulumi.All(inputs...).ApplyT(func(values []any) (string, error) {
		arns := make([]string, len(values))
		for i, v := range values {
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("signing key %s: policy input %d resolved to %T, want string", c.name, i, v)
			}
			arns[i] = s
		}
		for _, s := range arns[readers:] {
			if !isRoleARN(s) {
				return "", fmt.Errorf("signing key %s: signer %q is not an IAM role ARN", c.name, s)
			}
		}
		return ProtectKey(SigningKeyPolicy(c.partition, c.account, arns[:readers], arns[readers:]), c.breakGlass).JSON()
	}).(pulumi.StringOutput)
	return kms.NewKeyPolicy(ctx, c.name+"-policy", &kms.KeyPolicyArgs{KeyId: c.KeyID, Policy: policy},
		append([]pulumi.ResourceOption{pulumi.Parent(c)}, opts...)...)
}

// isRoleARN tells an IAM role ARN with no wildcard: arn:<partition>:iam::<account>:role/<path and name>.
func isRoleARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] == "iam" && parts[3] == "" &&
		parts[4] != "" && strings.HasPrefix(parts[5], "role/") && len(parts[5]) > len("role/") && !strings.ContainsAny(arn, "*?")
}

// SigningKeyPolicy is the signing key's policy: the account's IAM may administer the key (and neither sign,
// verify nor create grants), readerRoleARNs may read the public key and verify, and signerRoleARNs, named as
// the principal of the one kms:Sign statement, may sign, and read the public key (kms:GetPublicKey, a
// statement of its own). With no signers nobody may sign (the creation policy);
// with no readers the reader statement is left out. In a key policy, Resource "*" means this key.
func SigningKeyPolicy(partition, account string, readerRoleARNs, signerRoleARNs []string) PolicyDocument {
	accountPrincipal := map[string][]string{"AWS": {fmt.Sprintf("arn:%s:iam::%s:root", partition, account)}}
	st := []PolicyStatement{
		{Sid: "AdministerKeyThroughIAM", Effect: "Allow", Principal: accountPrincipal, Action: signingKeyAdminActions, Resource: []string{"*"}},
	}
	if len(signerRoleARNs) > 0 {
		st = append(st, PolicyStatement{
			Sid: "SignOnlyAsTheNamedRoles", Effect: "Allow", Principal: map[string][]string{"AWS": signerRoleARNs},
			Action: []string{"kms:Sign"}, Resource: []string{"*"},
		})
	}
	if len(readerRoleARNs) > 0 {
		st = append(st, PolicyStatement{
			Sid: "ReadPublicKey", Effect: "Allow", Principal: map[string][]string{"AWS": readerRoleARNs},
			Action: signingKeyReaderActions, Resource: []string{"*"},
		})
	}
	if len(signerRoleARNs) > 0 {
		// A signer writes the key's fingerprint into what it signs (a seal certificate, a digest) and checks its
		// first signature against the public key, so a key id naming the wrong key fails at once.
		st = append(st, PolicyStatement{
			Sid: "SignersReadPublicKey", Effect: "Allow", Principal: map[string][]string{"AWS": signerRoleARNs},
			Action: []string{"kms:GetPublicKey"}, Resource: []string{"*"},
		})
	}
	return PolicyDocument{Statement: st}
}

// SignStatement is an IAM statement for a signer's role: kms:Sign on the signing key keyARN, and nothing else.
// The key policy of AllowSigners is what lets a role of the key's own account sign; this statement is needed in
// addition only when the key's policy delegates to IAM (a key of another design) or the key lives in another
// account. On a SigningKey it grants nothing by itself.
func SignStatement(keyARN string) PolicyStatement {
	return PolicyStatement{Sid: "SealAuditRecords", Effect: "Allow", Action: []string{"kms:Sign"}, Resource: []string{keyARN}}
}
