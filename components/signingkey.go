package components

import (
	"errors"
	"fmt"

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
// schedule its deletion. Deliberately absent: kms:Sign (its own statement), kms:Verify, and kms:CreateGrant,
// since a grant could confer kms:Sign outside both the key policy and IAM.
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
	// key is an output, and verification needs nothing else.
	ReaderRoleARNs []pulumi.StringInput
	// DeletionWindowDays is the key's waiting period before deletion, in days (7–30; default 30).
	DeletionWindowDays int
}

// SigningKey is the asymmetric KMS key that seals the audit records: an ECC_NIST_P256 SIGN_VERIFY key whose
// private half never leaves KMS, an alias alias/<component name>, and the public key as PEM.
//
// Who may sign. The key policy needs the signer's role ARN and the signer's role policy needs the key's ARN,
// and the function's role is created inside AgentFunction, which itself needs the key. The key therefore comes
// first and its policy delegates kms:Sign to IAM in the account (a statement for the account principal and
// kms:Sign only): a principal signs only if an IAM policy grants it kms:Sign on this key, and the stack's IAM
// walk proves that the function's role policy is the one that does. The account's IAM may otherwise only look
// at and administer the key (no kms:Verify, no kms:CreateGrant, no kms:*), so a grant cannot confer kms:Sign
// either. An administrator who wants to sign must first change the key policy, which CloudTrail records.
// Automatic rotation does not exist for asymmetric keys: a new key is a new public key for verifiers.
type SigningKey struct {
	pulumi.ResourceState

	// KeyARN and KeyID identify the key; AliasName is alias/<component name>.
	KeyARN    pulumi.StringOutput
	KeyID     pulumi.StringOutput
	AliasName pulumi.StringOutput
	// PublicKeyPEM is the public key as PEM (PKIX "PUBLIC KEY"), read from KMS by the provider's GetPublicKey:
	// what `audit verify --public-key` checks records against.
	PublicKeyPEM pulumi.StringOutput
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

	policy := PolicyJSON(func(readers []string) PolicyDocument {
		return SigningKeyPolicy(partition, account, readers)
	}, cfg.ReaderRoleARNs...)
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:           pulumi.Sprintf("Signs the %s audit records (ECDSA P-256); kms:Sign only through IAM.", name),
		CustomerMasterKeySpec: pulumi.String(SigningKeySpec),
		KeyUsage:              pulumi.String(SigningKeyUsage),
		DeletionWindowInDays:  pulumi.Int(cfg.DeletionWindowDays),
		Policy:                policy,
	}, parent)
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
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"keyArn": c.KeyARN, "keyId": c.KeyID, "aliasName": c.AliasName, "publicKeyPem": c.PublicKeyPEM,
	})
}

// SigningKeyPolicy is the signing key's policy: the account's IAM may administer the key and grant kms:Sign on
// it (and nothing else), and readerRoleARNs may read the public key and verify. In a key policy, Resource "*"
// means this key.
func SigningKeyPolicy(partition, account string, readerRoleARNs []string) PolicyDocument {
	accountPrincipal := map[string][]string{"AWS": {fmt.Sprintf("arn:%s:iam::%s:root", partition, account)}}
	st := []PolicyStatement{
		{Sid: "AdministerKeyThroughIAM", Effect: "Allow", Principal: accountPrincipal, Action: signingKeyAdminActions, Resource: []string{"*"}},
		{Sid: "SignOnlyThroughIAM", Effect: "Allow", Principal: accountPrincipal, Action: []string{"kms:Sign"}, Resource: []string{"*"}},
	}
	if len(readerRoleARNs) > 0 {
		st = append(st, PolicyStatement{
			Sid: "ReadPublicKey", Effect: "Allow", Principal: map[string][]string{"AWS": readerRoleARNs},
			Action: signingKeyReaderActions, Resource: []string{"*"},
		})
	}
	return PolicyDocument{Statement: st}
}

// SignStatement grants a signer kms:Sign on the signing key keyARN, and nothing else; it is the one IAM
// statement through which the key's policy lets anyone sign.
func SignStatement(keyARN string) PolicyStatement {
	return PolicyStatement{Sid: "SealAuditRecords", Effect: "Allow", Action: []string{"kms:Sign"}, Resource: []string{keyARN}}
}
