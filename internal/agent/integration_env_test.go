package agent

// Helpers of TestIntegrationDNS: root and binary probes, network
// namespaces, child processes that die with the test, and an HTTP client
// whose sockets live in a network namespace.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// requireEnv is the variable that turns a missing integration dependency
// into a failure instead of a skip (the Makefile's test target sets it).
const requireEnv = "PKTVISOR_REQUIRE_INTEGRATION"

// requireRootAndBinaries skips unless the test runs as root and finds every
// binary; with PKTVISOR_REQUIRE_INTEGRATION=1 a missing binary fails the
// test. It returns the paths by name.
func requireRootAndBinaries(tb testing.TB, names ...string) map[string]string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("integration test needs root (network namespaces, packet capture): run `sudo go test -run TestIntegrationDNS ./internal/agent/`")
	}
	paths := map[string]string{}
	var missing []string
	for _, n := range names {
		p, err := exec.LookPath(n)
		if err != nil && n == "go" {
			p = filepath.Join(runtime.GOROOT(), "bin", "go")
			if _, serr := os.Stat(p); serr == nil {
				err = nil
			}
		}
		if err != nil {
			missing = append(missing, n)
			continue
		}
		paths[n] = p
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("integration test needs %s in PATH (install with scripts/install-deps.sh)", strings.Join(missing, ", "))
		if os.Getenv(requireEnv) == "1" {
			tb.Fatalf("%s; %s=1 makes this a failure", msg, requireEnv)
		}
		tb.Skipf("%s; set %s=1 to fail instead of skipping", msg, requireEnv)
	}
	return paths
}

// randSuffix returns 6 hex digits, so names of parallel or leftover runs
// don't collide (interface names must stay under 16 bytes).
func randSuffix(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// runCmd runs a short command and fails the test with its output on error.
func runCmd(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := runCmdErr(name, args...)
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runCmdErr(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// addNetns creates a network namespace with lo up and IPv6 off, and deletes
// it at cleanup.
func addNetns(tb testing.TB, name string) {
	tb.Helper()
	runCmd(tb, "ip", "netns", "add", name)
	tb.Cleanup(func() {
		if out, err := runCmdErr("ip", "netns", "del", name); err != nil {
			tb.Errorf("cleanup: ip netns del %s: %v: %s", name, err, out)
		}
	})
	runCmd(tb, "ip", "netns", "exec", name, "sysctl", "-q", "-w",
		"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	runCmd(tb, "ip", "-n", name, "link", "set", "lo", "up")
}

// linkMAC returns the MAC address of dev in namespace ns.
func linkMAC(tb testing.TB, ns, dev string) string {
	tb.Helper()
	out := runCmd(tb, "ip", "-n", ns, "-br", "link", "show", "dev", dev)
	f := strings.Fields(out)
	if len(f) < 3 {
		tb.Fatalf("ip -br link show %s: unexpected output %q", dev, out)
	}
	return f[2]
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a long-running child process.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer // stdout and stderr
	done chan struct{}
	err  error // Wait's result, valid after done is closed
}

// startProc starts a child that is killed (SIGTERM, then SIGKILL after 5 s)
// at cleanup and also dies if the test binary dies. Its output is logged
// when the test fails.
func startProc(tb testing.TB, name string, argv ...string) *proc {
	tb.Helper()
	p := &proc{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		p.stop(5 * time.Second)
		if tb.Failed() {
			tb.Logf("--- output of %s (pid %d):\n%s", name, p.cmd.Process.Pid, tail(p.out.String(), 4000))
		}
	})
	return p
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs; it returns the exit
// error and whether the process ended within grace.
func (p *proc) stop(grace time.Duration) (error, bool) {
	select {
	case <-p.done:
		return p.err, true
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err, true
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return p.err, false
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// procStatus reads VmRSS (bytes) and Threads of pid from /proc.
func procStatus(pid int) (rss int64, threads int, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	rss, threads = -1, -1
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, 0, err
			}
			rss = kb * 1024
		case "Threads:":
			if threads, err = strconv.Atoi(f[1]); err != nil {
				return 0, 0, err
			}
		}
	}
	if rss < 0 || threads < 0 {
		return 0, 0, errors.New("VmRSS or Threads missing in /proc/<pid>/status")
	}
	return rss, threads, nil
}

// setns moves the calling OS thread into the network namespace of fd.
func setns(fd uintptr) error {
	return unix.Setns(int(fd), unix.CLONE_NEWNET)
}

// dialInNetns dials from inside network namespace ns: the socket is
// created on a locked OS thread that has joined ns, and stays there.
func dialInNetns(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer orig.Close()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer target.Close()
		if err := setns(target.Fd()); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		// Unlock only once the thread is back home; otherwise the runtime
		// ends the thread with this goroutine.
		if setns(orig.Fd()) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// netnsClient returns an HTTP client whose connections are made inside ns,
// so it reaches servers listening on that namespace's loopback.
func netnsClient(tb testing.TB, ns string) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialInNetns(ctx, ns, network, addr)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}
