package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// GoTool returns the path of the executable name: on PATH, else in the Go bin directory (GOBIN, or GOPATH/bin),
// else installed there with `go install module` (module@version, pinned by the caller). Concurrent callers, in
// this process or others (.ci/run takes the same lock), wait on a file lock so one install runs at a time; the
// install's output goes to the test log. Hand-written because the tools are test dependencies installed on
// demand, not modules of this repository.
func GoTool(t testing.TB, name, module string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	bin, err := goBinDir()
	if err != nil {
		t.Fatalf("%s: locate the Go bin directory: %v", name, err)
	}
	target := filepath.Join(bin, name)
	if isExecutable(target) {
		return target
	}
	unlock := lockFile(t, filepath.Join(os.TempDir(), "agent-audit-go-install-"+name+".lock"))
	defer unlock()
	if isExecutable(target) { // another process installed it while we waited
		return target
	}
	t.Logf("%s not found on PATH or in %s: installing it with `go install %s` (minutes when cold)", name, bin, module)
	cmd := exec.Command("go", "install", module)
	cmd.Dir = os.TempDir() // outside any module: the tool's own go.mod decides its dependencies
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go install %s: %v\n%s", module, err, out)
	}
	if !isExecutable(target) {
		t.Fatalf("go install %s succeeded but %s is missing", module, target)
	}
	t.Logf("installed %s", target)
	return target
}

func goBinDir() (string, error) {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
		return strings.TrimSpace(lines[0]), nil
	}
	if len(lines) < 2 || strings.TrimSpace(lines[1]) == "" {
		return "", fmt.Errorf("go env: neither GOBIN nor GOPATH set")
	}
	// GOPATH may list several directories; go install uses the first.
	return filepath.Join(filepath.SplitList(strings.TrimSpace(lines[1]))[0], "bin"), nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// lockFile takes an exclusive flock on path, blocking until it is free.
func lockFile(t testing.TB, path string) (unlock func()) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("install lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("install lock %s: %v", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}
