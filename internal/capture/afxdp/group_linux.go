//go:build linux

package afxdp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

var _ capture.Source = (*Group)(nil)

// Group reads several sockets (typically the receive queues of one
// interface) from one goroutine: one wait covers all of them, and a batch
// takes frames from each in turn. When an interface has more queues than
// the machine has CPUs for capture, a goroutine per queue costs a wake-up
// (and, with the Go scheduler, a thread hand-off) per queue where a group
// costs one per batch.
//
// The Group owns its sockets: [Group.Close] closes them, and they must not
// be read directly. [Socket.Stats] and [Socket.XDPStats] stay usable.
type Group struct {
	socks []*Socket
	iface string

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	efd       int // eventfd that wakes a blocked poll on Close

	mu   sync.Mutex // held by ReadBatch and by Close while it closes the sockets
	pfd  []unix.PollFd
	next int // socket the next batch starts with
	wait int // poll timeout, ms
}

// NewGroup groups socks (at least one, none read elsewhere) for reading
// from one goroutine. The poll timeout of ReadBatch is the first socket's.
func NewGroup(socks []*Socket) (*Group, error) {
	if len(socks) == 0 {
		return nil, fmt.Errorf("af_xdp group: %w: no sockets", ErrInvalidConfig)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("af_xdp group on %s: create eventfd: %w", socks[0].iface, err)
	}
	g := &Group{socks: socks, iface: socks[0].iface, efd: efd, wait: socks[0].timeoutMs}
	for _, s := range socks {
		g.pfd = append(g.pfd, unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN})
	}
	g.pfd = append(g.pfd, unix.PollFd{Fd: int32(efd), Events: unix.POLLIN})
	return g, nil
}

// Sockets returns the grouped sockets.
func (g *Group) Sockets() []*Socket { return g.socks }

// ReadBatch is [Socket.ReadBatch] over all the group's sockets: it first
// gives every socket's previous frames back to the kernel, then takes the
// ready frames of each socket in turn (starting one socket further each
// call, so no queue is favoured), coalescing wake-ups the same way. Frame
// data stays valid until the next ReadBatch or Close. It does not allocate.
func (g *Group) ReadBatch(ctx context.Context, frames []capture.Frame) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed.Load() {
		return 0, g.errClosed()
	}
	for _, s := range g.socks {
		s.recycle()
	}
	if len(frames) == 0 {
		return 0, nil
	}
	ready, err := waitReady(ctx, g.socks, min(len(frames), coalesceMax), g.pfd, g.wait, &g.closed)
	if !ready {
		return 0, err
	}
	return g.take(frames), nil
}

// waitReady waits until socks have frames to read: at once when want
// frames are ready, else after one coalescing sleep when any is, else
// until poll reports one. pfd holds one entry per socket and last the
// eventfd that Close writes. It returns false and a nil error after
// timeoutMs without frames (a heartbeat); errors are ctx's, one wrapping
// [net.ErrClosed] once closed is set, or poll's.
func waitReady(ctx context.Context, socks []*Socket, want int, pfd []unix.PollFd, timeoutMs int, closed *atomic.Bool) (bool, error) {
	iface := socks[0].iface
	where := func() string {
		if len(socks) == 1 {
			return fmt.Sprintf("%s queue %d", iface, socks[0].queue)
		}
		return iface
	}
	slept := false
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if avail := available(socks); avail > 0 && (slept || int(avail) >= want) {
			return true, nil
		}
		if !slept {
			// Less than a batch waiting: give the rings coalesceNanos to
			// fill instead of waking per frame (TPACKET_V3 hands over a
			// block at a time). Under load this is the only syscall per
			// batch; poll below only runs once the rings stay empty.
			slept = true
			capture.CoalesceSleep(coalesceNanos)
			continue
		}
		slept = false
		n, err := unix.Poll(pfd, timeoutMs)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return false, fmt.Errorf("read af_xdp on %s: poll: %w", where(), err)
		}
		if pfd[len(socks)].Revents != 0 || closed.Load() {
			return false, fmt.Errorf("read af_xdp on %s: %w", where(), net.ErrClosed)
		}
		if n == 0 && available(socks) == 0 {
			return false, nil // heartbeat
		}
		for i, s := range socks {
			if pfd[i].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
				return false, fmt.Errorf("read af_xdp on %s queue %d: socket error (poll events %#x)", iface, s.queue, pfd[i].Revents)
			}
		}
	}
}

// available returns the frames ready on socks.
func available(socks []*Socket) uint32 {
	var n uint32
	for _, s := range socks {
		n += s.rx.available()
	}
	return n
}

// take fills frames from the sockets in turn, starting at g.next.
func (g *Group) take(frames []capture.Frame) int {
	n := 0
	k := len(g.socks)
	for i := 0; i < k && n < len(frames); i++ {
		s := g.socks[(g.next+i)%k]
		if avail := s.rx.available(); avail > 0 {
			n += s.take(frames[n:], avail)
		}
	}
	g.next = (g.next + 1) % k
	return n
}

// Stats sums the sockets' counters ([Socket.Stats]).
func (g *Group) Stats() (capture.Stats, error) {
	var t capture.Stats
	var errs []error
	for _, s := range g.socks {
		st, err := s.Stats()
		if err != nil {
			errs = append(errs, err)
		}
		t.Packets += st.Packets
		t.Drops += st.Drops
		t.IfDrops += st.IfDrops
	}
	return t, errors.Join(errs...)
}

// LinkType returns 1 (LINKTYPE_ETHERNET).
func (g *Group) LinkType() uint32 { return linkTypeEthernet }

// Close closes every socket of the group. A ReadBatch blocked in another
// goroutine returns an error wrapping [net.ErrClosed]. Close is idempotent.
func (g *Group) Close() error {
	g.closeOnce.Do(func() {
		g.closed.Store(true)
		one := [8]byte{1}
		_, _ = unix.Write(g.efd, one[:])
		g.mu.Lock()
		defer g.mu.Unlock()
		var errs []error
		for _, s := range g.socks {
			if err := s.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if err := unix.Close(g.efd); err != nil {
			errs = append(errs, fmt.Errorf("close af_xdp group on %s: %w", g.iface, err))
		}
		g.closeErr = errors.Join(errs...)
	})
	return g.closeErr
}

func (g *Group) errClosed() error {
	return fmt.Errorf("read af_xdp on %s: %w", g.iface, net.ErrClosed)
}

// Groups spreads socks over at most n groups, socket i into group i mod n,
// and returns one [capture.Source] per group: the socket itself when it
// is alone in its group. On error the groups made so far are undone (their
// sockets stay open).
func Groups(socks []*Socket, n int) ([]capture.Source, error) {
	n = max(1, min(n, len(socks)))
	if n == len(socks) {
		out := make([]capture.Source, len(socks))
		for i, s := range socks {
			out[i] = s
		}
		return out, nil
	}
	parts := make([][]*Socket, n)
	for i, s := range socks {
		parts[i%n] = append(parts[i%n], s)
	}
	out := make([]capture.Source, 0, n)
	for _, p := range parts {
		g, err := NewGroup(p)
		if err != nil {
			for _, o := range out {
				unix.Close(o.(*Group).efd)
			}
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}
