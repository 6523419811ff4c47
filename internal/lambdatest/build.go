package lambdatest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Build compiles the function (./function of this module) as it ships — CGO_ENABLED=0, -tags lambda.norpc,
// -trimpath, -ldflags "-s -w" — but for the host's OS and architecture, into a file named bootstrap in a
// temporary directory, and returns its path. The Go build cache makes repeated builds a link step.
func Build(t testing.TB) string {
	t.Helper()
	return BuildPackage(t, "./function")
}

// BuildPackage is Build for another main package of this module (such as "./digester"), relative to its root.
func BuildPackage(t testing.TB, pkg string) string {
	t.Helper()
	return BuildPackageFor(t, pkg, runtime.GOOS, runtime.GOARCH)
}

// BuildPackageFor is BuildPackage for another platform, such as linux/arm64 (what the stack deploys), to measure
// what ships; the result runs only where goos/goarch does.
func BuildPackageFor(t testing.TB, pkg, goos, goarch string) string {
	t.Helper()
	root := moduleRoot(t)
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// moduleRoot is the directory of this module's go.mod, found from the test's working directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	b, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(b))
	if err != nil || gomod == "" || gomod == os.DevNull {
		t.Fatalf("lambdatest: not inside the module (go env GOMOD = %q): %v", gomod, err)
	}
	return filepath.Dir(gomod)
}
