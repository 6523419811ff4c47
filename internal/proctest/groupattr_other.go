//go:build !linux

package proctest

import "syscall"

// groupAttr is a process group of its own, which the caller's cleanup kills.
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
