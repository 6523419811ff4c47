package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify"
	"github.com/agent-audit/agent-audit/trail/verify/verifytest"
)

// Verify a local audit root against the key that certified its records, and read what held.
func ExampleVerify() {
	dir, _ := os.MkdirTemp("", "audit-data-")
	defer os.RemoveAll(dir)
	issuer, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := seal.NewFileSigner(issuer)
	root := filepath.Join(dir, "audit-data")
	if _, err := verifytest.WriteRoot(root, signer, verifytest.Options{Records: 30, PerObject: 10}); err != nil {
		fmt.Println(err)
		return
	}

	rep, err := verify.Verify(context.Background(), trail.NewLocal(root), verify.Options{Keys: []*ecdsa.PublicKey{&issuer.PublicKey}})
	if err != nil {
		fmt.Println("could not check:", err)
		return
	}
	fmt.Println("verified:", rep.Verified, "records:", rep.Records.Valid, "of", rep.Records.Checked)
	fmt.Println("signatures:", rep.Guarantees.Signatures.Status)
	fmt.Println("chains:", rep.Guarantees.Chains.Status)
	fmt.Println("completeness:", rep.Guarantees.Completeness.Status)
	fmt.Println("retention:", rep.Guarantees.Retention.Status)
	// Output:
	// verified: true records: 30 of 30
	// signatures: held
	// chains: held
	// completeness: held
	// retention: not checked
}
