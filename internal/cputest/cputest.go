// Package cputest limits a process to a share of one CPU, as Lambda does by memory size, for measurements: Lambda
// gives a function CPU in proportion to its memory, one vCPU at 1,769 MB, through a CFS quota. Limit puts a
// process (all its threads) into a new cgroup with that quota: cgroup v2's cpu.max, or v1's cpu.cfs_quota_us and
// cpu.cfs_period_us, whichever the machine mounts writable. It needs root (or a delegated cgroup).
package cputest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LambdaFullCPUMemoryMB is the memory size at which Lambda gives a function one full vCPU.
const LambdaFullCPUMemoryMB = 1769

// period is the CFS period of the quota, the kernel's default (100 ms).
const period = 100 * time.Millisecond

// ShareOfMemory is the CPU share Lambda gives a function of memoryMB (1.0 is one vCPU).
func ShareOfMemory(memoryMB int) float64 { return float64(memoryMB) / LambdaFullCPUMemoryMB }

// Limit moves process pid into a new cgroup that may use share of one CPU per period, and removes the cgroup when
// the test ends (after the process is gone or moved back). It fails the test when no cgroup can be made.
func Limit(t testing.TB, pid int, share float64) {
	t.Helper()
	if err := system.limit(t, pid, share); err != nil {
		t.Fatalf("cputest: %v", err)
	}
}

// hierarchy is where cgroups are made: the candidate cgroup v2 roots (the first holding cgroup.controllers is
// used) and the cgroup v1 cpu controller's root.
type hierarchy struct {
	v2Roots []string
	v1Root  string
}

// system is the machine's cgroup file system (v2 unified, or v1 with the hybrid layout's unified tree beside it).
var system = hierarchy{v2Roots: []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}, v1Root: "/sys/fs/cgroup/cpu"}

func (h hierarchy) limit(t testing.TB, pid int, share float64) error {
	if share <= 0 || share > 1 {
		return fmt.Errorf("share %v is outside (0, 1]", share)
	}
	quota := time.Duration(share * float64(period))
	name := fmt.Sprintf("cputest-%d-%d", os.Getpid(), time.Now().UnixNano())
	var errs []error
	for _, try := range []func(string, int, time.Duration) (string, error){h.limitV2, h.limitV1} {
		dir, err := try(name, pid, quota)
		if err == nil {
			t.Cleanup(func() { release(dir) })
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("cannot limit process %d to %.1f%% of a CPU: %w", pid, 100*share, errors.Join(errs...))
}

func (h hierarchy) limitV2(name string, pid int, quota time.Duration) (string, error) {
	root := ""
	for _, r := range h.v2Roots {
		if _, err := os.Stat(filepath.Join(r, "cgroup.controllers")); err == nil {
			root = r
			break
		}
	}
	if root == "" {
		return "", errors.New("cgroup v2: no hierarchy mounted")
	}
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("cgroup v2: %w", err)
	}
	value := fmt.Sprintf("%d %d", quota.Microseconds(), period.Microseconds())
	if err := os.WriteFile(filepath.Join(dir, "cpu.max"), []byte(value), 0o644); err != nil {
		_ = os.Remove(dir)
		return "", fmt.Errorf("cgroup v2 cpu.max (is the cpu controller enabled?): %w", err)
	}
	return dir, move(dir, pid)
}

func (h hierarchy) limitV1(name string, pid int, quota time.Duration) (string, error) {
	dir := filepath.Join(h.v1Root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("cgroup v1: %w", err)
	}
	for _, f := range []struct {
		file  string
		value int64
	}{{"cpu.cfs_period_us", period.Microseconds()}, {"cpu.cfs_quota_us", quota.Microseconds()}} {
		if err := os.WriteFile(filepath.Join(dir, f.file), []byte(strconv.FormatInt(f.value, 10)), 0o644); err != nil {
			_ = os.Remove(dir)
			return "", fmt.Errorf("cgroup v1 %s: %w", f.file, err)
		}
	}
	return dir, move(dir, pid)
}

func move(dir string, pid int) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		_ = os.Remove(dir)
		return fmt.Errorf("move process %d into %s: %w", pid, dir, err)
	}
	return nil
}

// release moves what is left in the cgroup back to its parent and removes it.
func release(dir string) {
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
		for _, pid := range strings.Fields(string(b)) { // the kernel takes one process per write
			_ = os.WriteFile(filepath.Join(filepath.Dir(dir), "cgroup.procs"), []byte(pid), 0o644)
		}
	}
	for i := 0; i < 50; i++ { // a cgroup is busy until the kernel has moved its last process out
		if err := os.Remove(dir); err == nil || !errors.Is(err, syscall.EBUSY) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
