package seal

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Signer signs SHA-256 digests with an ECDSA P-256 key and names that key. Implementations are safe for
// concurrent use.
type Signer interface {
	// KeyID names the key in every record it signs.
	KeyID() string
	// Sign returns the ASN.1 DER ECDSA signature of digest.
	Sign(ctx context.Context, digest []byte) ([]byte, error)
}

// KMSAPI is the part of the KMS client KMSSigner uses.
type KMSAPI interface {
	Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error)
}

// KMSSigner signs with an asymmetric KMS key (key spec ECC_NIST_P256, usage SIGN_VERIFY). Only the digest
// leaves the process; the private key never leaves KMS.
type KMSSigner struct {
	client KMSAPI
	keyID  string
}

var _ Signer = (*KMSSigner)(nil)

// NewKMSSigner returns a signer using keyID (preferably the key's ARN: it is what records name).
func NewKMSSigner(client KMSAPI, keyID string) *KMSSigner {
	return &KMSSigner{client: client, keyID: keyID}
}

// KeyID implements Signer.
func (s *KMSSigner) KeyID() string { return s.keyID }

// Sign implements Signer with kms:Sign, MessageType DIGEST, ECDSA_SHA_256.
func (s *KMSSigner) Sign(ctx context.Context, digest []byte) ([]byte, error) {
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(s.keyID),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, fmt.Errorf("kms Sign with %s: %w", s.keyID, err)
	}
	if len(out.Signature) == 0 {
		return nil, fmt.Errorf("kms Sign with %s: empty signature", s.keyID)
	}
	return out.Signature, nil
}
