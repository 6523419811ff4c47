package proctest

import "net"

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago (0 if none could be had). Another process
// may take it before the caller binds it: callers retry their start on a bind failure.
func FreePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
