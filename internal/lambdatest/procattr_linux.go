package lambdatest

import "syscall"

// sysProcAttr puts the emulator in its own process group (Cleanup kills the group) and has the kernel kill it if the
// test binary dies without running its cleanups (a test timeout's panic, say).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
