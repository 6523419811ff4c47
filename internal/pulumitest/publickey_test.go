package pulumitest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestGetPublicKeyServesARealP256KeyPerSigningKey(t *testing.T) {
	m := &Mocks{}
	var pems []pulumi.StringOutput
	var arns []pulumi.StringOutput
	err := Run(m, func(ctx *pulumi.Context) error {
		for _, name := range []string{"signer-a", "signer-b"} {
			k, err := kms.NewKey(ctx, name, &kms.KeyArgs{CustomerMasterKeySpec: pulumi.String("ECC_NIST_P256"), KeyUsage: pulumi.String("SIGN_VERIFY")})
			if err != nil {
				return err
			}
			pub := kms.GetPublicKeyOutput(ctx, kms.GetPublicKeyOutputArgs{KeyId: k.Arn})
			pems, arns = append(pems, pub.PublicKeyPem()), append(arns, pub.Arn())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, o := range pems {
		text := AwaitString(t, o)
		arn := AwaitString(t, arns[i])
		if text != MockPublicKeyPEM(arn) || arn != keyARN([]string{"signer-a", "signer-b"}[i]) {
			t.Errorf("key %d: PEM and ARN %q are not the mock's for that key", i, arn)
		}
		block, rest := pem.Decode([]byte(text))
		if block == nil || block.Type != "PUBLIC KEY" || len(strings.TrimSpace(string(rest))) != 0 {
			t.Fatalf("key %d: not one PEM public key: %q", i, text)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if ec, ok := pub.(*ecdsa.PublicKey); !ok || ec.Curve != elliptic.P256() {
			t.Errorf("key %d: %T, want an ECDSA P-256 key", i, pub)
		}
		if seen[text] {
			t.Errorf("key %d: two keys share a public key", i)
		}
		seen[text] = true
	}
}

func TestGetPublicKeyRefusesWhatKMSRefuses(t *testing.T) {
	tests := []struct {
		name string
		args *kms.KeyArgs
		id   func(k *kms.Key) pulumi.StringInput
		want string
	}{
		{"a symmetric key has no public key", &kms.KeyArgs{}, func(k *kms.Key) pulumi.StringInput { return k.Arn }, "UnsupportedOperationException"},
		{"an RSA key is not the kind the mock serves", &kms.KeyArgs{CustomerMasterKeySpec: pulumi.String("RSA_2048"), KeyUsage: pulumi.String("SIGN_VERIFY")},
			func(k *kms.Key) pulumi.StringInput { return k.Arn }, "UnsupportedOperationException"},
		{"a key that was never created is not found", &kms.KeyArgs{},
			func(*kms.Key) pulumi.StringInput { return pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/nope") }, "NotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(&Mocks{}, func(ctx *pulumi.Context) error {
				k, err := kms.NewKey(ctx, "k", tt.args)
				if err != nil {
					return err
				}
				// Exported, as a component exports it: an invoke output's failure fails the run when it is used.
				ctx.Export("pem", kms.GetPublicKeyOutput(ctx, kms.GetPublicKeyOutputArgs{KeyId: tt.id(k)}).PublicKeyPem())
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}
