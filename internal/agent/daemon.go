package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// daemonEnv marks the detached child of -d; the child finds the write end
// of the readiness pipe on file descriptor readyFD.
const (
	daemonEnv = "PKTVISORD_DAEMON_CHILD"
	readyFD   = 3
)

// readyTimeout bounds how long -d waits for the detached agent.
const readyTimeout = time.Minute

// readyMsg is all the child writes on the readiness pipe once it serves;
// anything else is its error output.
const readyMsg = "ready\n"

// childError is the error output of a detached agent that did not start,
// already prefixed with "pktvisord: ".
type childError struct{ msg string }

func (e *childError) Error() string { return e.msg }

// daemonize starts this program again, detached (new session, stdio on
// /dev/null), with the same arguments, and waits until the child reports
// that it serves (it has bound its listener and started its taps and
// policies). It returns the child's pid, or a [*childError] holding what
// the child wrote on stderr if it failed to start, or another error.
func daemonize(args []string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	p, err := os.StartProcess(exe, append([]string{exe}, args...), &os.ProcAttr{
		Env:   append(os.Environ(), daemonEnv+"=1"),
		Files: []*os.File{null, null, null, w}, // w is readyFD
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	w.Close()
	if err != nil {
		return 0, err
	}
	pid := p.Pid // Release clears it
	msg, err := readReady(r, readyTimeout)
	switch {
	case err == nil && msg == readyMsg:
		return pid, p.Release()
	case err != nil:
		p.Signal(syscall.SIGTERM)
		p.Release()
		return 0, fmt.Errorf("the agent (pid %d) did not report ready: %w; stopped it", pid, err)
	}
	// The child closes the pipe when it exits.
	st, werr := p.Wait()
	if msg == "" {
		if werr != nil {
			return 0, fmt.Errorf("the agent (pid %d) exited before it was ready: %w", pid, werr)
		}
		return 0, fmt.Errorf("the agent (pid %d) exited before it was ready: %v", pid, st)
	}
	return 0, &childError{msg: msg}
}

// readReady reads the readiness pipe until the child closes it.
func readReady(r *os.File, timeout time.Duration) (string, error) {
	if err := r.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "", fmt.Errorf("no answer within %v", timeout)
	}
	return string(b), err
}

// readiness is the detached child's end of the readiness pipe. Until
// [readiness.ready] or [readiness.close], what the child writes on stderr
// is kept to be sent to the parent; afterwards it goes to stderr (which is
// /dev/null). It is safe for concurrent use.
type readiness struct {
	mu     sync.Mutex
	pipe   *os.File // nil once done
	buf    bytes.Buffer
	stderr io.Writer
}

// childReadiness returns the readiness pipe if this process is the
// detached child of -d, else nil.
func childReadiness(stderr io.Writer) *readiness {
	if os.Getenv(daemonEnv) == "" {
		return nil
	}
	f := os.NewFile(readyFD, "readiness pipe")
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		// Not started by -d: leave the descriptor alone.
		return nil
	}
	os.Unsetenv(daemonEnv)
	return &readiness{pipe: f, stderr: stderr}
}

// Write keeps p for the parent, or writes it to stderr once done.
func (r *readiness) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pipe == nil {
		return r.stderr.Write(p)
	}
	return r.buf.Write(p)
}

// fail records err for the parent as pktvisord prints errors.
func (r *readiness) fail(err error) {
	fmt.Fprintf(r, "pktvisord: %s\n", strings.TrimSpace(err.Error()))
}

// ready tells the parent that the agent serves; the parent exits 0.
func (r *readiness) ready() { r.finish(readyMsg) }

// close sends the parent what was written so far, unless ready was
// called; the parent then exits 1 with it.
func (r *readiness) close() { r.finish("") }

func (r *readiness) finish(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pipe == nil {
		return
	}
	if msg == "" {
		msg = r.buf.String()
	}
	io.WriteString(r.pipe, msg)
	r.pipe.Close()
	r.pipe = nil
	r.buf.Reset()
}
