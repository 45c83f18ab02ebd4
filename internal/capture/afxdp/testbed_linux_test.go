//go:build linux

package afxdp

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

// Test addresses: receiver 10.201.0.1 on xdpa0 in one namespace, sender
// 10.201.0.2 on xdpb0 in another; no default route, IPv6 off, so nothing
// but the test's frames crosses the pair.
var (
	recvIP  = net.IPv4(10, 201, 0, 1).To4()
	sendIP  = net.IPv4(10, 201, 0, 2).To4()
	recvMAC = net.HardwareAddr{0x02, 0xdf, 0, 0, 0, 0x01}
	sendMAC = net.HardwareAddr{0x02, 0xdf, 0, 0, 0, 0x02}
)

const (
	recvIf    = "xdpa0"
	sendIf    = "xdpb0"
	numQueues = 4
)

// testbed is a veth pair with numQueues queues per direction between two
// fresh network namespaces.
type testbed struct {
	recvNS, sendNS   netns.NsHandle
	recvIdx, sendIdx int
}

// requireAFXDP skips tb unless it runs as root on a kernel with AF_XDP.
func requireAFXDP(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root (CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW): run with go test -exec sudo")
	}
	if err := Probe(); err != nil {
		tb.Skipf("no AF_XDP here: %v", err)
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

// newTestbed builds the pair or skips tb; tb.Cleanup tears it down.
func newTestbed(tb testing.TB) *testbed {
	tb.Helper()
	requireAFXDP(tb)
	var t testbed
	var err error
	if t.recvNS, err = newNS(); err != nil {
		tb.Skipf("netns: %v", err)
	}
	tb.Cleanup(func() { t.recvNS.Close() })
	if t.sendNS, err = newNS(); err != nil {
		tb.Skipf("netns: %v", err)
	}
	tb.Cleanup(func() { t.sendNS.Close() })
	hr, err := netlink.NewHandleAt(t.recvNS)
	if err != nil {
		tb.Fatalf("netlink handle: %v", err)
	}
	tb.Cleanup(hr.Close)
	hs, err := netlink.NewHandleAt(t.sendNS)
	if err != nil {
		tb.Fatalf("netlink handle: %v", err)
	}
	tb.Cleanup(hs.Close)

	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: recvIf, HardwareAddr: recvMAC, NumTxQueues: numQueues, NumRxQueues: numQueues},
		PeerName:         sendIf,
		PeerHardwareAddr: sendMAC,
		PeerNamespace:    netlink.NsFd(t.sendNS),
		PeerNumTxQueues:  numQueues,
		PeerNumRxQueues:  numQueues,
	}
	if err := hr.LinkAdd(veth); err != nil {
		tb.Skipf("create veth: %v", err)
	}
	tb.Cleanup(func() {
		if l, err := hr.LinkByName(recvIf); err == nil {
			_ = hr.LinkDel(l) // deletes both ends
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
	t.recvIdx = setup(hr, recvIf, recvIP).Attrs().Index
	sl := setup(hs, sendIf, sendIP)
	t.sendIdx = sl.Attrs().Index
	// Static ARP both ways: no ARP frame reaches the receiver's XDP
	// program, not even the reply to the receiver's own request when its
	// stack answers a frame the pre-filter passed with ICMP (TESTBED §1).
	for _, n := range []struct {
		h     *netlink.Handle
		neigh netlink.Neigh
	}{
		{hs, netlink.Neigh{LinkIndex: t.sendIdx, IP: recvIP, HardwareAddr: recvMAC, State: netlink.NUD_PERMANENT}},
		{hr, netlink.Neigh{LinkIndex: t.recvIdx, IP: sendIP, HardwareAddr: sendMAC, State: netlink.NUD_PERMANENT}},
	} {
		if err := n.h.NeighSet(&n.neigh); err != nil {
			tb.Fatalf("static arp: %v", err)
		}
	}
	return &t
}

// sender is a raw packet socket in the sender namespace.
type sender struct {
	fd int
	sa unix.SockaddrLinklayer
}

func (t *testbed) sender(tb testing.TB) *sender {
	tb.Helper()
	s := &sender{fd: -1, sa: unix.SockaddrLinklayer{Ifindex: t.sendIdx, Halen: 6}}
	copy(s.sa.Addr[:], recvMAC)
	if err := inNS(t.sendNS, func() (err error) {
		s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0) // send only
		return err
	}); err != nil {
		tb.Fatalf("sender socket: %v", err)
	}
	tb.Cleanup(func() { unix.Close(s.fd) })
	return s
}

// send transmits one frame. ENOBUFS means the veth dropped it (its queue
// was full, NET_XMIT_DROP), so resending cannot duplicate it.
func (s *sender) send(frame []byte) error {
	for {
		err := unix.Sendto(s.fd, frame, 0, &s.sa)
		if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) {
			runtime.Gosched()
			continue
		}
		return err
	}
}

// testFrame builds an Ethernet/IPv4/UDP frame of 60 bytes from the sender
// to the receiver whose payload starts with seq.
func testFrame(buf []byte, sport, dport uint16, seq uint32) []byte {
	const payload = 18
	f := buf[:14+20+8+payload]
	copy(f[0:6], recvMAC)
	copy(f[6:12], sendMAC)
	binary.BigEndian.PutUint16(f[12:14], 0x0800)
	ip := f[14:34]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:4], 20+8+payload)
	binary.BigEndian.PutUint16(ip[4:6], uint16(seq))
	binary.BigEndian.PutUint16(ip[6:8], 0)
	ip[8], ip[9] = 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(ip[10:12], 0)
	copy(ip[12:16], sendIP)
	copy(ip[16:20], recvIP)
	binary.BigEndian.PutUint16(ip[10:12], ipChecksum(ip))
	udp := f[34:42]
	binary.BigEndian.PutUint16(udp[0:2], sport)
	binary.BigEndian.PutUint16(udp[2:4], dport)
	binary.BigEndian.PutUint16(udp[4:6], 8+payload)
	binary.BigEndian.PutUint16(udp[6:8], 0) // no checksum (RFC 768)
	binary.BigEndian.PutUint32(f[42:46], seq)
	clear(f[46:])
	return f
}

// frameSeq returns the sequence number and UDP destination port of a test
// frame, ok false for anything else.
func frameSeq(f []byte) (seq uint32, dport uint16, ok bool) {
	if len(f) < 46 || binary.BigEndian.Uint16(f[12:14]) != 0x0800 || f[23] != unix.IPPROTO_UDP {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(f[42:46]), binary.BigEndian.Uint16(f[36:38]), true
}

// ipChecksum is the RFC 1071 checksum of an IPv4 header.
func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// openAll runs OpenAll in the receiver namespace; tb.Cleanup closes all.
func (t *testbed) openAll(tb testing.TB, cfg Config) ([]*Socket, *Program) {
	tb.Helper()
	var socks []*Socket
	var prog *Program
	if err := inNS(t.recvNS, func() (err error) { socks, prog, err = OpenAll(recvIf, cfg); return err }); err != nil {
		tb.Fatalf("OpenAll: %v", err)
	}
	tb.Cleanup(func() {
		for _, s := range socks {
			s.Close()
		}
		prog.Close()
	})
	return socks, prog
}
