//go:build !linux

package miniotest

import "syscall"

// sysProcAttr puts MinIO in its own process group, which Cleanup kills.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
