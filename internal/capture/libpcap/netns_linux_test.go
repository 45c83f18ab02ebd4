package libpcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/testutil/netnstest"
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
	sendLink         netnstest.Link
}

// inNS runs fn in ns on a locked OS thread (netnstest.Do).
func inNS(ns netns.NsHandle, fn func() error) error { return netnstest.Do(ns, fn) }

// newTestNet builds the topology, or skips tb without root or netns/veth
// support. Cleanup releases the namespaces even when tb fails.
func newTestNet(tb testing.TB) *testNet {
	tb.Helper()
	netnstest.RequireRoot(tb, "CAP_NET_ADMIN", "CAP_NET_RAW")
	p := netnstest.NewPair(tb, netnstest.PairConfig{
		VethConfig: netnstest.VethConfig{Name: recvIf, PeerName: sendIf, TxQLen: -1},
		Addr:       netip.PrefixFrom(recvIP, 24),
		PeerAddr:   netip.PrefixFrom(sendIP, 24),
	})
	return &testNet{recv: p.Link.NS, send: p.Peer.NS, recvMAC: p.Link.MAC, sendMAC: p.Peer.MAC, sendLink: p.Peer}
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
	*netnstest.Sender
	hdr netnstest.UDPHeader
	buf []byte
}

func (tn *testNet) sender(tb testing.TB) *sender {
	tb.Helper()
	return &sender{
		Sender: netnstest.NewSender(tb, tn.sendLink, tn.recvMAC),
		hdr: netnstest.UDPHeader{
			DstMAC: tn.recvMAC, SrcMAC: tn.sendMAC,
			SrcIP: sendIP.AsSlice(), DstIP: recvIP.AsSlice(),
		},
		buf: make([]byte, 1514),
	}
}

// frameLen is the wire length of a frame with payload bytes of UDP payload.
func frameLen(payload int) int { return netnstest.UDPHeaderLen + payload }

// send writes one frame sendIP:sport -> recvIP:dport whose payload is
// payload bytes long and starts with seq.
func (s *sender) send(sport, dport uint16, payload int, seq uint32) error {
	h := s.hdr
	h.SrcPort, h.DstPort = sport, dport
	f := netnstest.PutUDP(s.buf, h, payload)
	p := f[netnstest.UDPHeaderLen:]
	for i := range p {
		p[i] = byte(i)
	}
	if payload >= 4 {
		binary.BigEndian.PutUint32(p, seq)
	}
	if err := s.Send(f); err != nil {
		return fmt.Errorf("send frame: %w", err)
	}
	return nil
}
