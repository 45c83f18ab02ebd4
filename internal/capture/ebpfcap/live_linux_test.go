//go:build linux

package ebpfcap

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

const serverPort = 5354

// captured is what a capture goroutine saw of the test flow.
type captured struct {
	in, out     []uint32 // times each sequence number was seen per direction
	inAll       uint64   // ingress frames delivered, test flow or not
	outAll      uint64   // egress frames delivered, test flow or not
	stray       uint64   // frames that are not the test flow
	readerCPU   time.Duration
	inN, outN   atomic.Int64 // distinct test frames seen so far
	readErr     error
	firstTS     int64
	lastTS      int64
	badWireLens uint64
}

// startCapture reads s on a locked OS thread until ctx is done, sorting the
// frames of the UDP flow to and from serverPort by direction and
// sequence number; n is the number of sequence numbers.
func startCapture(ctx context.Context, s *Source, n int) (*captured, func() *captured) {
	c := &captured{in: make([]uint32, n), out: make([]uint32, n)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var ru0, ru1 unix.Rusage
		_ = unix.Getrusage(unix.RUSAGE_THREAD, &ru0)
		defer func() {
			_ = unix.Getrusage(unix.RUSAGE_THREAD, &ru1)
			c.readerCPU = time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
		}()
		frames := make([]capture.Frame, 64)
		dirs := make([]Direction, 64)
		for {
			k, err := s.ReadBatchDir(ctx, frames, dirs)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					c.readErr = err
				}
				return
			}
			for i, f := range frames[:k] {
				if c.firstTS == 0 {
					c.firstTS = f.TS
				}
				c.lastTS = f.TS
				if f.WireLen < len(f.Data) {
					c.badWireLens++
				}
				if dirs[i] == Ingress {
					c.inAll++
				} else {
					c.outAll++
				}
				sport, dport, seq, ok := udpInfo(f.Data)
				switch {
				case ok && dirs[i] == Ingress && dport == serverPort && int(seq) < n:
					if c.in[seq]++; c.in[seq] == 1 {
						c.inN.Add(1)
					}
				case ok && dirs[i] == Egress && sport == serverPort && int(seq) < n:
					if c.out[seq]++; c.out[seq] == 1 {
						c.outN.Add(1)
					}
				default:
					c.stray++
				}
			}
		}
	}()
	return c, func() *captured { <-done; return c }
}

// echoServer answers every datagram on conn with the same bytes and
// records the sequence numbers it received.
func echoServer(conn *net.UDPConn, n int) (wait func() (distinct int)) {
	seen := make([]bool, n)
	distinct := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			k, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if k >= 4 {
				if seq := binary.BigEndian.Uint32(buf); int(seq) < n && !seen[seq] {
					seen[seq] = true
					distinct++
				}
			}
			if _, err := conn.WriteToUDP(buf[:k], from); err != nil {
				return
			}
		}
	}()
	return func() int { conn.Close(); <-done; return distinct }
}

// TestLiveEcho sends N UDP datagrams from namespace B to a server in
// namespace A that answers each one, with the Source on A's veth: the
// server gets all N (the host keeps its traffic), the Source delivers N
// ingress and N egress frames of the flow and nothing else, and the
// kernel counters agree with what was delivered.
func TestLiveEcho(t *testing.T) {
	const n = 5000
	for _, mode := range []Mode{ModeAuto, ModeNative, ModeGeneric, ModeTCX} {
		t.Run(mode.String(), func(t *testing.T) {
			tb := newTestbed(t)
			s := tb.open(t, Config{Mode: mode, Timeout: 20 * time.Millisecond})
			t.Logf("ingress hook %s, fallbacks %q", s.Mode(), s.Fallbacks())
			if mode == ModeAuto && s.Mode() != ModeNative {
				t.Errorf("auto on veth chose %s, want native", s.Mode())
			}
			if mode != ModeAuto && s.Mode() != mode {
				t.Errorf("mode %s, want %s", s.Mode(), mode)
			}
			server := listenUDP(t, tb.agentNS, &net.UDPAddr{IP: agentIP, Port: serverPort})
			client := listenUDP(t, tb.peerNS, &net.UDPAddr{IP: peerIP})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, waitCapture := startCapture(ctx, s, n)
			waitServer := echoServer(server, n)

			var ru0, ru1 unix.Rusage
			_ = unix.Getrusage(unix.RUSAGE_SELF, &ru0)
			start := time.Now()
			replies := pingPong(t, client, n, 64)
			elapsed := time.Since(start)
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if c.inN.Load() == n && c.outN.Load() == n {
					break
				}
			}
			time.Sleep(100 * time.Millisecond) // catch duplicates and strays
			_ = unix.Getrusage(unix.RUSAGE_SELF, &ru1)
			cancel()
			c = waitCapture()
			got := waitServer()

			if c.readErr != nil {
				t.Errorf("capture: %v", c.readErr)
			}
			if got != n || replies != n {
				t.Errorf("server received %d distinct datagrams, client %d replies; want %d each", got, replies, n)
			}
			var inMiss, inDup, outMiss, outDup int
			for i := range n {
				inMiss, inDup = inMiss+b2i(c.in[i] == 0), inDup+b2i(c.in[i] > 1)
				outMiss, outDup = outMiss+b2i(c.out[i] == 0), outDup+b2i(c.out[i] > 1)
			}
			if inMiss+inDup+outMiss+outDup != 0 || c.stray != 0 || c.inAll != n || c.outAll != n {
				t.Errorf("ingress %d frames (missing %d, repeated %d), egress %d (missing %d, repeated %d), %d strays; want exactly %d each way",
					c.inAll, inMiss, inDup, c.outAll, outMiss, outDup, c.stray, n)
			}
			if c.badWireLens != 0 {
				t.Errorf("%d frames with WireLen < len(Data)", c.badWireLens)
			}
			if c.firstTS > c.lastTS || time.Duration(time.Now().UnixNano()-c.lastTS) > time.Minute || c.firstTS < start.UnixNano()-int64(time.Second) {
				t.Errorf("timestamps %d..%d not around the run starting at %d", c.firstTS, c.lastTS, start.UnixNano())
			}

			k, err := s.Counters()
			if err != nil {
				t.Fatal(err)
			}
			st, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]uint64{
				"ingress_captured_packets":     c.inAll,
				"egress_captured_packets":      c.outAll,
				"ingress_udp_packets":          n,
				"egress_udp_packets":           n,
				"ingress_ipv4_packets":         n,
				"egress_ipv4_packets":          n,
				"ingress_ringbuf_full_packets": 0,
				"egress_ringbuf_full_packets":  0,
				"ingress_filtered_out_packets": 0,
				"ingress_parse_errors_packets": 0,
				"delivered_packets":            c.inAll + c.outAll,
				"malformed_records":            0,
			} {
				if k[name] != want {
					t.Errorf("counter %s = %d, want %d", name, k[name], want)
				}
			}
			if st.Packets != 2*n || st.Drops != 0 {
				t.Errorf("stats %+v, want %d packets, 0 drops", st, 2*n)
			}
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			t.Logf("%s: %d requests + %d replies in %v: %.0f captured frames/s (ping-pong, window 64); reader thread CPU %v (%.2f µs/frame); process CPU %v (sender, server, reader)",
				s.Mode(), n, n, elapsed.Round(time.Millisecond), float64(2*n)/elapsed.Seconds(),
				c.readerCPU.Round(time.Millisecond), float64(c.readerCPU.Microseconds())/float64(2*n), cpu.Round(time.Millisecond))
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pingPong sends n datagrams of 18 bytes (sequence number first) from
// client to the server, at most window unanswered at a time, and returns
// how many distinct replies came back (it gives up 20 s after the last
// reply).
func pingPong(t *testing.T, client *net.UDPConn, n, window int) int {
	t.Helper()
	to := &net.UDPAddr{IP: agentIP, Port: serverPort}
	sem := make(chan struct{}, window)
	var wg sync.WaitGroup
	replies := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		seen := make([]bool, n)
		buf := make([]byte, 2048)
		for replies < n {
			_ = client.SetReadDeadline(time.Now().Add(20 * time.Second))
			k, _, err := client.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if k >= 4 {
				if seq := binary.BigEndian.Uint32(buf); int(seq) < n && !seen[seq] {
					seen[seq] = true
					replies++
				}
			}
			<-sem
		}
	}()
	msg := make([]byte, 18)
	for i := range n {
		sem <- struct{}{}
		binary.BigEndian.PutUint32(msg, uint32(i))
		if _, err := client.WriteToUDP(msg, to); err != nil {
			t.Errorf("send %d: %v", i, err)
			break
		}
	}
	wg.Wait()
	return replies
}

// TestLiveXDPBusy: with another XDP program on the interface (here a
// first Source in native mode), auto mode ends on TCX ingress, and both
// captures see the traffic.
func TestLiveXDPBusy(t *testing.T) {
	const n = 200
	tb := newTestbed(t)
	first := tb.open(t, Config{Mode: ModeNative, Timeout: 20 * time.Millisecond})
	second := tb.open(t, Config{Timeout: 20 * time.Millisecond})
	if second.Mode() != ModeTCX || len(second.Fallbacks()) != 2 {
		t.Fatalf("second Source: mode %s, fallbacks %q; want tcx after native and generic failed", second.Mode(), second.Fallbacks())
	}
	t.Logf("fallbacks: %q", second.Fallbacks())
	server := listenUDP(t, tb.agentNS, &net.UDPAddr{IP: agentIP, Port: serverPort})
	client := listenUDP(t, tb.peerNS, &net.UDPAddr{IP: peerIP})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c1, wait1 := startCapture(ctx, first, n)
	c2, wait2 := startCapture(ctx, second, n)
	waitServer := echoServer(server, n)
	if got := pingPong(t, client, n, 16); got != n {
		t.Errorf("%d replies, want %d", got, n)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if c1.inN.Load() == n && c1.outN.Load() == n && c2.inN.Load() == n && c2.outN.Load() == n {
			break
		}
	}
	cancel()
	c1, c2 = wait1(), wait2()
	if got := waitServer(); got != n {
		t.Errorf("server received %d, want %d", got, n)
	}
	for i, c := range []*captured{c1, c2} {
		if c.inN.Load() != n || c.outN.Load() != n || c.stray != 0 {
			t.Errorf("capture %d: %d ingress, %d egress, %d strays; want %d, %d, 0", i+1, c.inN.Load(), c.outN.Load(), c.stray, n, n)
		}
	}
}

// TestLiveRate floods the agent with UDP datagrams from one sender
// socket and reports what the capture keeps up with: frames per second
// delivered, ring buffer drops and the reader thread's CPU time. Every
// frame the XDP program saw is either delivered or counted as a drop.
func TestLiveRate(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test; skipped in -short mode")
	}
	const n = 300_000
	for _, mode := range []Mode{ModeNative, ModeGeneric} {
		t.Run(mode.String(), func(t *testing.T) {
			tb := newTestbed(t)
			s := tb.open(t, Config{Mode: mode, Timeout: 20 * time.Millisecond, Snaplen: 128})
			sink := listenUDP(t, tb.agentNS, &net.UDPAddr{IP: agentIP, Port: serverPort})
			var sunk atomic.Int64
			go func() {
				buf := make([]byte, 2048)
				for {
					if _, _, err := sink.ReadFromUDP(buf); err != nil {
						return
					}
					sunk.Add(1)
				}
			}()
			client := listenUDP(t, tb.peerNS, &net.UDPAddr{IP: peerIP})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, wait := startCapture(ctx, s, n)
			to := &net.UDPAddr{IP: agentIP, Port: serverPort}
			msg := make([]byte, 18)
			start := time.Now()
			sent := 0
			for i := range n {
				binary.BigEndian.PutUint32(msg, uint32(i))
				if _, err := client.WriteToUDP(msg, to); err == nil {
					sent++
				}
			}
			sendTime := time.Since(start)
			var k map[string]uint64
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				var err error
				if k, err = s.Counters(); err != nil {
					t.Fatal(err)
				}
				if k["delivered_packets"]+k["ingress_ringbuf_full_packets"] >= k["ingress_udp_packets"] {
					break
				}
			}
			elapsed := time.Since(start)
			cancel()
			c = wait()
			if c.readErr != nil {
				t.Errorf("capture: %v", c.readErr)
			}
			seen := k["ingress_udp_packets"]
			if c.inAll+k["ingress_ringbuf_full_packets"] != seen {
				t.Errorf("delivered %d + ring drops %d != %d frames the program saw", c.inAll, k["ingress_ringbuf_full_packets"], seen)
			}
			t.Logf("%s: sent %d in %v (%.0f/s); program saw %d; delivered %d (%.0f frames/s over %v), ring drops %d; host socket got %d; reader thread CPU %v = %.0f ns/frame, %.0f frames per CPU-second",
				s.Mode(), sent, sendTime.Round(time.Millisecond), float64(sent)/sendTime.Seconds(), seen,
				c.inAll, float64(c.inAll)/elapsed.Seconds(), elapsed.Round(time.Millisecond), k["ingress_ringbuf_full_packets"], sunk.Load(),
				c.readerCPU.Round(time.Millisecond), float64(c.readerCPU.Nanoseconds())/float64(max(c.inAll, 1)), float64(c.inAll)/c.readerCPU.Seconds())
		})
	}
}
