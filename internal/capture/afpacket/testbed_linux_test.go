//go:build linux

package afpacket

import (
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/testutil/netnstest"
)

// Test addresses (TESTBED §1): receiver 10.200.0.1 on afpa0 in one
// namespace, sender 10.200.0.2 on afpb0 in another; no default route.
var (
	recvAddr = netip.MustParsePrefix("10.200.0.1/24")
	sendAddr = netip.MustParsePrefix("10.200.0.2/24")
	recvIP   = net.IP(recvAddr.Addr().AsSlice())
	sendIP   = net.IP(sendAddr.Addr().AsSlice())
	recvMAC  = net.HardwareAddr{0x02, 0xaf, 0, 0, 0, 0x01}
	sendMAC  = net.HardwareAddr{0x02, 0xaf, 0, 0, 0, 0x02}
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
	recvNS, sendNS netns.NsHandle
	recv, send     netnstest.Link
}

// inNS runs fn in ns on a locked OS thread (netnstest.Do).
func inNS(ns netns.NsHandle, fn func() error) error { return netnstest.Do(ns, fn) }

// newTestbed builds the namespace pair and skips tb when that is not
// possible here. Everything is torn down by tb.Cleanup.
func newTestbed(tb testing.TB) *testbed {
	tb.Helper()
	netnstest.RequireRoot(tb, "CAP_NET_ADMIN", "CAP_NET_RAW")
	p := netnstest.NewPair(tb, netnstest.PairConfig{
		VethConfig: netnstest.VethConfig{Name: recvIf, PeerName: sendIf, MAC: recvMAC, PeerMAC: sendMAC},
		Addr:       recvAddr,
		PeerAddr:   sendAddr,
	})
	return &testbed{recvNS: p.Link.NS, sendNS: p.Peer.NS, recv: p.Link, send: p.Peer}
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
type sender struct{ *netnstest.Sender }

func (t *testbed) sender(tb testing.TB) sender {
	tb.Helper()
	return sender{netnstest.NewSender(tb, t.send, recvMAC)}
}

// send transmits one frame; ENOBUFS (a full veth queue) is retried.
func (s sender) send(frame []byte) error { return s.Send(frame) }

// testFrame builds an Ethernet/IPv4/UDP frame from the sender to the
// receiver with the given ports and payload length; payload bytes are
// derived from the source port.
func testFrame(buf []byte, sport, dport uint16, payload int) []byte {
	f := netnstest.PutUDP(buf, netnstest.UDPHeader{
		DstMAC: recvMAC, SrcMAC: sendMAC,
		SrcIP: sendIP, DstIP: recvIP,
		SrcPort: sport, DstPort: dport, ID: sport,
	}, payload)
	for i := range f[netnstest.UDPHeaderLen:] {
		f[netnstest.UDPHeaderLen+i] = byte(int(sport) + i)
	}
	return f
}

// payloadLen is the payload size of the frame with source port sport, so
// frame sizes vary (60..123 bytes of IP/UDP plus Ethernet).
func payloadLen(sport uint16) int { return 18 + int(sport)%64 }
