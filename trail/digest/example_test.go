package digest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
)

// A local root's digest is written after its writers finish, and Check then proves the root complete.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "digest-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	root := trail.NewLocal(dir)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := seal.NewFileSigner(key)

	// A run wrote one record object.
	object := "traces/" + time.Now().UTC().Format("year=2006/month=01/day=02/hour=15") + "/run.gz"
	if _, err := root.Put(ctx, object, []byte("records")); err != nil {
		panic(err)
	}
	w := digest.NewWriter(root, signer, &key.PublicKey, digest.WithLogger(slog.New(slog.DiscardHandler)))
	if _, err := w.WriteNow(ctx, time.Now()); err != nil {
		panic(err)
	}

	fp, _ := seal.Fingerprint(&key.PublicKey)
	keys := map[string]*ecdsa.PublicKey{fp: &key.PublicKey}
	sum, findings, err := digest.Check(ctx, root, keys, digest.CheckOptions{})
	fmt.Println(sum.Digests, "digest,", sum.ObjectsListed, "object listed,", len(findings), "findings", err)

	// Removing the object afterwards is named.
	os.Remove(dir + "/" + object)
	_, findings, _ = digest.Check(ctx, root, keys, digest.CheckOptions{})
	fmt.Println(findings[0].Kind, findings[0].Key == object)
	// Output:
	// 1 digest, 1 object listed, 0 findings <nil>
	// listed-version-gone true
}
