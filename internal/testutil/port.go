package testutil

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"testing"
)

// FreeLoopbackAddr returns a loopback address ("127.0.0.1:PORT") that
// nothing listens on, for a server a test starts later (the login's
// callback, whose address X must know first) or for a dial that must fail.
//
// The port is taken below the kernel's ephemeral range: a port the kernel
// handed out for ":0" and the test then released is soon handed out again
// to another test's connection or listener, and the later listen fails
// with "address already in use" under parallel load. Below that range only
// an explicit bind takes a port.
func FreeLoopbackAddr(t testing.TB) string {
	t.Helper()
	low := ephemeralLow()
	for range 200 {
		port := 10000 + rand.IntN(low-10000)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue // taken: try another
		}
		ln.Close()
		return addr
	}
	t.Fatal("no free loopback port below the ephemeral range")
	return ""
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// ip_local_port_range; macOS and others use 49152 and up).
func ephemeralLow() int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var lo, hi int
		if n, _ := fmt.Sscan(string(b), &lo, &hi); n == 2 && lo > 10100 {
			low = lo
		}
	}
	return low
}
