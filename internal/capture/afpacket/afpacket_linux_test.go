//go:build linux

package afpacket

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/capture/netif"
)

// TestMain fails the run when privileged tests leak file descriptors
// (sockets, eventfds, namespace handles).
func TestMain(m *testing.M) {
	// Warm the runtime poller up so its descriptors are not counted.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	before := openFDs()
	code := m.Run()
	if code == 0 {
		// Cleanups of sockets are synchronous; give netlink helpers a moment.
		time.Sleep(50 * time.Millisecond)
		after := openFDs()
		for fd, target := range after {
			if _, ok := before[fd]; !ok {
				os.Stderr.WriteString("leaked fd " + fd + " -> " + target + "\n")
				code = 1
			}
		}
	}
	os.Exit(code)
}

func openFDs() map[string]string {
	ents, _ := os.ReadDir("/proc/self/fd")
	m := make(map[string]string, len(ents))
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue // the directory's own fd
		}
		m[e.Name()] = target
	}
	return m
}

// sent describes what the sender put on the wire.
type flowSet struct {
	first uint16 // first source port
	n     int    // ports first..first+n-1
}

// sendFlows sends one frame per source port in fs, repeat times, plus
// noise frames to another port that the filter must reject.
func sendFlows(t *testing.T, tb *testbed, fs flowSet, repeat, noise int) {
	t.Helper()
	snd := tb.sender(t)
	buf := make([]byte, 2048)
	for r := 0; r < repeat; r++ {
		for i := 0; i < fs.n; i++ {
			sport := fs.first + uint16(i)
			if err := snd.send(testFrame(buf, sport, testPort, payloadLen(sport))); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
	}
	for i := 0; i < noise; i++ {
		if err := snd.send(testFrame(buf, 7000+uint16(i), testPort+1, 20)); err != nil {
			t.Fatalf("send noise: %v", err)
		}
	}
}

// checkFrame verifies a received frame byte for byte and returns its
// source port.
func checkFrame(f capture.Frame, ref []byte, start, end time.Time) (uint16, string) {
	if len(f.Data) < 42 {
		return 0, "short frame"
	}
	sport := binary.BigEndian.Uint16(f.Data[34:36])
	want := testFrame(ref, sport, testPort, payloadLen(sport))
	switch {
	case string(f.Data) != string(want):
		return sport, "frame bytes differ from what was sent"
	case f.WireLen != len(want):
		return sport, "wire length differs"
	case f.TS < start.UnixNano() || f.TS > end.UnixNano():
		return sport, "timestamp outside the test"
	}
	return sport, ""
}

// collect reads src until want frames arrived or the deadline passed,
// then for quiet more to catch extras. It returns the source ports seen.
func collect(t *testing.T, src *Source, ctx context.Context, start time.Time, total *atomic.Int64, want int64) []uint16 {
	t.Helper()
	frames := make([]capture.Frame, 256)
	ref := make([]byte, 2048)
	var ports []uint16
	for {
		n, err := src.ReadBatch(ctx, frames)
		for _, f := range frames[:n] {
			sport, problem := checkFrame(f, ref, start, time.Now().Add(time.Second))
			if problem != "" {
				t.Errorf("frame from port %d: %s", sport, problem)
			}
			ports = append(ports, sport)
		}
		total.Add(int64(n))
		if err != nil {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("ReadBatch: %v", err)
			}
			return ports
		}
	}
}

// waitTotal cancels once total reaches want (after a quiet period that
// would reveal extras) or after timeout.
func waitTotal(cancel context.CancelFunc, total *atomic.Int64, want int64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for total.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // > 10 ms block timeout: extras would show
	cancel()
}

// exactConfig is for tests that count frames exactly: 64 blocks, so a
// reader starved by a busy machine for up to 640 ms (64 block timeouts)
// loses nothing.
func exactConfig() Config {
	return Config{Filter: udpDstPort9999, NumBlocks: 64, BlockSize: 512 << 10}
}

func TestReadBatch(t *testing.T) {
	tb := newTestbed(t)
	src := tb.open(t, exactConfig())
	if got := src.LinkType(); got != linkTypeEthernet {
		t.Errorf("LinkType = %d, want %d", got, linkTypeEthernet)
	}
	const flows = 10000
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var total atomic.Int64
	var ports []uint16
	done := make(chan struct{})
	go func() {
		defer close(done)
		ports = collect(t, src, ctx, start, &total, flows)
	}()
	sendFlows(t, tb, flowSet{first: 10000, n: flows}, 1, 500)
	waitTotal(cancel, &total, flows, 10*time.Second)
	<-done

	if len(ports) != flows {
		t.Fatalf("received %d frames, sent %d matching the filter (and 500 that do not)", len(ports), flows)
	}
	seen := make(map[uint16]bool, flows)
	for _, p := range ports {
		if p < 10000 || p >= 10000+flows || seen[p] {
			t.Fatalf("unexpected or repeated source port %d", p)
		}
		seen[p] = true
	}
	st, err := src.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Packets != flows || st.Drops != 0 {
		t.Errorf("Stats = %+v, want Packets %d, Drops 0", st, flows)
	}
	// Counters are cumulative although the kernel resets them on read.
	if st2, _ := src.Stats(); st2.Packets != flows {
		t.Errorf("second Stats().Packets = %d, want %d", st2.Packets, flows)
	}
	t.Logf("received %d/%d frames, stats %+v", len(ports), flows, st)
}

// TestSnaplen checks that frames are cut at Snaplen while WireLen keeps
// the length on the wire.
func TestSnaplen(t *testing.T) {
	tb := newTestbed(t)
	src := tb.open(t, Config{Snaplen: 40, NumBlocks: 2, BlockSize: 1 << 20})
	snd := tb.sender(t)
	buf := make([]byte, 2048)
	want := testFrame(buf, 12345, testPort, 100)
	if err := snd.send(want); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	frames := make([]capture.Frame, 8)
	for {
		n, err := src.ReadBatch(ctx, frames)
		if err != nil {
			t.Fatalf("ReadBatch: %v", err)
		}
		for _, f := range frames[:n] {
			if len(f.Data) >= 36 && binary.BigEndian.Uint16(f.Data[34:36]) != 12345 {
				continue // not ours (no filter here)
			}
			if len(f.Data) != 40 || f.WireLen != len(want) || string(f.Data) != string(want[:40]) {
				t.Fatalf("got %d bytes (wire %d), want 40 of %d", len(f.Data), f.WireLen, len(want))
			}
			return
		}
	}
}

func TestFanout(t *testing.T) {
	const flows, repeat = 5000, 2
	for _, tc := range []struct {
		mode     FanoutMode
		balanced bool // both sockets must get frames
	}{
		{FanoutHash, true},
		{FanoutLB, true},
		{FanoutCPU, false}, // one sending CPU may feed one socket
		{FanoutQM, false},  // one veth queue feeds one socket
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			tb := newTestbed(t)
			cfg := exactConfig()
			cfg.Fanout = &Fanout{Mode: tc.mode}
			srcs := tb.openGroup(t, cfg, 2)
			g0, ok0 := srcs[0].FanoutGroup()
			g1, ok1 := srcs[1].FanoutGroup()
			if !ok0 || !ok1 || g0 != g1 {
				t.Fatalf("fanout groups %d (%v) and %d (%v) differ", g0, ok0, g1, ok1)
			}
			start := time.Now()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var total atomic.Int64
			ports := make([][]uint16, len(srcs))
			var wg sync.WaitGroup
			for i, s := range srcs {
				wg.Go(func() { ports[i] = collect(t, s, ctx, start, &total, flows*repeat) })
			}
			sendFlows(t, tb, flowSet{first: 20000, n: flows}, repeat, 100)
			waitTotal(cancel, &total, flows*repeat, 10*time.Second)
			wg.Wait()

			sum := len(ports[0]) + len(ports[1])
			t.Logf("group %d: socket 0 got %d, socket 1 got %d of %d", g0, len(ports[0]), len(ports[1]), flows*repeat)
			if sum != flows*repeat {
				t.Fatalf("sockets got %d+%d = %d frames, sent %d", len(ports[0]), len(ports[1]), sum, flows*repeat)
			}
			if tc.balanced && (len(ports[0]) == 0 || len(ports[1]) == 0) {
				t.Errorf("%s fanout left a socket idle: %d / %d", tc.mode, len(ports[0]), len(ports[1]))
			}
			if tc.mode == FanoutHash {
				owner := map[uint16]int{}
				for i, ps := range ports {
					for _, p := range ps {
						if o, ok := owner[p]; ok && o != i {
							t.Fatalf("flow %d went to both sockets", p)
						}
						owner[p] = i
					}
				}
			}
			for i, s := range srcs {
				st, err := s.Stats()
				if err != nil {
					t.Fatalf("Stats: %v", err)
				}
				if st.Packets != uint64(len(ports[i])) || st.Drops != 0 {
					t.Errorf("socket %d: Stats = %+v, read %d", i, st, len(ports[i]))
				}
			}
		})
	}
}

// TestContextCancel checks that a cancelled context ends the read loop
// within one poll timeout.
func TestContextCancel(t *testing.T) {
	tb := newTestbed(t)
	src := tb.open(t, Config{Filter: udpDstPort9999, NumBlocks: 2, BlockSize: 1 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		frames := make([]capture.Frame, 16)
		for {
			if _, err := src.ReadBatch(ctx, frames); err != nil {
				errc <- err
				return
			}
		}
	}()
	time.Sleep(150 * time.Millisecond)
	cancelled := time.Now()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(cancelled); d > DefaultTimeout+200*time.Millisecond {
			t.Errorf("returned %v after cancel, want within about %v", d, DefaultTimeout)
		}
		t.Logf("returned %v after cancel", time.Since(cancelled))
	case <-time.After(5 * time.Second):
		t.Fatal("ReadBatch did not return after cancel")
	}
}

// TestCloseUnblocks checks that Close wakes a ReadBatch waiting in poll
// even with a long timeout.
func TestCloseUnblocks(t *testing.T) {
	tb := newTestbed(t)
	src := tb.open(t, Config{Filter: udpDstPort9999, NumBlocks: 2, BlockSize: 1 << 20, Timeout: time.Minute})
	errc := make(chan error, 1)
	go func() {
		frames := make([]capture.Frame, 16)
		_, err := src.ReadBatch(context.Background(), frames)
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	closed := time.Now()
	if err := src.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("err = %v, want net.ErrClosed", err)
		}
		t.Logf("returned %v after Close", time.Since(closed))
	case <-time.After(5 * time.Second):
		t.Fatal("ReadBatch did not return after Close")
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := src.Stats(); err != nil {
		t.Errorf("Stats after Close: %v", err)
	}
	if _, err := src.ReadBatch(context.Background(), make([]capture.Frame, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadBatch after Close: %v, want net.ErrClosed", err)
	}
}

// TestHeartbeat checks that an idle source returns empty batches.
func TestHeartbeat(t *testing.T) {
	tb := newTestbed(t)
	src := tb.open(t, Config{Filter: udpDstPort9999, NumBlocks: 2, BlockSize: 1 << 20, Timeout: 20 * time.Millisecond})
	start := time.Now()
	n, err := src.ReadBatch(context.Background(), make([]capture.Frame, 4))
	if n != 0 || err != nil {
		t.Fatalf("ReadBatch = %d, %v; want 0, nil", n, err)
	}
	if d := time.Since(start); d < 15*time.Millisecond || d > time.Second {
		t.Errorf("heartbeat after %v, want about 20ms", d)
	}
}

func TestOpenMissingInterface(t *testing.T) {
	tb := newTestbed(t)
	err := inNS(tb.recvNS, func() error {
		s, err := Open(Config{Iface: "eth9"})
		if err == nil {
			s.Close()
		}
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "interface eth9 not found") || !errors.Is(err, netif.ErrNotFound) {
		t.Fatalf("err = %v, want interface eth9 not found", err)
	}
}

// TestOpenWithoutCapNetRaw drops CAP_NET_RAW from this thread's effective
// set and expects an error wrapping capture.ErrNotSupported.
func TestOpenWithoutCapNetRaw(t *testing.T) {
	tb := newTestbed(t)
	err := inNS(tb.recvNS, func() error {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return err
		}
		saved := data
		data[0].Effective &^= 1 << unix.CAP_NET_RAW
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return err
		}
		s, openErr := Open(Config{Iface: recvIf})
		if openErr == nil {
			s.Close()
		}
		if err := unix.Capset(&hdr, &saved[0]); err != nil {
			runtime.LockOSThread() // never reuse this thread
			return errors.Join(openErr, err)
		}
		return openErr
	})
	if !errors.Is(err, capture.ErrNotSupported) || !errors.Is(err, unix.EPERM) {
		t.Fatalf("err = %v, want capture.ErrNotSupported and EPERM", err)
	}
	t.Log(err)
}

func TestOpenGroupErrors(t *testing.T) {
	if _, err := OpenGroup(Config{Iface: "lo"}, 0); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("n=0 without Workers: %v", err)
	}
}

// TestDropsCounted stalls the reader so that a small ring overflows, then
// checks that every frame sent is either read or counted as a drop.
func TestDropsCounted(t *testing.T) {
	tb := newTestbed(t)
	src := tb.open(t, Config{Filter: udpDstPort9999, NumBlocks: 2, BlockSize: 64 << 10, BlockTimeout: time.Second})
	const sent = 5000 // about 880 KiB of ring space, 128 KiB available
	sendFlows(t, tb, flowSet{first: 40000, n: sent}, 1, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	frames := make([]capture.Frame, 64)
	read := 0
	for heartbeats := 0; heartbeats < 15; { // blocks retire within 1 s
		n, err := src.ReadBatch(ctx, frames)
		if err != nil {
			t.Fatalf("ReadBatch: %v", err)
		}
		if n == 0 {
			heartbeats++
		}
		read += n
	}
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read %d, stats %+v, queue freezes %d", read, st, src.QueueFreezes())
	if st.Drops == 0 || st.Packets != uint64(read) || st.Packets+st.Drops != sent {
		t.Errorf("read %d, Stats %+v: want drops > 0, Packets = read, Packets+Drops = %d", read, st, sent)
	}
	if src.QueueFreezes() == 0 {
		t.Error("no queue freeze counted")
	}
}
