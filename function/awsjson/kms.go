package awsjson

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// kmsService is AWS KMS as its SDK client names it.
var kmsService = Service{SDKID: "KMS", SigningName: "kms", TargetPrefix: "TrentService", KeepMessages: true}

// KMS makes the two KMS calls of a seal: kms:Sign of a digest and kms:GetPublicKey. It implements seal.KMSAPI and
// is safe for concurrent use.
type KMS struct{ c *Client }

// NewKMS returns a KMS client for cfg (endpoint, retries and HTTP client as New says).
func NewKMS(cfg aws.Config, httpClient aws.HTTPClient) *KMS {
	return &KMS{c: New(cfg, kmsService, httpClient)}
}

// Endpoint is the URL the client sends its calls to.
func (k *KMS) Endpoint() string { return k.c.Endpoint() }

// SignDigest is kms:Sign of a SHA-256 digest (MessageType DIGEST, ECDSA_SHA_256) with keyID: the ASN.1 DER
// signature. An empty signature is an error.
func (k *KMS) SignDigest(ctx context.Context, keyID string, digest []byte) ([]byte, error) {
	in := struct {
		KeyID            string `json:"KeyId"`
		Message          []byte
		MessageType      string
		SigningAlgorithm string
	}{keyID, digest, "DIGEST", "ECDSA_SHA_256"}
	var out struct{ Signature []byte }
	if err := k.c.Call(ctx, "Sign", in, &out); err != nil {
		return nil, err
	}
	if len(out.Signature) == 0 {
		return nil, errors.New("empty signature")
	}
	return out.Signature, nil
}

// GetPublicKey is kms:GetPublicKey of keyID: its DER SubjectPublicKeyInfo.
func (k *KMS) GetPublicKey(ctx context.Context, keyID string) ([]byte, error) {
	in := struct {
		KeyID string `json:"KeyId"`
	}{keyID}
	var out struct{ PublicKey []byte }
	if err := k.c.Call(ctx, "GetPublicKey", in, &out); err != nil {
		return nil, err
	}
	return out.PublicKey, nil
}
