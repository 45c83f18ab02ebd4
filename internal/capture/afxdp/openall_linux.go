//go:build linux

package afxdp

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/bpf"
	"github.com/pktvisor-go/pktvisor/internal/capture/netif"
)

// OpenAll loads and attaches the XDP program to iface (cfg.Program) and
// opens one socket per receive queue, registered with it; read each socket
// from its own goroutine. cfg.Iface and cfg.Queue are ignored. It runs in
// the network namespace of the calling thread.
//
// The queue count is the interface's IFLA_NUM_RX_QUEUES (netlink, which,
// unlike /sys/class/net, answers for the caller's namespace), at most
// [bpf.MaxQueues]. A device can use fewer queues than it has
// (ethtool -L): binding to a queue beyond the ones in use fails with
// EINVAL, and OpenAll stops there, keeping the sockets of the lower
// queues. On error nothing stays open or attached.
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
	prog, err := LoadProgram(iface, cfg.Program)
	if err != nil {
		return nil, nil, err
	}
	var socks []*Socket
	defer func() {
		if err != nil {
			for _, s := range socks {
				s.Close()
			}
			prog.Close()
		}
	}()
	for q := range n {
		cfg.Queue = q
		s, err := Open(cfg, prog)
		if err != nil {
			if q > 0 && errors.Is(err, unix.EINVAL) {
				break // fewer queues in use than allocated
			}
			return nil, nil, err
		}
		socks = append(socks, s)
	}
	return socks, prog, nil
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
