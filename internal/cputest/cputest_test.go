package cputest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLimitPutsTheProcessUnderTheQuota(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	Limit(t, cmd.Process.Pid, ShareOfMemory(128))

	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var dir string
	for _, line := range strings.Split(string(b), "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && strings.Contains(parts[2], "cputest-") {
			dir = parts[2]
		}
	}
	if dir == "" {
		t.Fatalf("the process is in no cputest cgroup:\n%s", b)
	}
	// 128 MB is 7.2% of a vCPU: 7,235 µs of every 100,000.
	v2, _ := os.ReadFile(filepath.Join("/sys/fs/cgroup", dir, "cpu.max"))
	v2u, _ := os.ReadFile(filepath.Join("/sys/fs/cgroup/unified", dir, "cpu.max"))
	v1, _ := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpu", dir, "cpu.cfs_quota_us"))
	if got := strings.TrimSpace(string(v2) + string(v2u) + string(v1)); got != "7235 100000" && got != "7235" {
		t.Fatalf("quota %q, want 7235 µs per 100 ms", got)
	}
}
