package lambdatest

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// FunctionPID is the process id of the function (the bootstrap the emulator runs), which exists from the first
// invocation on. It reads /proc, so it works on Linux only.
func (f *Function) FunctionPID() (int, error) {
	children := childProcesses(f.cmd.Process.Pid)
	if len(children) != 1 {
		return 0, fmt.Errorf("lambdatest: %d processes under the emulator, want the function's one (invoke it first)", len(children))
	}
	return children[0], nil
}

// PeakRSS is the function process's resident set high-water mark so far (VmHWM): the most memory it held at once,
// which is what Lambda's "Max Memory Used" counts of a Go function without extensions.
func (f *Function) PeakRSS() (int64, error) {
	pid, err := f.FunctionPID()
	if err != nil {
		return 0, err
	}
	file, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("lambdatest: read the function's memory: %w", err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("lambdatest: VmHWM %q: %w", v, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("lambdatest: no VmHWM in /proc/%d/status", pid)
}

// CPUTime is the CPU the function process has used so far, user and system, from /proc/<pid>/stat.
func (f *Function) CPUTime() (time.Duration, error) {
	pid, err := f.FunctionPID()
	if err != nil {
		return 0, err
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("lambdatest: read the function's CPU time: %w", err)
	}
	i := strings.LastIndexByte(string(b), ')')
	fields := strings.Fields(string(b[i+1:])) // state is field 3 of stat, so utime (14) and stime (15) are 11 and 12 here
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("lambdatest: /proc/%d/stat is malformed", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("lambdatest: /proc/%d/stat times %q %q", pid, fields[11], fields[12])
	}
	const ticksPerSecond = 100 // USER_HZ, 100 on every Linux Lambda and CI runs on
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}
