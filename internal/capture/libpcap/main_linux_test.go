package libpcap

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestMain fails the run when a test leaves file descriptors open (a
// capture handle, wake pipe, netns handle or sender socket).
func TestMain(m *testing.M) {
	before := openFDs()
	code := m.Run()
	if code == 0 {
		for fd, target := range openFDs() {
			if _, ok := before[fd]; !ok {
				fmt.Fprintf(os.Stderr, "leaked fd %s -> %s\n", fd, target)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// openFDs lists the process's descriptors, without the Go runtime's own
// netpoller descriptors, which appear on first use.
func openFDs() map[string]string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	fds := make(map[string]string, len(ents))
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil { // the descriptor ReadDir itself used
			continue
		}
		if strings.HasPrefix(target, "anon_inode:[eventpoll]") || strings.HasPrefix(target, "anon_inode:[eventfd]") {
			continue
		}
		fds[e.Name()] = target
	}
	return fds
}
