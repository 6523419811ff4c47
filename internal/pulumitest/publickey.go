package pulumitest

import (
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The key spec and usage the mock's GetPublicKey serves: KMS refuses GetPublicKey on a symmetric key, and the
// mock answers only for the one asymmetric kind the project creates.
const (
	mockKeySpec  = "ECC_NIST_P256"
	mockKeyUsage = "SIGN_VERIFY"
)

// keyID is the id the mocks give the aws:kms/key:Key named name; keyARN its ARN.
func keyID(name string) string { return "key-" + name }
func keyARN(name string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", Region, Account, keyID(name))
}

// MockPublicKeyPEM is the PEM (PKIX "PUBLIC KEY") the mocks' GetPublicKey returns for the key whose ARN is
// keyARN: a real P-256 public key, derived from the ARN so that each key has its own and every run the same.
func MockPublicKeyPEM(keyARN string) string {
	der := mockPublicKeyDER(keyARN)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// mockPublicKeyDER derives a P-256 scalar from the ARN (re-hashing in the rare case it falls outside the
// curve's order) and encodes its public point as SubjectPublicKeyInfo, as KMS's GetPublicKey does.
func mockPublicKeyDER(keyARN string) []byte {
	seed := sha256.Sum256([]byte("pulumitest signing key " + keyARN))
	for {
		priv, err := ecdh.P256().NewPrivateKey(seed[:])
		if err == nil {
			der, err := x509.MarshalPKIXPublicKey(priv.PublicKey())
			if err != nil {
				panic(err) // a P-256 ecdh key always encodes
			}
			return der
		}
		seed = sha256.Sum256(seed[:])
	}
}

// getPublicKey answers aws:kms/getPublicKey:getPublicKey like KMS: the key, named by id or ARN, must have been
// registered, and must be an ECC_NIST_P256 SIGN_VERIFY key; anything else fails the call.
func (m *Mocks) getPublicKey(args resource.PropertyMap) (resource.PropertyMap, error) {
	v, ok := args["keyId"]
	if !ok || !v.IsString() {
		return nil, fmt.Errorf("pulumitest: getPublicKey: keyId is required")
	}
	id := v.StringValue()
	for _, r := range m.ByType("aws:kms/key:Key") {
		if id != keyID(r.Name) && id != keyARN(r.Name) {
			continue
		}
		spec, usage := Get(r.Inputs, "customerMasterKeySpec"), Get(r.Inputs, "keyUsage")
		if !spec.IsString() || spec.StringValue() != mockKeySpec || !usage.IsString() || usage.StringValue() != mockKeyUsage {
			return nil, fmt.Errorf("pulumitest: getPublicKey %s: UnsupportedOperationException: the key is not an %s %s key (spec %v, usage %v)",
				id, mockKeySpec, mockKeyUsage, spec, usage)
		}
		arn := keyARN(r.Name)
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": arn, "arn": arn, "keyId": id,
			"customerMasterKeySpec": mockKeySpec, "keyUsage": mockKeyUsage,
			"signingAlgorithms": []any{"ECDSA_SHA_256"},
			"publicKey":         base64.StdEncoding.EncodeToString(mockPublicKeyDER(arn)),
			"publicKeyPem":      MockPublicKeyPEM(arn),
		}), nil
	}
	return nil, fmt.Errorf("pulumitest: getPublicKey %s: NotFoundException: no such key registered (keys are named %s)",
		id, strings.Join(m.keyNames(), ", "))
}

// keyNames lists the registered KMS keys' names, for error messages.
func (m *Mocks) keyNames() []string {
	var names []string
	for _, r := range m.ByType("aws:kms/key:Key") {
		names = append(names, r.Name)
	}
	return names
}
