//go:build linux

package afxdp

import (
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/bpf"
	"github.com/pktvisor-go/pktvisor/internal/capture/netif"
)

// OpenAll opens one socket per receive queue of iface, then loads and
// attaches the XDP program (cfg.Program) and registers the sockets with
// it; read each socket from its own goroutine. cfg.Iface and cfg.Queue are
// ignored. It runs in the network namespace of the calling thread.
//
// The queue count is the interface's IFLA_NUM_RX_QUEUES (netlink, which,
// unlike /sys/class/net, answers for the caller's namespace), at most
// [bpf.MaxQueues]. A device can use fewer queues than it has
// (ethtool -L): binding to a queue beyond the ones in use fails with
// EINVAL, and OpenAll stops there, keeping the sockets of the lower
// queues. On error nothing stays open or attached.
//
// The sockets are bound before the program is attached because the kernel
// lets one socket bind a queue: of two captures starting on one interface
// at once, one gets EBUSY before it touches the XDP hook, so it never
// detaches the other's program. A queue that stays busy, or an attached
// xdp_capture that feeds sockets, makes OpenAll return an [*InUseError]
// (errors.Is [ErrInUse]) and leaves the running capture alone. A queue
// released by a capture that just closed (or was killed) stays busy for a
// while (the kernel frees it after an RCU grace period); OpenAll retries
// the bind for up to 2 s while no live capture is attached.
func OpenAll(iface string, cfg Config) (_ []*Socket, _ *Program, err error) {
	cfg.Iface = iface
	cfg.Queue = 0
	if _, err := cfg.withDefaults(); err != nil {
		return nil, nil, fmt.Errorf("open af_xdp on %s: %w", iface, err)
	}
	n, err := rxQueues(iface)
	if err != nil {
		return nil, nil, err
	}
	var socks []*Socket
	var prog *Program
	defer func() {
		if err != nil {
			for _, s := range socks {
				s.Close()
			}
			if prog != nil {
				prog.Close()
			}
		}
	}()
	for q := range n {
		cfg.Queue = q
		s, err := openQueue(cfg)
		if err != nil {
			if q > 0 && errors.Is(err, unix.EINVAL) {
				break // fewer queues in use than allocated
			}
			return nil, nil, err
		}
		socks = append(socks, s)
	}
	prog, err = LoadProgram(iface, cfg.Program)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range socks {
		if err := prog.Register(s.queue, s.fd); err != nil {
			return nil, nil, fmt.Errorf("open af_xdp on %s queue %d: %w", iface, s.queue, err)
		}
	}
	return socks, prog, nil
}

// busyWait is how long OpenAll retries binding a busy queue while no live
// capture is attached to the interface.
const busyWait = 2 * time.Second

// openQueue opens cfg.Queue without registering it. On EBUSY it looks
// for the capture that holds the interface: an attached program with
// sockets makes it return an [*InUseError] at once; otherwise it retries
// until busyWait has passed and then returns an InUseError for the queue.
func openQueue(cfg Config) (*Socket, error) {
	deadline := time.Now().Add(busyWait)
	for {
		s, err := Open(cfg, nil)
		if !errors.Is(err, unix.EBUSY) {
			return s, err
		}
		nl, lerr := netlink.LinkByName(cfg.Iface)
		if lerr != nil {
			return nil, err
		}
		iu, cerr := captureInUse(nl, true)
		if cerr != nil {
			return nil, errors.Join(err, cerr)
		}
		if iu != nil {
			iu.Queue, iu.Err = cfg.Queue, err
			return nil, iu
		}
		if time.Now().After(deadline) {
			return nil, &InUseError{Iface: cfg.Iface, Queue: cfg.Queue, Err: err}
		}
		time.Sleep(20 * time.Millisecond) // each try maps a new UMEM
	}
}

// rxQueues returns the number of receive queues of iface, capped at
// bpf.MaxQueues.
func rxQueues(iface string) (int, error) {
	l, err := netlink.LinkByName(iface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return 0, fmt.Errorf("open af_xdp on %s: interface %s %w", iface, iface, netif.ErrNotFound)
		}
		return 0, fmt.Errorf("open af_xdp on %s: look up interface: %w", iface, err)
	}
	n := l.Attrs().NumRxQueues
	if n < 1 {
		n = 1
	}
	return min(n, bpf.MaxQueues), nil
}
