//go:build linux

package afxdp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/bpf"
	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// countAll sends n test frames over 64 flows and returns how many the
// sockets received. Unlike sendAndReceive it gives up instead of waiting
// for a receiver that gets nothing: the sender pauses every 256 frames
// until the readers catch up, for at most a second.
func countAll(t *testing.T, tb *testbed, socks []*Socket, n int) uint64 {
	t.Helper()
	var got atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			frames := make([]capture.Frame, 64)
			for {
				k, err := s.ReadBatch(ctx, frames)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("read: %v", err)
					}
					return
				}
				for _, f := range frames[:k] {
					if _, _, ok := frameSeq(f.Data); ok {
						got.Add(1)
					}
				}
			}
		}()
	}
	sendFrames(t, tb, n, got.Load)
	cancel()
	wg.Wait()
	return got.Load()
}

// sendFrames sends n test frames over 64 flows, pausing every 256 frames
// until received reports them (for at most a second), then waits up to a
// second for the last ones.
func sendFrames(t *testing.T, tb *testbed, n int, received func() uint64) {
	t.Helper()
	snd := tb.sender(t)
	buf := make([]byte, 128)
	catchUp := func(want uint64) {
		for deadline := time.Now().Add(time.Second); received() < want && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	for i := range n {
		if i > 0 && i%256 == 0 {
			catchUp(uint64(i))
		}
		if err := snd.send(testFrame(buf, uint16(21000+i%64), 9999, uint32(i))); err != nil {
			t.Fatal(err)
		}
	}
	catchUp(uint64(n))
	time.Sleep(50 * time.Millisecond) // duplicates would show now
}

// checkInUse checks that err is the refusal of a second capture on
// recvIf whose owner is pid.
func checkInUse(t *testing.T, err error, pid int) {
	t.Helper()
	if err == nil {
		t.Fatal("second open on an interface with a running capture succeeded")
	}
	t.Logf("refused: %v", err)
	msg := err.Error()
	for _, want := range []string{recvIf, "in use by a running agent", fmt.Sprintf("pid %d", pid), "af_packet"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	var iu *InUseError
	if !errors.As(err, &iu) || !errors.Is(err, ErrInUse) {
		t.Errorf("error %q is not an *InUseError wrapping ErrInUse", msg)
	} else if iu.Iface != recvIf || !iu.Capture || !slices.Contains(iu.PIDs, pid) {
		t.Errorf("InUseError{Iface %q, Capture %v, PIDs %v}, want %s, xdp_capture and pid %d", iu.Iface, iu.Capture, iu.PIDs, recvIf, pid)
	}
	if errors.Is(err, capture.ErrNotSupported) {
		t.Errorf("refusal %q wraps ErrNotSupported: the auto chain would hide it", msg)
	}
}

// TestSecondOpenRefused opens a capture on the interface, then tries a
// second one through OpenAll and through LoadProgram: both must fail
// with an error naming the interface and this process, the first
// capture's program must stay attached and its sockets must receive every
// frame sent afterwards. Once the first capture is closed, a new one
// opens and receives.
func TestSecondOpenRefused(t *testing.T) {
	tb := newTestbed(t)
	socks, prog := tb.openAll(t, Config{})
	id := tb.attachedProgID(t)
	for _, second := range []struct {
		name string
		open func() error
	}{
		{"OpenAll", func() error {
			s, p, err := OpenAll(recvIf, Config{})
			if err == nil {
				for _, x := range s {
					x.Close()
				}
				p.Close()
			}
			return err
		}},
		{"LoadProgram", func() error {
			p, err := LoadProgram(recvIf, ProgramOptions{})
			if err == nil {
				p.Close()
			}
			return err
		}},
		{"LoadProgram generic", func() error {
			p, err := LoadProgram(recvIf, ProgramOptions{Mode: ModeGeneric})
			if err == nil {
				p.Close()
			}
			return err
		}},
	} {
		t.Run(second.name, func(t *testing.T) {
			checkInUse(t, inNS(tb.recvNS, second.open), os.Getpid())
			if got := tb.attachedProgID(t); got != id {
				t.Errorf("first capture's program %d replaced by %d", id, got)
			}
			const n = 2000
			if got := countAll(t, tb, socks, n); got != n {
				t.Errorf("first capture received %d of %d frames sent after the second attempt", got, n)
			}
		})
	}

	for _, s := range socks {
		s.Close()
	}
	prog.Close()
	socks2, _ := tb.openAll(t, Config{})
	const n = 1000
	if got := countAll(t, tb, socks2, n); got != n {
		t.Errorf("capture opened after the first was closed received %d of %d frames", got, n)
	}
}

// ownerEnv makes the test binary, re-executed by TestSecondOpenOtherProcess,
// act as the first capture: it opens AF_XDP on recvIf in the namespace
// passed as fd 3, prints "ready", counts test frames and prints "count N"
// for each line read on stdin, until stdin closes or it is killed. The
// variable's value says how it attaches: "bpf_link" (OpenAll) or
// "netlink" (what an agent attaching without a bpf_link does: the
// program outlives the process).
const ownerEnv = "PKTVISOR_AFXDP_TEST_OWNER"

// TestOwnerProcess is the child side of TestSecondOpenOtherProcess; run
// on its own it skips.
func TestOwnerProcess(t *testing.T) {
	how := os.Getenv(ownerEnv)
	if how == "" {
		t.Skip("helper process for TestSecondOpenOtherProcess")
	}
	var socks []*Socket
	if err := inNS(netns.NsHandle(3), func() (err error) {
		switch how {
		case "bpf_link":
			var prog *Program
			socks, prog, err = OpenAll(recvIf, Config{})
			_ = prog // held until the process ends
			return err
		case "netlink":
			socks, err = attachNetlink()
			return err
		}
		return fmt.Errorf("unknown way %q", how)
	}); err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(1)
	}
	var count atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			frames := make([]capture.Frame, 64)
			for {
				k, err := s.ReadBatch(ctx, frames)
				if err != nil {
					return
				}
				for _, f := range frames[:k] {
					if _, _, ok := frameSeq(f.Data); ok {
						count.Add(1)
					}
				}
			}
		}()
	}
	fmt.Println("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fmt.Printf("count %d\n", count.Load())
	}
	cancel()
	wg.Wait()
	os.Exit(0) // the child is killed in the tests; nothing to clean up here
}

// attachNetlink attaches xdp_capture to recvIf through netlink in generic
// mode and registers one socket per queue in its XSKMAP.
func attachNetlink() ([]*Socket, error) {
	var objs bpf.Objects
	if err := bpf.LoadObjects(&objs, nil); err != nil {
		return nil, err
	}
	l, err := netlink.LinkByName(recvIf)
	if err != nil {
		return nil, err
	}
	if err := netlink.LinkSetXdpFdWithFlags(l, objs.XdpCapture.FD(), unix.XDP_FLAGS_SKB_MODE); err != nil {
		return nil, err
	}
	var socks []*Socket
	for q := range numQueues {
		s, err := Open(Config{Iface: recvIf, Queue: q}, nil)
		if err != nil {
			return nil, err
		}
		if err := objs.Xsks.Put(uint32(q), uint32(s.FD())); err != nil {
			return nil, err
		}
		socks = append(socks, s)
	}
	return socks, nil
}

// owner is a child process holding a capture on recvIf.
type owner struct {
	cmd   *exec.Cmd
	in    *os.File
	lines chan string
	done  chan struct{}
}

// startOwner re-executes the test binary as TestOwnerProcess in the
// receiver namespace and waits until its capture is open. tb's cleanup
// kills it.
func (t *testbed) startOwner(tb testing.TB, how string) *owner {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	nsfd, err := unix.Dup(int(t.recvNS))
	if err != nil {
		tb.Fatal(err)
	}
	nsFile := os.NewFile(uintptr(nsfd), "netns")
	defer nsFile.Close()
	inR, inW, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	defer inR.Close()
	o := &owner{in: inW, lines: make(chan string, 16), done: make(chan struct{})}
	o.cmd = exec.Command(exe, "-test.run=^TestOwnerProcess$", "-test.count=1")
	o.cmd.Env = append(os.Environ(), ownerEnv+"="+how)
	o.cmd.ExtraFiles = []*os.File{nsFile}
	o.cmd.Stdin = inR
	o.cmd.Stderr = os.Stderr
	o.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := o.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := o.cmd.Start(); err != nil {
		inW.Close()
		tb.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			o.lines <- sc.Text()
		}
		close(o.lines)
	}()
	go func() {
		o.cmd.Wait()
		close(o.done)
	}()
	tb.Cleanup(func() {
		o.kill()
		o.in.Close()
	})
	if line := o.next(tb); line != "ready" {
		tb.Fatalf("owner process: %q, want ready", line)
	}
	return o
}

// next returns the owner's next output line, failing tb after 10 s.
func (o *owner) next(tb testing.TB) string {
	tb.Helper()
	select {
	case l, ok := <-o.lines:
		if !ok {
			tb.Fatal("owner process exited")
		}
		return l
	case <-time.After(10 * time.Second):
		tb.Fatal("owner process: no answer in 10 s")
	}
	return ""
}

// count asks the owner how many test frames it has received.
func (o *owner) count(tb testing.TB) uint64 {
	tb.Helper()
	if _, err := o.in.WriteString("count\n"); err != nil {
		tb.Fatal(err)
	}
	l := o.next(tb)
	n, err := strconv.ParseUint(strings.TrimPrefix(l, "count "), 10, 64)
	if err != nil {
		tb.Fatalf("owner process: %q, want count N", l)
	}
	return n
}

// kill sends SIGKILL and waits for the process to be gone.
func (o *owner) kill() {
	_ = o.cmd.Process.Kill()
	<-o.done
}

// TestSecondOpenOtherProcess runs the first capture in a child process,
// attached through a bpf_link (as OpenAll does) or through netlink (the
// program then stays after the process dies): a second OpenAll here must
// fail naming the child's pid while the child keeps receiving; after
// kill -9 of the child, OpenAll succeeds, replacing what the child left,
// and receives.
func TestSecondOpenOtherProcess(t *testing.T) {
	for _, how := range []string{"bpf_link", "netlink"} {
		t.Run(how, func(t *testing.T) {
			tb := newTestbed(t)
			o := tb.startOwner(t, how)
			id := tb.attachedProgID(t)
			if id == 0 {
				t.Fatal("owner process attached no program")
			}
			err := inNS(tb.recvNS, func() error {
				s, p, err := OpenAll(recvIf, Config{})
				if err == nil {
					for _, x := range s {
						x.Close()
					}
					p.Close()
				}
				return err
			})
			checkInUse(t, err, o.cmd.Process.Pid)
			if got := tb.attachedProgID(t); got != id {
				t.Errorf("owner's program %d replaced by %d", id, got)
			}

			const n = 2000
			sendFrames(t, tb, n, func() uint64 { return o.count(t) })
			if got := o.count(t); got != n {
				t.Errorf("owner process received %d of %d frames sent after the second attempt", got, n)
			}

			o.kill()
			left := tb.attachedProgID(t)
			t.Logf("after kill -9 of the owner: program %d attached", left)
			if how == "netlink" && left != id {
				t.Errorf("netlink-attached program %d gone after the owner died (%d attached): nothing stale to replace", id, left)
			}
			socks, prog := tb.openAll(t, Config{})
			t.Logf("replaced: %q", prog.Replaced())
			if left != 0 && len(prog.Replaced()) != 1 {
				t.Errorf("Replaced() = %q, want the dead owner's program %d", prog.Replaced(), left)
			}
			if got := countAll(t, tb, socks, 1000); got != 1000 {
				t.Errorf("capture opened after kill -9 of the owner received %d of 1000 frames", got)
			}
		})
	}
}

// TestOpenAllBusyQueue binds a socket to queue 0 with no program
// attached: OpenAll retries for busyWait, then fails with an InUseError
// for the queue, attaching nothing.
func TestOpenAllBusyQueue(t *testing.T) {
	tb := newTestbed(t)
	var s *Socket
	if err := inNS(tb.recvNS, func() (err error) { s, err = Open(Config{Iface: recvIf, Queue: 0}, nil); return err }); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	err := inNS(tb.recvNS, func() error {
		s, p, err := OpenAll(recvIf, Config{})
		if err == nil {
			for _, x := range s {
				x.Close()
			}
			p.Close()
		}
		return err
	})
	t.Logf("refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
	var iu *InUseError
	if !errors.As(err, &iu) || !errors.Is(err, ErrInUse) || !errors.Is(err, unix.EBUSY) {
		t.Fatalf("OpenAll with queue 0 taken: %v, want an InUseError wrapping EBUSY", err)
	}
	if iu.Queue != 0 || iu.Program != "" || !strings.Contains(err.Error(), "queue 0") {
		t.Errorf("InUseError %+v: want queue 0 and no program", iu)
	}
	if d := time.Since(start); d < busyWait {
		t.Errorf("refused after %v, want a retry for %v", d, busyWait)
	}
	if id := tb.attachedProgID(t); id != 0 {
		t.Errorf("program %d attached after the refusal", id)
	}
}

// TestHolders reads a fixture /proc: descriptors of the program, a
// bpf_link to it, one of the maps, other BPF objects and other files.
func TestHolders(t *testing.T) {
	root := t.TempDir()
	proc := func(pid string, fds map[string][2]string) {
		for fd, f := range fds {
			for _, d := range []string{"fd", "fdinfo"} {
				if err := os.MkdirAll(filepath.Join(root, pid, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(f[0], filepath.Join(root, pid, "fd", fd)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, pid, "fdinfo", fd), []byte(f[1]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	const (
		progInfo  = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1054\nprog_type:\t6\nprog_jited:\t1\nprog_tag:\t6d6f6e6b6579ab01\nmemlock:\t4096\nprog_id:\t17\n"
		linkInfo  = "pos:\t0\nflags:\t02000000\nmnt_id:\t15\nino:\t1055\nlink_type:\txdp\nlink_id:\t5\nprog_tag:\t6d6f6e6b6579ab01\nprog_id:\t17\nifindex:\t3\n"
		mapInfo   = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1052\nmap_type:\t17\nkey_size:\t4\nvalue_size:\t4\nmax_entries:\t64\nmap_flags:\t0x0\nmap_extra:\t0x0\nmemlock:\t1024\nmap_id:\t23\nfrozen:\t0\n"
		otherProg = "pos:\t0\nprog_type:\t6\nprog_id:\t170\n"
		otherMap  = "pos:\t0\nmap_type:\t2\nmap_id:\t230\n"
	)
	proc("101", map[string][2]string{"3": {"anon_inode:bpf-prog", progInfo}, "4": {"socket:[99]", ""}})
	proc("1000", map[string][2]string{"7": {"anon_inode:bpf_link", linkInfo}})
	proc("99", map[string][2]string{"5": {"anon_inode:bpf-map", mapInfo}})
	proc("55", map[string][2]string{"3": {"anon_inode:bpf-prog", otherProg}, "4": {"anon_inode:bpf-map", otherMap}})
	proc("56", map[string][2]string{"3": {"/dev/null", progInfo}}) // not a BPF object: fdinfo not read
	proc("self", map[string][2]string{"3": {"anon_inode:bpf-prog", progInfo}})
	if err := os.Mkdir(filepath.Join(root, "77"), 0o755); err != nil { // no fd directory
		t.Fatal(err)
	}

	got := holders(root, 17, []ebpf.MapID{22, 23})
	if want := []int{99, 101, 1000}; !slices.Equal(got, want) {
		t.Errorf("holders = %v, want %v", got, want)
	}
	if got := holders(root, 18, nil); len(got) != 0 {
		t.Errorf("holders of an unknown program = %v, want none", got)
	}
	if got := holders(filepath.Join(root, "nosuch"), 17, nil); got != nil {
		t.Errorf("holders without /proc = %v", got)
	}
}

func TestParseFDInfo(t *testing.T) {
	tests := []struct {
		name string
		in   string
		prog ebpf.ProgramID
		m    ebpf.MapID
	}{
		{"program", "prog_type:\t6\nprog_id:\t17\nrun_time_ns:\t0\n", 17, 0},
		{"link", "link_type:\txdp\nlink_id:\t5\nprog_id:\t42\nifindex:\t3\n", 42, 0},
		{"map", "map_type:\t17\nmax_entries:\t64\nmap_id:\t23\n", 0, 23},
		{"not bpf", "pos:\t0\nflags:\t02\nmnt_id:\t15\n", 0, 0},
		{"garbage", "prog_id:\tx\nmap_id\n:\n", 0, 0},
		{"empty", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, m := parseFDInfo([]byte(tt.in))
			if p != tt.prog || m != tt.m {
				t.Errorf("parseFDInfo = %d, %d, want %d, %d", p, m, tt.prog, tt.m)
			}
		})
	}
}
