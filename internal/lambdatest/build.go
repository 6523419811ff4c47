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
//
// The linker's output is copied into the file returned, as Lambda writes a function's bootstrap when it unpacks
// the deployment package: the linker writes its output through a memory mapping, and on this machine an
// executable written that way started 30–50 % slower under the emulator than a byte-for-byte copy of it (same
// content, same directory; see TestColdStartAgainstHelloWorld), which would skew every cold-start figure.
func BuildPackageFor(t testing.TB, pkg, goos, goarch string) string {
	t.Helper()
	root := moduleRoot(t)
	dir := t.TempDir()
	linked, out := filepath.Join(dir, "bootstrap.linked"), filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", linked, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	b, err := os.ReadFile(linked)
	if err == nil {
		err = os.WriteFile(out, b, 0o755)
	}
	if err == nil {
		err = os.Remove(linked)
	}
	if err != nil {
		t.Fatalf("build %s: copy the linker's output: %v", pkg, err)
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
