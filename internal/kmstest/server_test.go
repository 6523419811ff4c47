package kmstest

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestSignReturnsADERSignatureOfTheDigestUnderThePublicKey(t *testing.T) {
	srv := New(t)
	c := srv.Client()
	digest := sha256.Sum256([]byte(`{"resourceSpans":[]}` + "\n"))
	for _, id := range []string{srv.KeyID, srv.KeyARN, Alias, "arn:aws:kms:eu-west-1:123456789012:" + Alias} {
		out, err := c.Sign(context.Background(), &kms.SignInput{
			KeyId: aws.String(id), Message: digest[:], MessageType: types.MessageTypeDigest,
			SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
		})
		if err != nil {
			t.Fatalf("Sign with %s: %v", id, err)
		}
		if aws.ToString(out.KeyId) != srv.KeyARN || out.SigningAlgorithm != types.SigningAlgorithmSpecEcdsaSha256 {
			t.Fatalf("Sign with %s answered key %q algorithm %q", id, aws.ToString(out.KeyId), out.SigningAlgorithm)
		}
		if !ecdsa.VerifyASN1(srv.PublicKey(), digest[:], out.Signature) {
			t.Fatalf("Sign with %s: signature does not verify as ASN.1 DER under the public key", id)
		}
	}
	if n := srv.Calls("Sign"); n != 4 {
		t.Fatalf("%d Sign calls counted, want 4", n)
	}
}

func TestRawMessagesAreHashedBeforeSigning(t *testing.T) {
	srv := New(t)
	msg := []byte("a record line\n")
	out, err := srv.Client().Sign(context.Background(), &kms.SignInput{
		KeyId: aws.String(srv.KeyARN), Message: msg, MessageType: types.MessageTypeRaw,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(srv.PublicKey(), sum[:], out.Signature) {
		t.Fatal("RAW signature is not over SHA-256 of the message")
	}
}

func TestGetPublicKeyReturnsTheSPKIDEROfTheSigningKey(t *testing.T) {
	srv := New(t)
	out, err := srv.Client().GetPublicKey(context.Background(), &kms.GetPublicKeyInput{KeyId: aws.String(srv.KeyID)})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		t.Fatalf("public key is not SPKI DER: %v", err)
	}
	if ec, ok := pub.(*ecdsa.PublicKey); !ok || !ec.Equal(srv.PublicKey()) {
		t.Fatalf("GetPublicKey returned %T, not the signing key", pub)
	}
	if out.KeySpec != types.KeySpecEccNistP256 || out.KeyUsage != types.KeyUsageTypeSignVerify ||
		len(out.SigningAlgorithms) != 1 || out.SigningAlgorithms[0] != types.SigningAlgorithmSpecEcdsaSha256 {
		t.Fatalf("key spec %q usage %q algorithms %v", out.KeySpec, out.KeyUsage, out.SigningAlgorithms)
	}
	block, _ := pem.Decode([]byte(srv.PublicKeyPEM()))
	if block == nil || block.Type != "PUBLIC KEY" || string(block.Bytes) != string(out.PublicKey) {
		t.Fatal("PublicKeyPEM is not the PEM of GetPublicKey's DER")
	}
}

func TestVerifyAcceptsItsOwnSignaturesAndRefusesOthers(t *testing.T) {
	srv := New(t)
	c := srv.Client()
	ctx := context.Background()
	d := sha256.Sum256([]byte("x"))
	signed, err := c.Sign(ctx, &kms.SignInput{KeyId: aws.String(Alias), Message: d[:], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := c.Verify(ctx, &kms.VerifyInput{KeyId: aws.String(Alias), Message: d[:], MessageType: types.MessageTypeDigest, Signature: signed.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	if err != nil || !ok.SignatureValid {
		t.Fatalf("Verify of its own signature: %v %+v", err, ok)
	}
	other := sha256.Sum256([]byte("y"))
	_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: aws.String(Alias), Message: other[:], MessageType: types.MessageTypeDigest, Signature: signed.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	var invalid *types.KMSInvalidSignatureException
	if !errors.As(err, &invalid) {
		t.Fatalf("Verify of another digest: %v, want KMSInvalidSignatureException", err)
	}
}

func TestRequestsKMSWouldRefuseAreRefusedWithItsErrors(t *testing.T) {
	srv := New(t)
	c := srv.Client()
	good := sha256.Sum256([]byte("x"))
	sign := func(keyID string, msg []byte, mt types.MessageType, alg types.SigningAlgorithmSpec, dryRun bool) error {
		_, err := c.Sign(context.Background(), &kms.SignInput{KeyId: aws.String(keyID), Message: msg, MessageType: mt, SigningAlgorithm: alg, DryRun: aws.Bool(dryRun)})
		return err
	}
	cases := []struct {
		name string
		err  error
		want any
	}{
		{"an unknown key id is not found", sign("arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-4000-8000-000000000000", good[:], types.MessageTypeDigest, types.SigningAlgorithmSpecEcdsaSha256, false), new(*types.NotFoundException)},
		{"an unknown alias is not found", sign("alias/nope", good[:], types.MessageTypeDigest, types.SigningAlgorithmSpecEcdsaSha256, false), new(*types.NotFoundException)},
		{"a digest of the wrong length is invalid", sign(srv.KeyARN, good[:20], types.MessageTypeDigest, types.SigningAlgorithmSpecEcdsaSha256, false), "ValidationException"},
		{"a message over 4096 bytes is invalid", sign(srv.KeyARN, make([]byte, 4097), types.MessageTypeRaw, types.SigningAlgorithmSpecEcdsaSha256, false), "ValidationException"},
		{"an RSA algorithm does not fit an ECC key", sign(srv.KeyARN, good[:], types.MessageTypeDigest, types.SigningAlgorithmSpecRsassaPssSha256, false), new(*types.InvalidKeyUsageException)},
		{"an unknown algorithm fails validation", sign(srv.KeyARN, good[:], types.MessageTypeDigest, "ECDSA_SHA_1", false), "ValidationException"},
		{"a dry run says it would have succeeded", sign(srv.KeyARN, good[:], types.MessageTypeDigest, types.SigningAlgorithmSpecEcdsaSha256, true), new(*types.DryRunOperationException)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkError(t, tc.err, tc.want)
		})
	}
}

func TestInjectedFaultsAndADisabledKeyFailSigning(t *testing.T) {
	srv := New(t)
	c := srv.Client()
	d := sha256.Sum256([]byte("x"))
	sign := func() error {
		_, err := c.Sign(context.Background(), &kms.SignInput{KeyId: aws.String(srv.KeyARN), Message: d[:], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
		return err
	}
	srv.FailNext("ThrottlingException", "KMSInternalException")
	checkError(t, sign(), "ThrottlingException")
	checkError(t, sign(), new(*types.KMSInternalException))
	if err := sign(); err != nil {
		t.Fatalf("after the injected faults: %v", err)
	}
	srv.Disable()
	checkError(t, sign(), new(*types.DisabledException))
}

// checkError asserts err is of the modeled type *want points to, or carries the error code want names.
func checkError(t *testing.T, err error, want any) {
	t.Helper()
	switch w := want.(type) {
	case string:
		var ae interface{ ErrorCode() string }
		if !errors.As(err, &ae) || ae.ErrorCode() != w {
			t.Fatalf("error %v, want code %s", err, w)
		}
	default:
		if !errors.As(err, want) {
			t.Fatalf("error %v, want %T", err, want)
		}
	}
}
