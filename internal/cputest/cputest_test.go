package cputest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLimitWritesTheQuotaAndMovesTheProcess runs Limit's file work against directories laid out as each cgroup
// version's (the kernel's own files are plain files here), so that it needs no root.
func TestLimitWritesTheQuotaAndMovesTheProcess(t *testing.T) {
	const pid = 4242
	cases := []struct {
		name  string
		v2    bool
		files map[string]string // file of the new cgroup → content
	}{
		{"cgroup v2: cpu.max holds quota and period", true, map[string]string{"cpu.max": "7235 100000", "cgroup.procs": "4242"}},
		{"cgroup v1 when no v2 hierarchy is mounted", false, map[string]string{"cpu.cfs_quota_us": "7235", "cpu.cfs_period_us": "100000", "cgroup.procs": "4242"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v2, v1 := t.TempDir(), t.TempDir()
			if tc.v2 {
				if err := os.WriteFile(filepath.Join(v2, "cgroup.controllers"), []byte("cpu"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			h := hierarchy{v2Roots: []string{v2}, v1Root: v1}
			// 128 MB is 7.2% of a vCPU: 7,235 µs of every 100,000.
			if err := h.limit(t, pid, ShareOfMemory(128)); err != nil {
				t.Fatal(err)
			}
			root := v1
			if tc.v2 {
				root = v2
			}
			dirs, _ := filepath.Glob(filepath.Join(root, "cputest-*"))
			if len(dirs) != 1 {
				t.Fatalf("%d cgroups made under %s, want 1", len(dirs), root)
			}
			for file, want := range tc.files {
				got, err := os.ReadFile(filepath.Join(dirs[0], file))
				if err != nil || strings.TrimSpace(string(got)) != want {
					t.Errorf("%s = %q (%v), want %q", file, got, err, want)
				}
			}
		})
	}
}

func TestLimitRefusesAShareOutsideOneCPU(t *testing.T) {
	h := hierarchy{v2Roots: []string{t.TempDir()}, v1Root: t.TempDir()}
	for _, share := range []float64{0, -0.5, 1.5} {
		if err := h.limit(t, os.Getpid(), share); err == nil || !strings.Contains(err.Error(), strconv.FormatFloat(share, 'g', -1, 64)) {
			t.Errorf("share %v: error %v", share, err)
		}
	}
}
