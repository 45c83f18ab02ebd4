package decode

import "testing"

func TestIPv6(t *testing.T) {
	e := eth(etherTypeIPv6)
	hello := udpHello()
	seg := tcpSeg(40000, 443, 1, 2, TCPAck|TCPPsh, nil, []byte("data"))
	wantUDP := withEth(withUDP(v6(L4UDP, protoUDP)), 0)
	wantTCP := withEth(v6(L4TCP, protoTCP), 0)
	wantTCP.SrcPort, wantTCP.DstPort, wantTCP.Seq, wantTCP.Ack, wantTCP.Flags, wantTCP.Payload = 40000, 443, 1, 2, TCPAck|TCPPsh, "data"
	icmp6 := withEth(v6(L4ICMPv6, protoICMPv6), 0)
	icmp6.Payload = "ping"
	trunc := withEth(v6(L4Other, protoHopByHop), 0)
	trunc.Truncated = true

	runDecodeCases(t, []decodeCase{
		{"udp", LinkEthernet, cat(e, ip6(protoUDP, hello, 0)), nil, wantUDP},
		{"hop-by-hop", LinkEthernet, cat(e, ip6(protoHopByHop, cat(ext6opts(protoUDP, 0), hello), 0)), nil, wantUDP},
		{"routing and destination options", LinkEthernet, cat(e, ip6(protoRouting, cat(ext6opts(protoDestOpts, 1), ext6opts(protoTCP, 2), seg), 0)), nil, wantTCP},
		{"authentication header", LinkEthernet, cat(e, ip6(protoAH, cat([]byte{protoTCP, 4}, make([]byte, 22), seg), 0)), nil, wantTCP},
		{"esp stops", LinkEthernet, cat(e, ip6(protoESP, make([]byte, 32), 0)), nil, withEth(v6(L4Other, protoESP), 0)},
		{"no next header", LinkEthernet, cat(e, ip6(protoHopByHop, ext6opts(protoNoNext, 0), 0)), nil, withEth(v6(L4Other, protoNoNext), 0)},
		{"atomic fragment", LinkEthernet, cat(e, ip6(protoFragment, cat(frag6hdr(protoUDP, 0, false, 9), hello), 0)), nil, wantUDP},
		{"icmpv6", LinkEthernet, cat(e, ip6(protoICMPv6, icmpEcho(128, []byte("ping")), 0)), nil, icmp6},
		{"trailer trimmed", LinkEthernet, cat(e, ip6(protoUDP, hello, 0), []byte{0xde, 0xad}), nil, wantUDP},
		{"payload length zero (jumbo/offload)", LinkEthernet, cat(e, ip6(protoUDP, hello, -len(hello))), nil, wantUDP},
		{"extension header cut", LinkEthernet, cat(e, ip6(protoHopByHop, ext6opts(protoUDP, 1), 0))[:14+40+9], ErrTruncated, trunc},
		{"extension header length past end", LinkEthernet, cat(e, ip6(protoHopByHop, []byte{protoUDP, 3, 0, 0, 0, 0, 0, 0}, 0)), ErrTruncated, trunc},
		{"header cut", LinkEthernet, cat(e, ip6(protoUDP, hello, 0))[:14+39], ErrTruncated, withEth(summary{Truncated: true}, 0)},
		{"version 4 in ipv6 ethertype", LinkEthernet, cat(e, []byte{0x40}, ip6(protoUDP, hello, 0)[1:]), ErrMalformed, withEth(summary{}, 0)},
	})
}
