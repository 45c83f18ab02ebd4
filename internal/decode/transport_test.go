package decode

import "testing"

func TestTransport(t *testing.T) {
	e := eth(etherTypeIPv4)
	frame := func(proto uint8, payload []byte) []byte { return cat(e, ip4{proto: proto}.build(payload)) }
	opts := []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2} // MSS 1460, NOP, NOP, SACK permitted
	syn := withEth(v4(L4TCP, protoTCP), 0)
	syn.SrcPort, syn.DstPort, syn.Seq, syn.Ack, syn.Flags = 51000, 53, 0x01020304, 0, TCPSyn
	synAck := syn
	synAck.Flags, synAck.Ack, synAck.Payload = TCPSyn|TCPAck, 0xA0B0C0D0, "xy"
	tcpCut := syn
	tcpCut.Seq, tcpCut.Flags, tcpCut.Truncated = 0, 0, true
	tcpPortsOnly := tcpCut
	tcpPortsOnly.Truncated = true
	other3 := withEth(v4(L4Other, protoTCP), 0)
	other3.Truncated = true
	udpShort := withEth(v4(L4UDP, protoUDP), 0)
	udpShort.SrcPort, udpShort.DstPort, udpShort.Payload = 1053, 53, "hel"
	udpMal := udpShort
	udpMal.Payload = ""
	udpAll := withEth(withUDP(v4(L4UDP, protoUDP)), 0)
	udpAll.Payload = "hello"
	icmpCut := withEth(v4(L4ICMP, protoICMP), 0)
	icmpCut.Truncated = true
	doff4 := syn
	doff4.Flags = TCPSyn

	bad := tcpSeg(51000, 53, 0x01020304, 0, TCPSyn, nil, nil)
	bad[12] = 4 << 4

	runDecodeCases(t, []decodeCase{
		{"tcp syn with options", LinkEthernet, frame(protoTCP, tcpSeg(51000, 53, 0x01020304, 0, TCPSyn, opts, nil)), nil, syn},
		{"tcp payload", LinkEthernet, frame(protoTCP, tcpSeg(51000, 53, 0x01020304, 0xA0B0C0D0, TCPSyn|TCPAck, nil, []byte("xy"))), nil, synAck},
		{"tcp data offset below 5", LinkEthernet, frame(protoTCP, bad), ErrMalformed, doff4},
		{"tcp options cut", LinkEthernet, frame(protoTCP, tcpSeg(51000, 53, 0x01020304, 0, TCPSyn, opts, nil))[:14+20+24], ErrTruncated, func() summary { s := syn; s.Truncated = true; return s }()},
		{"tcp header cut after ports", LinkEthernet, frame(protoTCP, tcpSeg(51000, 53, 1, 0, TCPSyn, nil, nil))[:14+20+4], ErrTruncated, tcpPortsOnly},
		{"tcp header cut before ports", LinkEthernet, frame(protoTCP, tcpSeg(51000, 53, 1, 0, TCPSyn, nil, nil))[:14+20+3], ErrTruncated, other3},
		{"udp length shorter than ip payload", LinkEthernet, frame(protoUDP, udpDgram(1053, 53, []byte("hello"), -2)), nil, udpShort},
		{"udp length longer than ip payload", LinkEthernet, frame(protoUDP, udpDgram(1053, 53, []byte("hello"), 100)), nil, udpAll},
		{"udp length zero", LinkEthernet, frame(protoUDP, udpDgram(1053, 53, []byte("hello"), -13)), nil, udpAll},
		{"udp length below header", LinkEthernet, frame(protoUDP, udpDgram(1053, 53, []byte("hello"), -6)), ErrMalformed, udpMal},
		{"icmp cut", LinkEthernet, frame(protoICMP, []byte{8, 0, 0, 0, 0}), ErrTruncated, icmpCut},
	})
}

// TestTruncatedEveryByte cuts valid frames of every link type at every
// length: Decode must not panic, and every cut frame is either flagged
// Truncated or rejected with ErrTruncated.
func TestTruncatedEveryByte(t *testing.T) {
	seg := tcpSeg(51000, 53, 7, 9, TCPAck, []byte{1, 1, 1, 0}, []byte("payload"))
	frames := []struct {
		name string
		lt   LinkType
		data []byte
	}{
		{"ethernet qinq ipv4 tcp", LinkEthernet, cat(eth(etherTypeIPv4, etherTypeQinQ, etherTypeVLAN), ip4{proto: protoTCP, opts: []byte{1, 1, 1, 0}}.build(seg))},
		{"ethernet mpls ipv6 ext udp", LinkEthernet, cat(eth(etherTypeMPLS), be32(16<<12|1<<8), ip6(protoHopByHop, cat(ext6opts(protoUDP, 0), udpHello()), 0))},
		{"sll ipv4 icmp", LinkLinuxSLL, cat(sllHdr(6, etherTypeIPv4), ip4{proto: protoICMP}.build(icmpEcho(8, []byte("x"))))},
		{"sll2 ipv6 tcp", LinkLinuxSLL2, cat(sll2Hdr(6, etherTypeIPv6), ip6(protoTCP, seg, 0))},
		{"null ipv6 icmpv6", LinkNull, cat(be32(afInet6Darwin), ip6(protoICMPv6, icmpEcho(128, []byte("x")), 0))},
		{"loop ipv4 udp", LinkLoop, cat(be32(afInet), ip4{proto: protoUDP}.build(udpHello()))},
		{"raw ipv6 udp", LinkRaw, ip6(protoUDP, udpHello(), 0)},
		{"ipv4 first fragment", LinkIPv4, ip4{proto: protoUDP, mf: true}.build(cat(udpHello(), []byte("abc")))},
		{"ipv6 fragment", LinkIPv6, ip6(protoFragment, cat(frag6hdr(protoUDP, 0, true, 5), udpHello(), []byte("abc")), 0)},
	}
	for _, f := range frames {
		t.Run(f.name, func(t *testing.T) {
			d := NewDecoder(Config{})
			var p Packet
			if err := d.Decode(f.lt, f.data, 0, len(f.data), &p); err != nil || p.Truncated || p.L3 == L3Unknown {
				t.Fatalf("whole frame: err %v, truncated %v, L3 %d", err, p.Truncated, p.L3)
			}
			errs := 0
			for n := 0; n < len(f.data); n++ {
				err := d.Decode(f.lt, f.data[:n], 0, len(f.data), &p)
				switch {
				case err == ErrTruncated:
					errs++
					if !p.Truncated {
						t.Errorf("cut at %d: ErrTruncated without Truncated", n)
					}
				case err != nil:
					t.Errorf("cut at %d: err %v", n, err)
				case !p.Truncated:
					t.Errorf("cut at %d: not flagged truncated", n)
				}
			}
			if st := d.Stats(); st.Truncated != uint64(errs) || st.Packets != uint64(len(f.data)+1) {
				t.Errorf("stats %+v, want %d truncated of %d packets", st, errs, len(f.data)+1)
			}
		})
	}
}
