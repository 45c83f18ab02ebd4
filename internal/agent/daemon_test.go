package agent

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDaemonize runs the real binary with -d: the command returns at once,
// the detached agent writes its pid file and serves, and on SIGTERM it
// stops and removes the pid file.
func TestDaemonize(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	dir := t.TempDir()
	bin := buildAgent(t, goBin, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	pidFile := filepath.Join(dir, "pktvisord.pid")
	logFile := filepath.Join(dir, "pktvisord.log")
	start := time.Now()
	out, err := exec.Command(bin, "-d", "--admin-api", "-l", "127.0.0.1", "-p", port,
		"--pid-file", pidFile, "--log-file", logFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "running in the background") {
		t.Fatalf("-d: %v %s", err, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("-d returned after %v", d)
	}
	var pid int
	if !poll(10*time.Second, 50*time.Millisecond, func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	}) {
		t.Fatal("no pid file")
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	var status int
	poll(10*time.Second, 50*time.Millisecond, func() bool {
		resp, err := http.Get("http://127.0.0.1:" + port + "/api/v1/metrics/app")
		if err != nil {
			return false
		}
		resp.Body.Close()
		status = resp.StatusCode
		return true
	})
	if status != 200 {
		t.Fatalf("daemon does not serve: status %d", status)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !poll(10*time.Second, 50*time.Millisecond, func() bool {
		_, err := os.Stat(pidFile)
		return os.IsNotExist(err)
	}) {
		t.Error("pid file left after SIGTERM")
	}
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), "signal=terminated") {
		t.Errorf("log file:\n%s", b)
	}
}
