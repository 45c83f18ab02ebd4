package agent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// writePidFile creates path holding this process's pid and a newline,
// mode 0644. It never follows a symbolic link and never writes into a file
// it did not create: the file is created exclusively (O_CREAT|O_EXCL|
// O_NOFOLLOW). If path exists it is replaced only when it is a regular
// file that is empty or holds the pid of a process that no longer runs;
// a symbolic link, another kind of file, a file that does not hold a pid
// and the pid file of a running process are errors.
func writePidFile(path string) error {
	for attempt := 0; ; attempt++ {
		err := createPidFile(path)
		if err == nil || !errors.Is(err, fs.ErrExist) || attempt == 2 {
			return err
		}
		if err := removeStalePidFile(path); err != nil {
			return err
		}
	}
}

func createPidFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	// Whatever the umask, tools that read the pid file must be able to.
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// removeStalePidFile unlinks the existing pid file at path if it is stale
// (see [writePidFile]). Unlinking never touches what a link points to.
func removeStalePidFile(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link: refusing to follow or replace it", path)
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s exists and is not a regular file: refusing to replace it", path)
	}
	pid, err := readPidFile(path)
	if err != nil {
		return err
	}
	if pid > 0 && pid != os.Getpid() && processRuns(pid) {
		return fmt.Errorf("%s: pid %d is running (another pktvisord?)", path, pid)
	}
	return os.Remove(path)
}

// readPidFile returns the pid in the pid file at path, or 0 if the file
// is empty. Content other than a decimal pid and a newline is an error.
func readPidFile(path string) (int, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 32))
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, nil
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 || len(b) == 32 {
		return 0, fmt.Errorf("%s exists and does not hold a pid: refusing to replace it", path)
	}
	return pid, nil
}

// processRuns reports whether a process with this pid exists (signal 0
// reaches it, or is refused for lack of permission).
func processRuns(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	defer p.Release()
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// removePidFile removes the pid file at path if it still holds this
// process's pid.
func removePidFile(path string) error {
	if pid, err := readPidFile(path); err != nil || pid != os.Getpid() {
		return err
	}
	return os.Remove(path)
}
