//go:build linux

package afpacket

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

// Test addresses (TESTBED §1): receiver 10.200.0.1 on afpa0 in one
// namespace, sender 10.200.0.2 on afpb0 in another; no default route.
var (
	recvIP  = net.IPv4(10, 200, 0, 1).To4()
	sendIP  = net.IPv4(10, 200, 0, 2).To4()
	recvMAC = net.HardwareAddr{0x02, 0xaf, 0, 0, 0, 0x01}
	sendMAC = net.HardwareAddr{0x02, 0xaf, 0, 0, 0, 0x02}
)

const (
	recvIf   = "afpa0"
	sendIf   = "afpb0"
	testPort = 9999
)

// udpDstPort9999 is `tcpdump -dd 'ip and udp dst port 9999'`: IPv4, UDP,
// first fragment, destination port 9999; keeps 262144 bytes.
var udpDstPort9999 = []unix.SockFilter{
	{Code: 0x28, Jt: 0, Jf: 0, K: 0x0000000c},
	{Code: 0x15, Jt: 0, Jf: 8, K: 0x00000800},
	{Code: 0x30, Jt: 0, Jf: 0, K: 0x00000017},
	{Code: 0x15, Jt: 0, Jf: 6, K: 0x00000011},
	{Code: 0x28, Jt: 0, Jf: 0, K: 0x00000014},
	{Code: 0x45, Jt: 4, Jf: 0, K: 0x00001fff},
	{Code: 0xb1, Jt: 0, Jf: 0, K: 0x0000000e},
	{Code: 0x48, Jt: 0, Jf: 0, K: 0x00000010},
	{Code: 0x15, Jt: 0, Jf: 1, K: 0x0000270f},
	{Code: 0x6, Jt: 0, Jf: 0, K: 0x00040000},
	{Code: 0x6, Jt: 0, Jf: 0, K: 0x00000000},
}

// testbed is a veth pair between two fresh network namespaces.
type testbed struct {
	recvNS, sendNS   netns.NsHandle
	recvIdx, sendIdx int
}

// requireRoot skips tb unless the test runs as root.
func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root (CAP_NET_ADMIN, CAP_NET_RAW): run with go test -exec sudo")
	}
}

// inNS runs fn on an OS thread switched into ns and switches back. If the
// thread cannot be switched back it stays locked, so the runtime retires
// it when the goroutine ends instead of reusing it in the wrong namespace.
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
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// newNS creates an unnamed network namespace with IPv6 disabled and lo up.
// It lives while the returned handle (or a socket in it) is open.
func newNS() (netns.NsHandle, error) {
	type result struct {
		ns  netns.NsHandle
		err error
	}
	rc := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			rc <- result{err: fmt.Errorf("get current netns: %w", err)}
			return
		}
		defer orig.Close()
		ns, err := netns.New() // moves this thread into ns
		if err != nil {
			_ = netns.Set(orig)
			rc <- result{err: fmt.Errorf("create netns: %w", err)} // thread stays locked
			return
		}
		// Counts must be exact: no router or neighbour solicitations.
		for _, p := range []string{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"} {
			if werr := os.WriteFile(p, []byte("1"), 0); werr != nil && !errors.Is(werr, fs.ErrNotExist) {
				err = fmt.Errorf("disable ipv6: %w", werr)
			}
		}
		if serr := netns.Set(orig); serr != nil {
			ns.Close()
			rc <- result{err: fmt.Errorf("return to netns: %w", serr)}
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		if err != nil {
			ns.Close()
		}
		rc <- result{ns: ns, err: err}
	}()
	r := <-rc
	return r.ns, r.err
}

// newTestbed builds the namespace pair and skips tb when that is not
// possible here. Everything is torn down by tb.Cleanup.
func newTestbed(tb testing.TB) *testbed {
	tb.Helper()
	requireRoot(tb)
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
		LinkAttrs:        netlink.LinkAttrs{Name: recvIf, HardwareAddr: recvMAC, NumTxQueues: 1, NumRxQueues: 1},
		PeerName:         sendIf,
		PeerHardwareAddr: sendMAC,
		PeerNamespace:    netlink.NsFd(t.sendNS),
		PeerNumTxQueues:  1,
		PeerNumRxQueues:  1,
	}
	if err := hr.LinkAdd(veth); err != nil {
		tb.Skipf("create veth: %v", err)
	}
	// Deleting one end deletes both; closing the namespaces would too.
	tb.Cleanup(func() {
		if l, err := hr.LinkByName(recvIf); err == nil {
			_ = hr.LinkDel(l)
		}
	})
	setup := func(h *netlink.Handle, name string, ip net.IP) int {
		tb.Helper()
		l, err := h.LinkByName(name)
		if err != nil {
			tb.Fatalf("find %s: %v", name, err)
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: net.CIDRMask(24, 32)}}
		if err := h.AddrAdd(l, addr); err != nil {
			tb.Fatalf("address %s: %v", name, err)
		}
		if lo, err := h.LinkByName("lo"); err == nil {
			_ = h.LinkSetUp(lo)
		}
		if err := h.LinkSetUp(l); err != nil {
			tb.Fatalf("set %s up: %v", name, err)
		}
		return l.Attrs().Index
	}
	t.recvIdx = setup(hr, recvIf, recvIP)
	t.sendIdx = setup(hs, sendIf, sendIP)
	return &t
}

// open opens one source on the receiver interface inside its namespace.
func (t *testbed) open(tb testing.TB, cfg Config) *Source {
	tb.Helper()
	cfg.Iface = recvIf
	var s *Source
	if err := inNS(t.recvNS, func() (err error) { s, err = Open(cfg); return err }); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// openGroup opens a fanout group on the receiver interface.
func (t *testbed) openGroup(tb testing.TB, cfg Config, n int) []*Source {
	tb.Helper()
	cfg.Iface = recvIf
	var srcs []*Source
	if err := inNS(t.recvNS, func() (err error) { srcs, err = OpenGroup(cfg, n); return err }); err != nil {
		tb.Fatalf("OpenGroup: %v", err)
	}
	tb.Cleanup(func() {
		for _, s := range srcs {
			s.Close()
		}
	})
	return srcs
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
	err := inNS(t.sendNS, func() (err error) {
		// Protocol 0: send only.
		s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		return err
	})
	if err != nil {
		tb.Fatalf("sender socket: %v", err)
	}
	tb.Cleanup(func() { unix.Close(s.fd) })
	return s
}

// send transmits one frame; ENOBUFS (a full veth queue) is retried.
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

// testFrame builds an Ethernet/IPv4/UDP frame from the sender to the
// receiver with the given ports and payload length; payload bytes are
// derived from the source port.
func testFrame(buf []byte, sport, dport uint16, payload int) []byte {
	n := 14 + 20 + 8 + payload
	f := buf[:n]
	copy(f[0:6], recvMAC)
	copy(f[6:12], sendMAC)
	binary.BigEndian.PutUint16(f[12:14], 0x0800)
	ip := f[14:34]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:4], uint16(20+8+payload))
	binary.BigEndian.PutUint16(ip[4:6], sport) // id
	binary.BigEndian.PutUint16(ip[6:8], 0)
	ip[8], ip[9] = 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(ip[10:12], 0)
	copy(ip[12:16], sendIP)
	copy(ip[16:20], recvIP)
	binary.BigEndian.PutUint16(ip[10:12], ipChecksum(ip))
	udp := f[34:42]
	binary.BigEndian.PutUint16(udp[0:2], sport)
	binary.BigEndian.PutUint16(udp[2:4], dport)
	binary.BigEndian.PutUint16(udp[4:6], uint16(8+payload))
	binary.BigEndian.PutUint16(udp[6:8], 0) // no checksum (RFC 768)
	for i := range f[42:] {
		f[42+i] = byte(int(sport) + i)
	}
	return f
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

// payloadLen is the payload size of the frame with source port sport, so
// frame sizes vary (60..123 bytes of IP/UDP plus Ethernet).
func payloadLen(sport uint16) int { return 18 + int(sport)%64 }
