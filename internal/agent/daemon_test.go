package agent

import (
	"bytes"
	"errors"
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

// TestDaemon runs the real binary (built once) the way init systems and
// logrotate do: detached with -d, with a pid file, and with SIGHUP.
func TestDaemon(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	bin := buildAgent(t, goBin, t.TempDir())
	t.Run("detach", func(t *testing.T) { testDetach(t, bin) })
	t.Run("detach reports the child's error", func(t *testing.T) { testDetachError(t, bin) })
	t.Run("SIGHUP reopens the log file", func(t *testing.T) { testSighupReopen(t, bin) })
	t.Run("SIGHUP without a log file", func(t *testing.T) { testSighupIgnored(t, bin) })
	t.Run("pid file", func(t *testing.T) { testPidFile(t, bin) })
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// appStatus returns the status of GET /api/v1/metrics/app, or 0 if the
// agent does not answer.
func appStatus(port string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port + "/api/v1/metrics/app")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// startServing starts the agent in the foreground and waits until it
// answers.
func startServing(t *testing.T, bin, port string, args ...string) *proc {
	t.Helper()
	argv := append([]string{bin, "--admin-api", "-l", "127.0.0.1", "-p", port}, args...)
	p := startProc(t, "pktvisord", argv...)
	if !poll(10*time.Second, 50*time.Millisecond, func() bool { return p.exited() || appStatus(port) == 200 }) || p.exited() {
		t.Fatalf("agent does not serve (exited %v: %v)", p.exited(), p.err)
	}
	return p
}

// testDetach: -d returns once the detached agent serves and has written
// its pid file (mode 0644); on SIGTERM the agent stops and removes it.
func testDetach(t *testing.T, bin string) {
	dir := t.TempDir()
	port := freePort(t)
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
	// No polling: when -d returns, the agent is ready.
	status := appStatus(port)
	b, err := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if status != 200 {
		t.Errorf("right after -d returned: status %d, want 200", status)
	}
	if err != nil || pid <= 0 {
		t.Errorf("right after -d returned: pid file %q, %v", b, err)
		// Find the agent, to stop it.
		poll(10*time.Second, 50*time.Millisecond, func() bool {
			b, _ := os.ReadFile(pidFile)
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			return pid > 0
		})
	}
	if pid <= 0 {
		t.Fatal("no pid file")
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if st, err := os.Stat(pidFile); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("pid file: %v %v, want mode 0644", st, err)
	}
	if !strings.Contains(string(out), "pid "+strconv.Itoa(pid)) {
		t.Errorf("-d output %q does not name pid %d", out, pid)
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

// testDetachError: when the detached agent cannot start (its port is
// taken), -d exits non-zero with the agent's error.
func testDetachError(t *testing.T, bin string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pktvisord.pid")
	out, err := exec.Command(bin, "-d", "--admin-api", "-l", "127.0.0.1", "-p", port,
		"--pid-file", pidFile, "--log-file", filepath.Join(dir, "pktvisord.log")).CombinedOutput()
	if b, _ := os.ReadFile(pidFile); len(b) > 0 {
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if err == nil || strings.Contains(string(out), "running in the background") {
		t.Fatalf("-d with port %s taken: exit %v, output %q; want a failure", port, err, out)
	}
	if want := "listen on 127.0.0.1:" + port + ": "; !strings.Contains(string(out), want) ||
		!strings.Contains(string(out), "address already in use") {
		t.Errorf("-d output %q; want the agent's error (%q ... address already in use)", out, want)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left by the failed agent: %v", err)
	}
}

// testSighupReopen: after logrotate renames the log file, SIGHUP makes the
// agent open a new one; it keeps serving.
func testSighupReopen(t *testing.T, bin string) {
	dir := t.TempDir()
	port := freePort(t)
	logFile := filepath.Join(dir, "pktvisord.log")
	p := startServing(t, bin, port, "--log-file", logFile)
	if err := os.Rename(logFile, logFile+".1"); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var b []byte
	if !poll(10*time.Second, 50*time.Millisecond, func() bool {
		b, _ = os.ReadFile(logFile)
		return strings.Contains(string(b), "reopened log file")
	}) {
		t.Fatalf("no new log file after SIGHUP (exited %v: %v); log file: %q", p.exited(), p.err, b)
	}
	if p.exited() {
		t.Fatalf("agent exited on SIGHUP: %v", p.err)
	}
	if s := appStatus(port); s != 200 {
		t.Fatalf("after SIGHUP: status %d, want 200", s)
	}
	if old, _ := os.ReadFile(logFile + ".1"); !strings.Contains(string(old), "pktvisord started") {
		t.Errorf("rotated log file:\n%s", old)
	}
	if err, ok := p.stop(5 * time.Second); err != nil || !ok {
		t.Errorf("stop after SIGHUP: %v (in time: %v)", err, ok)
	}
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), "signal=terminated") {
		t.Errorf("the new log file does not get the later lines:\n%s", b)
	}
}

// testSighupIgnored: without --log-file, SIGHUP is logged and ignored.
func testSighupIgnored(t *testing.T, bin string) {
	port := freePort(t)
	p := startServing(t, bin, port)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !poll(10*time.Second, 50*time.Millisecond, func() bool {
		return strings.Contains(p.out.String(), "SIGHUP ignored")
	}) {
		t.Fatalf("no log line for SIGHUP (exited %v: %v)", p.exited(), p.err)
	}
	if p.exited() {
		t.Fatalf("agent exited on SIGHUP: %v", p.err)
	}
	if s := appStatus(port); s != 200 {
		t.Fatalf("after SIGHUP: status %d, want 200", s)
	}
}

// testPidFile: the pid file is created exclusively. A symlink or the pid
// file of a live process is refused and left as it is; a stale one is
// replaced.
func testPidFile(t *testing.T, bin string) {
	// refused starts the agent, which must exit non-zero at once, naming
	// the pid file.
	refused := func(t *testing.T, pidFile string) {
		t.Helper()
		p := startProc(t, "pktvisord", bin, "--admin-api", "-l", "127.0.0.1", "-p", freePort(t), "--pid-file", pidFile)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Error("the agent started")
			p.stop(5 * time.Second)
			return
		}
		if p.err == nil {
			t.Errorf("exit status 0; output %q", p.out.String())
		}
		if !strings.Contains(p.out.String(), pidFile) {
			t.Errorf("output %q does not name %s", p.out.String(), pidFile)
		}
	}
	t.Run("symlink", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "precious")
		if err := os.WriteFile(target, []byte("precious\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "pktvisord.pid")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		refused(t, link)
		if b, err := os.ReadFile(target); err != nil || string(b) != "precious\n" {
			t.Errorf("symlink target now holds %q (%v)", b, err)
		}
		if st, err := os.Lstat(link); err != nil {
			t.Errorf("symlink gone: %v", err)
		} else if st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("symlink replaced by %v", st.Mode())
		}
	})
	t.Run("live process", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "pktvisord.pid")
		live := strconv.Itoa(os.Getpid()) + "\n"
		if err := os.WriteFile(pidFile, []byte(live), 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, pidFile)
		if b, _ := os.ReadFile(pidFile); string(b) != live {
			t.Errorf("pid file of a live process now holds %q", b)
		}
	})
	t.Run("not a pid", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "pktvisord.pid")
		if err := os.WriteFile(pidFile, []byte("root:x:0:0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		refused(t, pidFile)
		if b, _ := os.ReadFile(pidFile); string(b) != "root:x:0:0\n" {
			t.Errorf("file now holds %q", b)
		}
	})
	t.Run("stale", func(t *testing.T) {
		dead := exec.Command("true")
		if err := dead.Run(); err != nil {
			t.Skip(err)
		}
		pidFile := filepath.Join(t.TempDir(), "pktvisord.pid")
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := startServing(t, bin, freePort(t), "--pid-file", pidFile)
		if b, _ := os.ReadFile(pidFile); strings.TrimSpace(string(b)) != strconv.Itoa(p.cmd.Process.Pid) {
			t.Errorf("pid file holds %q, want %d", b, p.cmd.Process.Pid)
		}
		if err, ok := p.stop(5 * time.Second); err != nil || !ok {
			t.Errorf("stop: %v (in time: %v)", err, ok)
		}
		if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
			t.Errorf("pid file left after SIGTERM: %v", err)
		}
	})
}

// TestReadiness checks both ends of the readiness pipe of -d in process.
func TestReadiness(t *testing.T) {
	tests := []struct {
		name       string
		child      func(r *readiness)
		want       string // what the parent reads
		wantStderr string // what reaches the child's stderr
	}{
		{"ready", func(r *readiness) {
			r.Write([]byte("before\n"))
			r.ready()
			r.Write([]byte("after\n"))
			r.close()
		}, readyMsg, "after\n"},
		{"failure", func(r *readiness) {
			r.Write([]byte("pktvisord: open log file: denied\n"))
			r.fail(errors.New("listen on :1: in use"))
			r.close()
			r.ready()
		}, "pktvisord: open log file: denied\npktvisord: listen on :1: in use\n", ""},
		{"silent exit", func(r *readiness) { r.close() }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			var stderr bytes.Buffer
			tt.child(&readiness{pipe: pw, stderr: &stderr})
			got, err := readReady(pr, 10*time.Second)
			if err != nil || got != tt.want || stderr.String() != tt.wantStderr {
				t.Errorf("parent read %q (%v), child stderr %q; want %q, %q", got, err, stderr.String(), tt.want, tt.wantStderr)
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		defer pw.Close()
		if got, err := readReady(pr, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
			t.Errorf("got %q, %v; want a timeout", got, err)
		}
	})
}
