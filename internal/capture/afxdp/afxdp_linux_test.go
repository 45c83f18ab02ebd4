//go:build linux

package afxdp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// traffic is the outcome of one run of sendAndReceive.
type traffic struct {
	perQueue []uint64 // test frames per socket (per source)
	seen     []uint32 // times each sequence number arrived
	stray    uint64   // frames that are not test frames
	wrong    uint64   // test frames with a destination port not expected
	elapsed  time.Duration
}

// sendAndReceive sends n frames from two sender sockets, frame i with the
// ports of ports(i), and reads all sockets until every frame with want(i)
// has arrived (or 20 s pass), plus a grace period to catch duplicates.
// Senders stay at most window frames ahead of the receivers, so the test
// measures lossless delivery rather than ring sizes.
func sendAndReceive(t testing.TB, tb *testbed, socks []*Socket, n int, ports func(i int) (sport, dport uint16), want func(i int) bool) traffic {
	t.Helper()
	return sendAndReceiveWindow(t, tb, sources(socks), n, ports, want, 1024)
}

// sources returns socks as capture sources.
func sources(socks []*Socket) []capture.Source {
	out := make([]capture.Source, len(socks))
	for i, s := range socks {
		out[i] = s
	}
	return out
}

// sendAndReceiveWindow is sendAndReceive with a given window; with a
// window of n or more the senders run free and frames may drop.
func sendAndReceiveWindow(t testing.TB, tb *testbed, socks []capture.Source, n int, ports func(i int) (sport, dport uint16), want func(i int) bool, window int64) traffic {
	t.Helper()
	res := traffic{perQueue: make([]uint64, len(socks)), seen: make([]uint32, n)}
	expect := 0
	for i := range n {
		if want(i) {
			expect++
		}
	}
	var received, wanted atomic.Int64
	seen := make([]atomic.Uint32, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := make(chan error, len(socks)+2)
	for qi, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			frames := make([]capture.Frame, 64)
			var mine, stray, wrong uint64
			defer func() {
				mu.Lock()
				res.perQueue[qi] += mine
				res.stray += stray
				res.wrong += wrong
				mu.Unlock()
			}()
			for {
				k, err := s.ReadBatch(ctx, frames)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						errs <- err
					}
					return
				}
				for _, f := range frames[:k] {
					seq, dport, ok := frameSeq(f.Data)
					if !ok || int(seq) >= n {
						stray++
						continue
					}
					if !want(int(seq)) {
						wrong++
					}
					_, dp := ports(int(seq))
					if dp != dport || f.WireLen != len(f.Data) || f.TS == 0 {
						wrong++
					}
					seen[seq].Add(1)
					mine++
					wanted.Add(1)
				}
				received.Add(int64(k))
			}
		}()
	}

	start := time.Now()
	var sent atomic.Int64 // frames sent that should arrive
	var swg sync.WaitGroup
	for g := range 2 {
		snd := tb.sender(t)
		if g == 0 {
			start = time.Now()
		}
		swg.Add(1)
		go func() {
			defer swg.Done()
			buf := make([]byte, 128)
			for i := g; i < n; i += 2 {
				for sent.Load()-wanted.Load() > window {
					runtime.Gosched()
				}
				sport, dport := ports(i)
				if err := snd.send(testFrame(buf, sport, dport, uint32(i))); err != nil {
					errs <- err
					return
				}
				if want(i) {
					sent.Add(1)
				}
			}
		}()
	}
	swg.Wait()
	// Wait for the rest; give up when nothing arrives for 500 ms.
	last, lastChange := wanted.Load(), time.Now()
	for last < int64(expect) && time.Since(lastChange) < 500*time.Millisecond {
		time.Sleep(time.Millisecond)
		if w := wanted.Load(); w != last {
			last, lastChange = w, time.Now()
		}
	}
	res.elapsed = time.Since(start)
	time.Sleep(200 * time.Millisecond) // duplicates or extras would show now
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("traffic: %v", err)
	}
	for i := range seen {
		res.seen[i] = seen[i].Load()
	}
	return res
}

// TestReceiveAllQueues sends 20,000 UDP frames over 512 flows through a
// 4-queue veth and checks that the per-queue sockets receive each exactly
// once, in native and generic XDP mode.
func TestReceiveAllQueues(t *testing.T) {
	for _, mode := range []AttachMode{ModeNative, ModeGeneric} {
		t.Run(mode.String(), func(t *testing.T) {
			tb := newTestbed(t)
			socks, prog := tb.openAll(t, Config{Program: ProgramOptions{Mode: mode}})
			if len(socks) != numQueues {
				t.Fatalf("OpenAll opened %d sockets, want %d", len(socks), numQueues)
			}
			if prog.Mode() != mode {
				t.Fatalf("attached in %s mode, want %s", prog.Mode(), mode)
			}
			for _, s := range socks {
				if s.ZeroCopy() {
					t.Logf("queue %d: zero-copy", s.Queue())
				} else {
					t.Logf("queue %d: copy mode; fallbacks: %q", s.Queue(), s.Fallbacks())
				}
			}

			const n = 20000
			ports := func(i int) (uint16, uint16) { return uint16(20000 + i%512), 9999 }
			res := sendAndReceive(t, tb, socks, n, ports, func(int) bool { return true })

			var total uint64
			used := 0
			for _, c := range res.perQueue {
				total += c
				if c > 0 {
					used++
				}
			}
			t.Logf("%s: %d frames in %v (%.0f pps lossless, flow-controlled), per queue %v",
				mode, total, res.elapsed.Round(time.Millisecond), float64(total)/res.elapsed.Seconds(), res.perQueue)
			if total != n {
				t.Errorf("received %d frames over all queues, want %d", total, n)
			}
			if used < 2 {
				t.Errorf("only %d queues used, want the flows spread over several: %v", used, res.perQueue)
			}
			if res.stray != 0 || res.wrong != 0 {
				t.Errorf("%d stray frames, %d test frames with wrong contents", res.stray, res.wrong)
			}
			missing, dup := 0, 0
			for _, c := range res.seen {
				switch {
				case c == 0:
					missing++
				case c > 1:
					dup++
				}
			}
			if missing != 0 || dup != 0 {
				t.Errorf("%d sequence numbers missing, %d duplicated", missing, dup)
			}

			ctr, err := prog.Counters()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("xdp counters: %v", ctr)
			for name, want := range map[string]uint64{
				"redirected": n, "ipv4": n, "udp": n, "redirect_failed": 0,
				"filtered_out": 0, "parse_errors": 0, "other_l3": 0, "redirected_bytes": n * 60,
			} {
				if ctr[name] != want {
					t.Errorf("counter %s = %d, want %d", name, ctr[name], want)
				}
			}
			var sum capture.Stats
			for _, s := range socks {
				st, err := s.Stats()
				if err != nil {
					t.Fatal(err)
				}
				x, _ := s.XDPStats()
				if x != (XDPStats{}) {
					t.Logf("queue %d: %+v", s.Queue(), x)
				}
				sum.Packets += st.Packets
				sum.Drops += st.Drops
			}
			if sum.Packets != n || sum.Drops != 0 {
				t.Errorf("socket stats: %d packets %d drops, want %d and 0", sum.Packets, sum.Drops, n)
			}
		})
	}
}

// TestPortFilter turns the pre-filter on for port 9999 and sends 1,000
// frames to 9999 and 1,000 to 9998.
func TestPortFilter(t *testing.T) {
	tb := newTestbed(t)
	socks, prog := tb.openAll(t, Config{})
	if err := prog.SetPortFilter([]uint16{9999}); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	ports := func(i int) (uint16, uint16) { return uint16(30000 + i%256), uint16(9998 + (i+1)%2) }
	want := func(i int) bool { _, d := ports(i); return d == 9999 }
	res := sendAndReceive(t, tb, socks, n, ports, want)
	var total uint64
	for _, c := range res.perQueue {
		total += c
	}
	if total != n/2 || res.wrong != 0 || res.stray != 0 {
		t.Errorf("sockets got %d frames (%d with port 9998, %d stray), want exactly %d to 9999", total, res.wrong, res.stray, n/2)
	}
	ctr, err := prog.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if ctr["filtered_out"] != n/2 || ctr["redirected"] != n/2 {
		t.Errorf("filtered_out %d, redirected %d, want %d each", ctr["filtered_out"], ctr["redirected"], n/2)
	}

	// Off again: the next frames all arrive.
	if err := prog.SetPortFilter(nil); err != nil {
		t.Fatal(err)
	}
	res = sendAndReceive(t, tb, socks, 100, ports, func(int) bool { return true })
	total = 0
	for _, c := range res.perQueue {
		total += c
	}
	if total != 100 {
		t.Errorf("filter off: %d frames, want 100", total)
	}
}

// TestReadBatchAllocs checks that ReadBatch allocates nothing, with frames
// waiting and on the empty (heartbeat) path.
func TestReadBatchAllocs(t *testing.T) {
	tb := newTestbed(t)
	socks, _ := tb.openAll(t, Config{Timeout: time.Millisecond})
	// One flow: one queue.
	snd := tb.sender(t)
	buf := make([]byte, 128)
	for i := range 1000 {
		if err := snd.send(testFrame(buf, 40000, 9999, uint32(i))); err != nil {
			t.Fatal(err)
		}
	}
	var s *Socket
	deadline := time.Now().Add(5 * time.Second)
	for s == nil && time.Now().Before(deadline) {
		for _, c := range socks {
			if c.rx.available() == 1000 {
				s = c
			}
		}
	}
	if s == nil {
		t.Fatal("1000 frames did not land on one queue")
	}
	frames := make([]capture.Frame, 8)
	ctx := context.Background()
	got := 0
	allocs := testing.AllocsPerRun(200, func() {
		n, err := s.ReadBatch(ctx, frames)
		if err != nil {
			t.Fatal(err)
		}
		got += n
	})
	if allocs != 0 {
		t.Errorf("ReadBatch: %v allocs per call, want 0", allocs)
	}
	if got != 1000 {
		t.Errorf("read %d frames, want 1000", got)
	}
}

// TestCloseAndCancel checks that a blocked ReadBatch returns on Close
// (net.ErrClosed) and on a done context.
func TestCloseAndCancel(t *testing.T) {
	tb := newTestbed(t)
	socks, _ := tb.openAll(t, Config{Timeout: 50 * time.Millisecond})
	frames := make([]capture.Frame, 8)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := socks[0].ReadBatch(ctx, frames); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadBatch with done ctx: %v, want context.Canceled", err)
	}
	if n, err := socks[0].ReadBatch(context.Background(), frames); n != 0 || err != nil {
		t.Errorf("idle ReadBatch: %d, %v, want a heartbeat (0, nil)", n, err)
	}

	s := socks[1]
	closeWakesReader(t, s)
	if _, err := s.Stats(); err != nil {
		t.Errorf("Stats after Close: %v", err)
	}
}

// TestGroups reads the 4 queues through 1 and through 2 groups and checks
// that 20,000 frames over 512 flows arrive exactly once, that every group
// delivers, and that the group's counters add up its sockets'.
func TestGroups(t *testing.T) {
	for _, groups := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d", groups), func(t *testing.T) {
			tb := newTestbed(t)
			socks, _ := tb.openAll(t, Config{})
			srcs, err := Groups(socks, groups)
			if err != nil {
				t.Fatal(err)
			}
			if len(srcs) != groups {
				t.Fatalf("Groups made %d sources, want %d", len(srcs), groups)
			}
			for _, g := range srcs {
				if n := len(g.(*Group).Sockets()); n != numQueues/groups {
					t.Fatalf("group of %d sockets, want %d", n, numQueues/groups)
				}
			}
			const n = 20000
			ports := func(i int) (uint16, uint16) { return uint16(20000 + i%512), 9999 }
			res := sendAndReceiveWindow(t, tb, srcs, n, ports, func(int) bool { return true }, 1024)
			var total uint64
			for i, c := range res.perQueue {
				total += c
				if c == 0 {
					t.Errorf("group %d received nothing: %v", i, res.perQueue)
				}
			}
			if total != n || res.stray != 0 || res.wrong != 0 {
				t.Errorf("received %d frames (%d stray, %d wrong), want %d", total, res.stray, res.wrong, n)
			}
			for i, c := range res.seen {
				if c != 1 {
					t.Fatalf("sequence %d arrived %d times", i, c)
				}
			}
			var sum uint64
			for _, g := range srcs {
				st, err := g.Stats()
				if err != nil {
					t.Fatal(err)
				}
				sum += st.Packets
			}
			if sum != n {
				t.Errorf("group stats: %d packets, want %d", sum, n)
			}
			// Close wakes a blocked reader and closes the sockets.
			g := srcs[0]
			closeWakesReader(t, g)
			if !g.(*Group).Sockets()[0].closed.Load() {
				t.Error("group Close left its sockets open")
			}
		})
	}
}

// closeWakesReader checks that Close returns a ReadBatch blocked in
// another goroutine with net.ErrClosed, and that a second Close is a
// no-op.
func closeWakesReader(t *testing.T, src capture.Source) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		frames := make([]capture.Frame, 8)
		var err error
		for err == nil {
			_, err = src.ReadBatch(context.Background(), frames)
		}
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadBatch after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadBatch did not return after Close")
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
