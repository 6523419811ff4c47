// Command sealedroot writes a local audit root of records sealed by the real Sealer, for benchmarks of
// `audit verify` (docs/performance.md): go run ./trail/verify/verifytest/sealedroot -root DIR -records N.
// The issuer is the key file at -key (created when missing), so `audit verify --public-key` can check it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail/verify/verifytest"
)

func main() {
	root := flag.String("root", "", "directory to write the root into (must not hold one)")
	key := flag.String("key", "", "issuer key file (PEM, created when missing)")
	var o verifytest.Options
	flag.IntVar(&o.Records, "records", 1_000_000, "records to seal")
	flag.IntVar(&o.PerObject, "per-object", 1000, "records per object")
	flag.IntVar(&o.Chains, "chains", 20, "chains taking turns")
	flag.IntVar(&o.ContentBytes, "content-bytes", 5000, "bytes of prompt text per record")
	flag.Parse()
	if *root == "" || *key == "" {
		fmt.Fprintln(os.Stderr, "sealedroot: -root and -key are required")
		os.Exit(2)
	}
	if err := run(*root, *key, o); err != nil {
		fmt.Fprintln(os.Stderr, "sealedroot:", err)
		os.Exit(1)
	}
}

func run(root, keyFile string, o verifytest.Options) error {
	k, _, err := seal.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return err
	}
	issuer, err := seal.NewFileSigner(k)
	if err != nil {
		return err
	}
	r, err := verifytest.WriteRoot(root, issuer, o)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d records in %d objects, %d chains\n", root, o.Records, len(r.Objects), len(r.Chains))
	return nil
}
