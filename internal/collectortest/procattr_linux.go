package collectortest

import "syscall"

// sysProcAttr puts the Collector in its own process group (Cleanup kills the group) and has the kernel kill it
// if the test binary dies without running its cleanups.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
