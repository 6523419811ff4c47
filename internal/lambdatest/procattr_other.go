//go:build !linux

package lambdatest

import "syscall"

// sysProcAttr puts the emulator in its own process group, which Cleanup kills.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
