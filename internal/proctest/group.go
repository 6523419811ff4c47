package proctest

import (
	"os/exec"
	"syscall"
)

// StartGroup starts cmd in a process group of its own (groupAttr: on Linux the kernel also kills it if the test
// binary dies without running its cleanups, a test timeout's panic, say). exited is closed once cmd has been
// waited for; kill sends SIGKILL to the whole group and waits for that.
func StartGroup(cmd *exec.Cmd) (exited <-chan struct{}, kill func(), err error) {
	cmd.SysProcAttr = groupAttr()
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return done, func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}, nil
}
