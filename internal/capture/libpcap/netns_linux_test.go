package libpcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// Test topology (TESTBED §1): two fresh, unnamed network namespaces joined
// by a veth pair; nothing leaves them, and they vanish when the last
// handle and socket in them close.
const (
	recvIf = "pvlr0" // receiver side, in testNet.recv
	sendIf = "pvls0" // sender side, in testNet.send
)

var (
	recvIP = netip.MustParseAddr("10.201.0.1")
	sendIP = netip.MustParseAddr("10.201.0.2")
)

// testNet is a veth pair between two namespaces.
type testNet struct {
	recv, send       netns.NsHandle
	recvMAC, sendMAC net.HardwareAddr
}

// inNS runs fn on an OS thread switched into ns and switches the thread
// back. A thread that cannot be switched back is discarded.
func inNS(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter netns: %w", err) // thread stays locked: discarded
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("restore netns: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// newNS creates an unnamed network namespace with lo up and IPv6 off.
func newNS() (netns.NsHandle, error) {
	type result struct {
		h   netns.NsHandle
		err error
	}
	rc := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			rc <- result{err: fmt.Errorf("get netns: %w", err)}
			return
		}
		defer orig.Close()
		h, err := netns.New() // also moves this thread into it
		if err != nil {
			rc <- result{err: fmt.Errorf("create netns: %w", err)}
			return
		}
		ferr := setupNS()
		if err := netns.Set(orig); err != nil {
			h.Close()
			rc <- result{err: fmt.Errorf("restore netns: %w", err)}
			return
		}
		runtime.UnlockOSThread()
		if ferr != nil {
			h.Close()
		}
		rc <- result{h, ferr}
	}()
	r := <-rc
	return r.h, r.err
}

// setupNS runs inside a new namespace: IPv6 off (no router or neighbour
// solicitations), lo up.
func setupNS() error {
	for _, f := range []string{"all", "default"} {
		p := "/proc/sys/net/ipv6/conf/" + f + "/disable_ipv6"
		if err := os.WriteFile(p, []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("disable ipv6: %w", err)
		}
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// newTestNet builds the topology, or skips tb without root or netns/veth
// support. Cleanup releases the namespaces even when tb fails.
func newTestNet(tb testing.TB) *testNet {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: creates network namespaces and captures")
	}
	tn := &testNet{}
	var err error
	if tn.recv, err = newNS(); err != nil {
		tb.Skipf("network namespaces unavailable: %v", err)
	}
	tb.Cleanup(func() { tn.recv.Close() })
	if tn.send, err = newNS(); err != nil {
		tb.Skipf("network namespaces unavailable: %v", err)
	}
	tb.Cleanup(func() { tn.send.Close() })

	ha, err := netlink.NewHandleAt(tn.recv)
	if err != nil {
		tb.Fatalf("netlink in receiver netns: %v", err)
	}
	defer ha.Close()
	hb, err := netlink.NewHandleAt(tn.send)
	if err != nil {
		tb.Fatalf("netlink in sender netns: %v", err)
	}
	defer hb.Close()

	la := netlink.NewLinkAttrs()
	la.Name = recvIf
	la.NumTxQueues, la.NumRxQueues = 1, 1
	veth := &netlink.Veth{
		LinkAttrs: la, PeerName: sendIf, PeerNamespace: netlink.NsFd(int(tn.send)),
		PeerTxQLen: -1, PeerNumTxQueues: 1, PeerNumRxQueues: 1,
	}
	if err := ha.LinkAdd(veth); err != nil {
		tb.Skipf("create veth pair: %v", err)
	}
	for _, side := range []struct {
		h    *netlink.Handle
		name string
		ip   netip.Addr
		mac  *net.HardwareAddr
	}{{ha, recvIf, recvIP, &tn.recvMAC}, {hb, sendIf, sendIP, &tn.sendMAC}} {
		l, err := side.h.LinkByName(side.name)
		if err != nil {
			tb.Fatalf("find %s: %v", side.name, err)
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: side.ip.AsSlice(), Mask: net.CIDRMask(24, 32)}}
		if err := side.h.AddrAdd(l, addr); err != nil {
			tb.Fatalf("address %s: %v", side.name, err)
		}
		if err := side.h.LinkSetUp(l); err != nil {
			tb.Fatalf("set %s up: %v", side.name, err)
		}
		*side.mac = l.Attrs().HardwareAddr
	}
	return tn
}

// open opens a Source inside the receiver namespace, closed at cleanup.
func (tn *testNet) open(tb testing.TB, cfg Config) *Source {
	tb.Helper()
	s, err := tn.tryOpen(cfg)
	if errors.Is(err, capture.ErrNotSupported) {
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func (tn *testNet) tryOpen(cfg Config) (*Source, error) {
	var s *Source
	err := inNS(tn.recv, func() error {
		var err error
		s, err = Open(cfg)
		return err
	})
	return s, err
}

// sender writes Ethernet/IPv4/UDP frames into the sender veth through an
// AF_PACKET socket, so each frame can carry its own 5-tuple and length.
type sender struct {
	fd       int
	dst, src net.HardwareAddr
	buf      []byte
}

func (tn *testNet) sender(tb testing.TB) *sender {
	tb.Helper()
	s := &sender{fd: -1, dst: tn.recvMAC, src: tn.sendMAC, buf: make([]byte, 1514)}
	err := inNS(tn.send, func() error {
		ifi, err := net.InterfaceByName(sendIf)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind packet socket: %w", err)
		}
		s.fd = fd
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Close(s.fd) })
	return s
}

// frameLen is the wire length of a frame with payload bytes of UDP payload.
func frameLen(payload int) int { return 14 + 20 + 8 + payload }

// send writes one frame sendIP:sport -> recvIP:dport whose payload is
// payload bytes long and starts with seq.
func (s *sender) send(sport, dport uint16, payload int, seq uint32) error {
	f := s.buf[:frameLen(payload)]
	copy(f[0:6], s.dst)
	copy(f[6:12], s.src)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+payload))
	binary.BigEndian.PutUint32(ip[4:], 0)
	ip[8], ip[9] = 64, 17
	ip[10], ip[11] = 0, 0
	src, dst := sendIP.As4(), recvIP.As4()
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	udp := f[34:]
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+payload))
	binary.BigEndian.PutUint16(udp[6:], 0) // no checksum
	p := udp[8:]
	for i := range p {
		p[i] = byte(i)
	}
	if payload >= 4 {
		binary.BigEndian.PutUint32(p, seq)
	}
	for {
		_, err := unix.Write(s.fd, f)
		if err == unix.ENOBUFS || err == unix.EAGAIN || err == unix.EINTR {
			runtime.Gosched()
			continue
		}
		if err != nil {
			return fmt.Errorf("send frame: %w", err)
		}
		return nil
	}
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
