package lambdatest

import (
	"regexp"
	"strconv"
	"time"
)

// initReport matches the emulator's line for a completed init phase, e.g.
// "... [INFO] (rapid) INIT REPORT(durationMs: 18.342000)": the time from starting the bootstrap process until it
// asks the Runtime API for its first event, what Lambda reports as a cold start's Init Duration.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9]+(?:\.[0-9]+)?)\)`)

// InitDuration returns the init duration the emulator reported, and false before the first invocation (the
// emulator initialises the function lazily, when the first event arrives).
func (f *Function) InitDuration() (time.Duration, bool) {
	return parseInitDuration(f.Logs())
}

func parseInitDuration(logs string) (time.Duration, bool) {
	m := initReport.FindStringSubmatch(logs)
	if m == nil {
		return 0, false
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}
