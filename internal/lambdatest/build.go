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
// what ships; the result runs only where goos/goarch does. The linker's output is handed to Unpack, and the copy
// is what it returns.
func BuildPackageFor(t testing.TB, pkg, goos, goarch string) string {
	t.Helper()
	root := moduleRoot(t)
	linked := filepath.Join(t.TempDir(), "bootstrap.linked")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", linked, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return Unpack(t, linked)
}

// Unpack writes the executable at path, whole, with one write, into a file named bootstrap in a new temporary
// directory, as Lambda writes a function's bootstrap when it unpacks the deployment package, and returns the
// copy's path. How a file was written changes how fast it starts on this machine: under the emulator, a bootstrap
// written by the linker (through a memory mapping) or by cp (copy_file_range) started 40–50 % slower than the
// same bytes written this way (TestColdStartAgainstHelloWorld, -coldstart-compare), which would skew every
// comparison of cold starts. Every bootstrap this package builds, and every one the cold-start benchmark
// compares, goes through here.
func Unpack(t testing.TB, path string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	b, err := os.ReadFile(path)
	if err == nil {
		err = os.WriteFile(out, b, 0o755)
	}
	if err != nil {
		t.Fatalf("lambdatest: unpack %s: %v", path, err)
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
