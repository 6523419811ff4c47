package proctest

import "syscall"

// groupAttr is a process group of its own, killed by the kernel when the test binary dies.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
