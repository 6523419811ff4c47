package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// getPublicKeyAPI is the part of the KMS client publicKey uses.
type getPublicKeyAPI interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

// publicKey reads the digest key's public half with kms:GetPublicKey (which the key policy grants its signer)
// and requires an ECDSA P-256 key, the only kind a digest names.
func publicKey(ctx context.Context, client getPublicKeyAPI, keyID string) (*ecdsa.PublicKey, error) {
	out, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, fmt.Errorf("kms GetPublicKey of %s: %w", keyID, err)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("kms GetPublicKey of %s: %w", keyID, err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("kms GetPublicKey of %s: a %T, want an ECDSA P-256 key", keyID, pub)
	}
	return ec, nil
}
