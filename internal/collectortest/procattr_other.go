//go:build !linux

package collectortest

import "syscall"

// sysProcAttr puts the Collector in its own process group (Cleanup kills the group).
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
