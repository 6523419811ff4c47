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
	if share <= 0 || share > 1 {
		t.Fatalf("cputest: share %v is outside (0, 1]", share)
	}
	quota := time.Duration(share * float64(period))
	name := fmt.Sprintf("cputest-%d-%d", os.Getpid(), time.Now().UnixNano())
	var errs []error
	for _, try := range []func(string, int, time.Duration) (string, error){limitV2, limitV1} {
		dir, err := try(name, pid, quota)
		if err == nil {
			t.Cleanup(func() { release(dir) })
			return
		}
		errs = append(errs, err)
	}
	t.Fatalf("cputest: cannot limit process %d to %.1f%% of a CPU: %v", pid, 100*share, errors.Join(errs...))
}

func limitV2(name string, pid int, quota time.Duration) (string, error) {
	root := "/sys/fs/cgroup"
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
		root = "/sys/fs/cgroup/unified"
	}
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("cgroup v2: %w", err)
	}
	value := fmt.Sprintf("%d %d", quota.Microseconds(), period.Microseconds())
	if err := os.WriteFile(filepath.Join(dir, "cpu.max"), []byte(value), 0o644); err != nil {
		_ = os.Remove(dir)
		return "", fmt.Errorf("cgroup v2 cpu.max: %w", err)
	}
	return dir, move(dir, pid)
}

func limitV1(name string, pid int, quota time.Duration) (string, error) {
	dir := filepath.Join("/sys/fs/cgroup/cpu", name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("cgroup v1: %w", err)
	}
	for file, v := range map[string]int64{"cpu.cfs_period_us": period.Microseconds(), "cpu.cfs_quota_us": quota.Microseconds()} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.FormatInt(v, 10)), 0o644); err != nil {
			_ = os.Remove(dir)
			return "", fmt.Errorf("cgroup v1 %s: %w", file, err)
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
	for i := 0; i < 50 && os.Remove(dir) != nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
}
