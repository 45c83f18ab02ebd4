//go:build linux

package afxdp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/testutil/netnstest"
)

// Test addresses: receiver 10.201.0.1 on xdpa0 in one namespace, sender
// 10.201.0.2 on xdpb0 in another; no default route, IPv6 off, so nothing
// but the test's frames crosses the pair.
var (
	recvAddr = netip.MustParsePrefix("10.201.0.1/24")
	sendAddr = netip.MustParsePrefix("10.201.0.2/24")
	recvIP   = net.IP(recvAddr.Addr().AsSlice())
	sendIP   = net.IP(sendAddr.Addr().AsSlice())
	recvMAC  = net.HardwareAddr{0x02, 0xdf, 0, 0, 0, 0x01}
	sendMAC  = net.HardwareAddr{0x02, 0xdf, 0, 0, 0, 0x02}
)

const (
	recvIf    = "xdpa0"
	sendIf    = "xdpb0"
	numQueues = 4
)

// testbed is a veth pair with numQueues queues per direction between two
// fresh network namespaces.
type testbed struct {
	recvNS, sendNS netns.NsHandle
	recv, send     netnstest.Link
}

// requireAFXDP skips tb unless it runs as root on a kernel with AF_XDP.
func requireAFXDP(tb testing.TB) {
	tb.Helper()
	netnstest.RequireRoot(tb, "CAP_BPF", "CAP_NET_ADMIN", "CAP_NET_RAW")
	if err := Probe(); err != nil {
		tb.Skipf("no AF_XDP here: %v", err)
	}
}

// inNS runs fn in ns on a locked OS thread (netnstest.Do).
func inNS(ns netns.NsHandle, fn func() error) error { return netnstest.Do(ns, fn) }

// newTestbed builds the pair or skips tb; tb.Cleanup tears it down.
//
// Static ARP both ways: no ARP frame reaches the receiver's XDP program,
// not even the reply to the receiver's own request when its stack answers
// a frame the pre-filter passed with ICMP (TESTBED §1).
func newTestbed(tb testing.TB) *testbed {
	tb.Helper()
	requireAFXDP(tb)
	p := netnstest.NewPair(tb, netnstest.PairConfig{
		VethConfig: netnstest.VethConfig{
			Name: recvIf, PeerName: sendIf, MAC: recvMAC, PeerMAC: sendMAC, Queues: numQueues,
		},
		Addr:        recvAddr,
		PeerAddr:    sendAddr,
		StaticNeigh: true,
	})
	return &testbed{recvNS: p.Link.NS, sendNS: p.Peer.NS, recv: p.Link, send: p.Peer}
}

// sender is a raw packet socket in the sender namespace.
type sender struct{ *netnstest.Sender }

func (t *testbed) sender(tb testing.TB) sender {
	tb.Helper()
	return sender{netnstest.NewSender(tb, t.send, recvMAC)}
}

// send transmits one frame. ENOBUFS means the veth dropped it (its queue
// was full, NET_XMIT_DROP), so resending cannot duplicate it.
func (s sender) send(frame []byte) error { return s.Send(frame) }

// testFrame builds an Ethernet/IPv4/UDP frame of 60 bytes from the sender
// to the receiver whose payload starts with seq.
func testFrame(buf []byte, sport, dport uint16, seq uint32) []byte {
	f := netnstest.PutUDP(buf, netnstest.UDPHeader{
		DstMAC: recvMAC, SrcMAC: sendMAC, SrcIP: sendIP, DstIP: recvIP,
		SrcPort: sport, DstPort: dport, ID: uint16(seq),
	}, 18)
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
