package pulumitest

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// AwaitString blocks until o resolves and returns its value, failing t if it resolves to an error, stays
// unknown or is not a string. Call it after Run has returned (every output is resolved by then) or from inside
// the program.
func AwaitString(t testing.TB, o pulumi.StringOutput) string {
	t.Helper()
	v, _ := await(t, o)
	s, ok := v.(string)
	if !ok {
		t.Fatalf("output resolved to %T, want string", v)
	}
	return s
}

// AwaitSecret is AwaitString that also reports whether the output is marked secret.
func AwaitSecret(t testing.TB, o pulumi.StringOutput) (value string, secret bool) {
	t.Helper()
	v, secret := await(t, o)
	s, ok := v.(string)
	if !ok {
		t.Fatalf("output resolved to %T, want string", v)
	}
	return s, secret
}

// await uses the SDK's own low-level await: the public API offers only ApplyT, which would need a channel and
// a goroutine per read.
func await(t testing.TB, o pulumi.Output) (any, bool) {
	t.Helper()
	r, err := internals.UnsafeAwaitOutput(context.Background(), o)
	if err != nil {
		t.Fatalf("output failed: %v", err)
	}
	if !r.Known {
		t.Fatal("output is unknown")
	}
	return r.Value, r.Secret
}

// AwaitStrings is AwaitString for a string array output.
func AwaitStrings(t testing.TB, o pulumi.StringArrayOutput) []string {
	t.Helper()
	v, _ := await(t, o)
	s, ok := v.([]string)
	if !ok {
		t.Fatalf("output resolved to %T, want []string", v)
	}
	return s
}
