//go:build linux

package ebpfcap

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/testutil/netnstest"
)

// Test addresses: the agent side 10.203.0.1 on ebpa0 in namespace A, the
// peer 10.203.0.2 on ebpb0 in namespace B; no default route, IPv6 off and
// static ARP, so nothing but the test's frames crosses the pair.
var (
	agentAddr = netip.MustParsePrefix("10.203.0.1/24")
	peerAddr  = netip.MustParsePrefix("10.203.0.2/24")
	agentIP   = net.IP(agentAddr.Addr().AsSlice())
	peerIP    = net.IP(peerAddr.Addr().AsSlice())
	agentMAC  = net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 0x01}
	peerMAC   = net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 0x02}
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
	netnstest.RequireRoot(tb, "CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN")
	if err := Probe(); err != nil {
		tb.Skipf("no eBPF pass-through capture here: %v", err)
	}
}

// newTestbed builds the pair or skips tb; tb.Cleanup tears it down.
func newTestbed(tb testing.TB) *testbed {
	tb.Helper()
	requireBPF(tb)
	p := netnstest.NewPair(tb, netnstest.PairConfig{
		VethConfig:  netnstest.VethConfig{Name: agentIf, PeerName: peerIf, MAC: agentMAC, PeerMAC: peerMAC},
		Addr:        agentAddr,
		PeerAddr:    peerAddr,
		StaticNeigh: true,
	})
	return &testbed{agentNS: p.Link.NS, peerNS: p.Peer.NS}
}

// open runs Open in the agent namespace; tb.Cleanup closes the Source.
func (t *testbed) open(tb testing.TB, cfg Config) *Source {
	tb.Helper()
	cfg.Iface = agentIf
	var s *Source
	if err := netnstest.Do(t.agentNS, func() (err error) { s, err = Open(cfg); return err }); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// listenUDP opens a UDP socket on addr in ns.
func listenUDP(tb testing.TB, ns netns.NsHandle, addr *net.UDPAddr) *net.UDPConn {
	tb.Helper()
	var c *net.UDPConn
	if err := netnstest.Do(ns, func() (err error) { c, err = net.ListenUDP("udp4", addr); return err }); err != nil {
		tb.Fatalf("listen udp in netns: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// udpFrame builds an Ethernet/IPv4/UDP frame from the peer to the agent
// with payload bytes of payload, the first four holding seq.
func udpFrame(sport, dport uint16, seq uint32, payload int) []byte {
	payload = max(payload, 4)
	f := netnstest.PutUDP(make([]byte, netnstest.UDPHeaderLen+payload), netnstest.UDPHeader{
		DstMAC: agentMAC, SrcMAC: peerMAC, SrcIP: peerIP, DstIP: agentIP,
		SrcPort: sport, DstPort: dport,
	}, payload)
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
