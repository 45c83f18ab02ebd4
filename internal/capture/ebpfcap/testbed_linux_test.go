//go:build linux

package ebpfcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Test addresses: the agent side 10.203.0.1 on ebpa0 in namespace A, the
// peer 10.203.0.2 on ebpb0 in namespace B; no default route, IPv6 off and
// static ARP, so nothing but the test's frames crosses the pair.
var (
	agentIP  = net.IPv4(10, 203, 0, 1).To4()
	peerIP   = net.IPv4(10, 203, 0, 2).To4()
	agentMAC = net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 0x01}
	peerMAC  = net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 0x02}
)

const (
	agentIf = "ebpa0"
	peerIf  = "ebpb0"
)

// testbed is a veth pair between two fresh network namespaces.
type testbed struct {
	agentNS, peerNS netns.NsHandle
}

// requireBPF skips tb unless it runs as root on a kernel that can load
// the programs.
func requireBPF(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN): run with go test -exec sudo")
	}
	if err := Probe(); err != nil {
		tb.Skipf("no eBPF pass-through capture here: %v", err)
	}
}

// inNS runs fn on an OS thread switched into ns and switches back. A
// thread that cannot switch back stays locked, so the runtime retires it.
func inNS(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter netns: %w", err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("return to netns: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// newNS creates an unnamed network namespace with IPv6 disabled.
func newNS() (netns.NsHandle, error) {
	var ns netns.NsHandle
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		ns, err = netns.New() // moves this thread into ns
		if err != nil {
			_ = netns.Set(orig)
			errc <- fmt.Errorf("create netns: %w", err) // thread stays locked
			return
		}
		for _, p := range []string{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"} {
			if werr := os.WriteFile(p, []byte("1"), 0); werr != nil && !errors.Is(werr, fs.ErrNotExist) {
				err = fmt.Errorf("disable ipv6: %w", werr)
			}
		}
		if serr := netns.Set(orig); serr != nil {
			ns.Close()
			errc <- serr
			return
		}
		runtime.UnlockOSThread()
		if err != nil {
			ns.Close()
		}
		errc <- err
	}()
	return ns, <-errc
}

// newTestbed builds the pair or skips tb; tb.Cleanup tears it down
// (deleting a namespace's last handle deletes the namespace and the veth
// with it; the link is deleted explicitly first all the same).
func newTestbed(tb testing.TB) *testbed {
	tb.Helper()
	requireBPF(tb)
	var t testbed
	var err error
	if t.agentNS, err = newNS(); err != nil {
		tb.Skipf("netns: %v", err)
	}
	tb.Cleanup(func() { t.agentNS.Close() })
	if t.peerNS, err = newNS(); err != nil {
		tb.Skipf("netns: %v", err)
	}
	tb.Cleanup(func() { t.peerNS.Close() })
	ha, err := netlink.NewHandleAt(t.agentNS)
	if err != nil {
		tb.Fatalf("netlink handle: %v", err)
	}
	tb.Cleanup(ha.Close)
	hp, err := netlink.NewHandleAt(t.peerNS)
	if err != nil {
		tb.Fatalf("netlink handle: %v", err)
	}
	tb.Cleanup(hp.Close)

	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: agentIf, HardwareAddr: agentMAC, NumTxQueues: 1, NumRxQueues: 1},
		PeerName:         peerIf,
		PeerHardwareAddr: peerMAC,
		PeerNamespace:    netlink.NsFd(t.peerNS),
		PeerNumTxQueues:  1,
		PeerNumRxQueues:  1,
	}
	if err := ha.LinkAdd(veth); err != nil {
		tb.Skipf("create veth: %v", err)
	}
	tb.Cleanup(func() {
		if l, err := ha.LinkByName(agentIf); err == nil {
			_ = ha.LinkDel(l) // deletes both ends
		}
	})
	setup := func(h *netlink.Handle, name string, ip net.IP) netlink.Link {
		tb.Helper()
		l, err := h.LinkByName(name)
		if err != nil {
			tb.Fatalf("find %s: %v", name, err)
		}
		if err := h.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: net.CIDRMask(24, 32)}}); err != nil {
			tb.Fatalf("address %s: %v", name, err)
		}
		if lo, err := h.LinkByName("lo"); err == nil {
			_ = h.LinkSetUp(lo)
		}
		if err := h.LinkSetUp(l); err != nil {
			tb.Fatalf("set %s up: %v", name, err)
		}
		return l
	}
	al := setup(ha, agentIf, agentIP)
	pl := setup(hp, peerIf, peerIP)
	for _, n := range []struct {
		h     *netlink.Handle
		neigh netlink.Neigh
	}{
		{hp, netlink.Neigh{LinkIndex: pl.Attrs().Index, IP: agentIP, HardwareAddr: agentMAC, State: netlink.NUD_PERMANENT}},
		{ha, netlink.Neigh{LinkIndex: al.Attrs().Index, IP: peerIP, HardwareAddr: peerMAC, State: netlink.NUD_PERMANENT}},
	} {
		if err := n.h.NeighSet(&n.neigh); err != nil {
			tb.Fatalf("static arp: %v", err)
		}
	}
	return &t
}

// open runs Open in the agent namespace; tb.Cleanup closes the Source.
func (t *testbed) open(tb testing.TB, cfg Config) *Source {
	tb.Helper()
	cfg.Iface = agentIf
	var s *Source
	if err := inNS(t.agentNS, func() (err error) { s, err = Open(cfg); return err }); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// listenUDP opens a UDP socket on addr in ns.
func listenUDP(tb testing.TB, ns netns.NsHandle, addr *net.UDPAddr) *net.UDPConn {
	tb.Helper()
	var c *net.UDPConn
	if err := inNS(ns, func() (err error) { c, err = net.ListenUDP("udp4", addr); return err }); err != nil {
		tb.Fatalf("listen udp in netns: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// udpFrame builds an Ethernet/IPv4/UDP frame from the peer to the agent
// with payload bytes of payload, the first four holding seq.
func udpFrame(sport, dport uint16, seq uint32, payload int) []byte {
	payload = max(payload, 4)
	f := make([]byte, 14+20+8+payload)
	copy(f[0:6], agentMAC)
	copy(f[6:12], peerMAC)
	binary.BigEndian.PutUint16(f[12:14], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:4], uint16(20+8+payload))
	ip[8], ip[9] = 64, unix.IPPROTO_UDP
	copy(ip[12:16], peerIP)
	copy(ip[16:20], agentIP)
	udp := f[34:42]
	binary.BigEndian.PutUint16(udp[0:2], sport)
	binary.BigEndian.PutUint16(udp[2:4], dport)
	binary.BigEndian.PutUint16(udp[4:6], uint16(8+payload))
	binary.BigEndian.PutUint32(f[42:46], seq)
	for i := 46; i < len(f); i++ {
		f[i] = byte(i)
	}
	return f
}

// udpInfo returns the ports and the first four payload bytes of an
// Ethernet/IPv4/UDP frame without options, ok false for anything else.
func udpInfo(f []byte) (sport, dport uint16, seq uint32, ok bool) {
	if len(f) < 46 || binary.BigEndian.Uint16(f[12:14]) != 0x0800 || f[14] != 0x45 || f[23] != unix.IPPROTO_UDP {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint16(f[34:36]), binary.BigEndian.Uint16(f[36:38]), binary.BigEndian.Uint32(f[42:46]), true
}
