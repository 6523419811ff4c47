package proctest

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowestPort is the lowest port FreePort draws: above the well-known and most registered services' ports.
const lowestPort = 10000

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago (0 if none could be had). It is drawn below
// the kernel's ephemeral range (ip_local_port_range), the range every outgoing connection and every ":0"
// listener of the tests takes its ports from: a port from that range can be taken by some test's HTTP client
// between this probe and a late bind (the Lambda emulator binds its runtime API port only at the first
// invocation), which made the fault matrix fail with "address already in use". Another process may still take
// it: callers retry their start on a bind failure.
func FreePort() int {
	if low := ephemeralLow(); low > lowestPort {
		for range 64 {
			p := lowestPort + rand.IntN(low-lowestPort)
			if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
				l.Close()
				return p
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ephemeralLow is the first port of the kernel's ephemeral range: Linux's ip_local_port_range, or its default
// (32768) where that cannot be read.
func ephemeralLow() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				return n
			}
		}
	}
	return 32768
}
