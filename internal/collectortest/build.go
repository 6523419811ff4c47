package collectortest

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/internal/proctest"
)

// BuilderModule is the Collector Builder that builds the test Collector, pinned.
const BuilderModule = "go.opentelemetry.io/collector/cmd/builder@v0.159.0"

// The manifest travels inside the test binary, so a test in any package builds the same Collector.
//
//go:embed manifest.yaml
var manifest []byte

// distName is the executable the manifest's dist.name makes.
const distName = "otelcol-audittest"

var (
	buildMu sync.Mutex
	built   string // the binary, once this process found or built it
)

// Binary returns the test Collector's executable, building it on the first call when the cache holds none.
// Concurrent callers in this process wait on a mutex, callers in other processes on a file lock beside the
// cache directory. A failed build fails t with the builder's output.
func Binary(t testing.TB) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if built != "" {
		return built
	}
	dir, err := cacheDir()
	if err != nil {
		t.Fatalf("collectortest: %v", err)
	}
	bin := filepath.Join(dir, distName)
	unlock := proctest.LockFile(t, dir+".lock")
	defer unlock()
	if !isExecutable(bin) {
		if err := build(t, dir); err != nil {
			t.Fatalf("collectortest: build the Collector into %s: %v", dir, err)
		}
	}
	built = bin
	return built
}

// cacheDir is where the built Collector lives: under the user cache directory (the temporary directory when
// there is none), named by the hash of the builder's pin and the manifest, so a changed pin builds beside the
// old one instead of over it.
func cacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	h := sha256.New()
	h.Write([]byte(BuilderModule))
	h.Write([]byte{0})
	h.Write(manifest)
	dir := filepath.Join(base, "agent-audit", "otelcol-"+hex.EncodeToString(h.Sum(nil))[:16])
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("create the cache directory: %w", err)
	}
	return dir, nil
}

// build installs the pinned builder into dir/tools and builds the Collector into a fresh directory beside dir,
// renamed into place once complete, so dir never holds a half-built Collector.
func build(t testing.TB, dir string) error {
	start := time.Now()
	work, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	tools := filepath.Join(work, "tools")
	t.Logf("collectortest: no Collector in %s: installing %s and building it (a minute or two when cold)", dir, BuilderModule)
	install := exec.Command("go", "install", BuilderModule)
	install.Dir = work // outside any module: the builder's own go.mod decides its dependencies
	install.Env = append(os.Environ(), "GOBIN="+tools, "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("go install %s: %w\n%s", BuilderModule, err, out)
	}
	config := strings.Replace(string(manifest), "dist:\n", "dist:\n  output_path: "+filepath.Join(work, "dist")+"\n", 1)
	cfgPath := filepath.Join(work, "manifest.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(tools, "builder"), "--config", cfgPath)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("builder --config %s: %w\n%s", cfgPath, err, out)
	}
	out := filepath.Join(work, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(work, "dist", distName), filepath.Join(out, distName)); err != nil {
		return fmt.Errorf("the builder wrote no %s: %w", distName, err)
	}
	_ = os.RemoveAll(dir) // what a build interrupted before this rename left: never a complete Collector
	if err := os.Rename(out, dir); err != nil {
		return fmt.Errorf("move the built Collector into place: %w", err)
	}
	t.Logf("collectortest: built %s in %s", filepath.Join(dir, distName), time.Since(start).Round(time.Second))
	return nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
