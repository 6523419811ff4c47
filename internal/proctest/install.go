package proctest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	unlock := LockFile(t, filepath.Join(os.TempDir(), "agent-audit-go-install-"+name+".lock"))
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

// goBinDir asks the go command where `go install` puts executables. It reads `go env -json`, so an empty GOBIN
// stays an empty value instead of a blank line that trimming would drop.
func goBinDir() (string, error) {
	out, err := exec.Command("go", "env", "-json", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	var env struct{ GOBIN, GOPATH string }
	if err := json.Unmarshal(out, &env); err != nil {
		return "", fmt.Errorf("go env -json: %w", err)
	}
	return binDir(env.GOBIN, env.GOPATH)
}

// binDir is the directory `go install` writes to: GOBIN when set, else the bin directory of GOPATH's first entry
// (GOPATH may list several, separated by the OS list separator).
func binDir(gobin, gopath string) (string, error) {
	if gobin != "" {
		return gobin, nil
	}
	for _, dir := range filepath.SplitList(gopath) {
		if dir != "" {
			return filepath.Join(dir, "bin"), nil
		}
	}
	return "", fmt.Errorf("go env: neither GOBIN nor GOPATH is set")
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// LockFile takes an exclusive flock on path (created if missing), blocking until it is free, and returns the
// function that releases it. It excludes other processes and other callers in this process alike (each call
// opens its own file description), which is what an install into a shared directory needs.
func LockFile(t testing.TB, path string) (unlock func()) {
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
