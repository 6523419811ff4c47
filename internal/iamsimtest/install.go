package iamsimtest

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/agent-audit/agent-audit/internal/proctest"
)

// The tool's files travel inside the test binary, so a test in any package (or in a module cache that is read
// only) installs the same pinned engine without knowing where this source tree is.
var (
	//go:embed tool/package.json
	packageJSON []byte
	//go:embed tool/package-lock.json
	packageLock []byte
	//go:embed tool/iamsim.mjs
	script []byte
)

// MinNodeMajor is the oldest Node.js major version the tool runs on (the machine image has Node 20).
const MinNodeMajor = 20

// tool is an installed engine: the node executable and the script beside its node_modules.
type tool struct {
	node, script string
}

var (
	installMu sync.Mutex
	installed *tool // set once the install of this process succeeded
)

// engine returns the installed tool, installing it on the first call of the process. Concurrent callers in
// this process wait on installMu, callers in other processes on a file lock beside the install directory.
func engine(t testing.TB) tool {
	t.Helper()
	installMu.Lock()
	defer installMu.Unlock()
	if installed != nil {
		return *installed
	}
	node, err := findNode()
	if err != nil {
		t.Fatalf("iamsimtest: %v", err)
	}
	dir, err := installDir()
	if err != nil {
		t.Fatalf("iamsimtest: %v", err)
	}
	unlock := proctest.LockFile(t, dir+".lock")
	defer unlock()
	if err := install(t, dir); err != nil {
		t.Fatalf("iamsimtest: install the IAM engine into %s: %v", dir, err)
	}
	path, err := writeScript(dir)
	if err != nil {
		t.Fatalf("iamsimtest: %v", err)
	}
	installed = &tool{node: node, script: path}
	return *installed
}

// findNode returns the node on PATH, or an error that says what to install when there is none or it is older
// than MinNodeMajor.
func findNode() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("node not found on PATH (%w): Node.js %d or newer is needed to run the IAM engine "+
			"@cloud-copilot/iam-simulate (https://nodejs.org/)", err, MinNodeMajor)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", node, err)
	}
	v := strings.TrimSpace(string(out)) // "v20.20.2"
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0])
	if err != nil {
		return "", fmt.Errorf("%s --version printed %q: %w", node, v, err)
	}
	if major < MinNodeMajor {
		return "", fmt.Errorf("%s is Node.js %s: the IAM engine needs Node.js %d or newer", node, v, MinNodeMajor)
	}
	return node, nil
}

// installDir is the directory the pinned packages go to: under the user cache directory (the temporary
// directory when there is none), named by the hash of package.json and the lockfile, so a changed pin installs
// beside the old one instead of over it.
func installDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	h := sha256.New()
	h.Write(packageJSON)
	h.Write([]byte{0})
	h.Write(packageLock)
	dir := filepath.Join(base, "agent-audit", "iamsim-"+hex.EncodeToString(h.Sum(nil))[:16])
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("create the cache directory: %w", err)
	}
	return dir, nil
}

// installedMarker is written after `npm ci` succeeded and never changed after: a directory without it holds no
// complete install, whatever its node_modules contains.
const installedMarker = ".installed"

// install runs `npm ci` in dir unless an earlier install completed there. The caller holds the file lock.
func install(t testing.TB, dir string) error {
	t.Helper()
	marker := filepath.Join(dir, installedMarker)
	if _, err := os.Stat(marker); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check %s: %w", marker, err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm not found on PATH (%w): it installs the pinned packages on first use", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	for name, data := range map[string][]byte{"package.json": packageJSON, "package-lock.json": packageLock} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	t.Logf("iamsimtest: installing @cloud-copilot/iam-simulate and iam-data with `npm ci` into %s", dir)
	// npm ci removes a partial node_modules left by an interrupted install, and installs exactly the lockfile.
	// The packages need no install scripts, so none may run.
	cmd := exec.Command(npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci: %w\n%s", err, out.String())
	}
	t.Logf("iamsimtest: npm ci: %s", strings.TrimSpace(out.String()))
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", marker, err)
	}
	return nil
}

// writeScript puts the embedded script beside dir's node_modules (where Node resolves its imports from), named
// by its own hash so that test binaries built from different revisions never overwrite each other's script.
// The caller holds the file lock.
func writeScript(dir string) (string, error) {
	sum := sha256.Sum256(script)
	path := filepath.Join(dir, "iamsim-"+hex.EncodeToString(sum[:])[:16]+".mjs")
	if existing, err := os.ReadFile(path); err == nil && bytes.Equal(existing, script) {
		return path, nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, script, 0o644); err != nil {
		return "", fmt.Errorf("write the engine script: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write the engine script: %w", err)
	}
	return path, nil
}
