package decode

import "testing"

func TestIPv4(t *testing.T) {
	e := eth(etherTypeIPv4)
	hello := udpHello()
	want := withEth(withUDP(v4(L4UDP, protoUDP)), 0)
	trunc := want
	trunc.Truncated, trunc.Payload = true, "hel"
	gre := withEth(v4(L4Other, 47), 0)
	icmp := withEth(v4(L4ICMP, protoICMP), 0)
	icmp.Payload = "ping"
	hdrOnly := withEth(v4(L4Other, protoUDP), 0)
	hdrOnly.Truncated = true

	runDecodeCases(t, []decodeCase{
		{"udp", LinkEthernet, cat(e, ip4{proto: protoUDP}.build(hello)), nil, want},
		{"options", LinkEthernet, cat(e, ip4{proto: protoUDP, opts: []byte{1, 1, 1, 0, 0x94, 4, 0, 0}}.build(hello)), nil, want},
		{"ethernet padding trimmed", LinkEthernet, cat(e, ip4{proto: protoUDP}.build(hello), make([]byte, 13)), nil, want},
		{"snaplen cut in payload", LinkEthernet, cat(e, ip4{proto: protoUDP}.build(hello))[:14+20+8+3], nil, trunc},
		{"total length zero (offload)", LinkEthernet, cat(e, ip4{proto: protoUDP, total0: true}.build(hello)), nil, want},
		{"gre", LinkEthernet, cat(e, ip4{proto: 47}.build(make([]byte, 8))), nil, gre},
		{"icmp echo", LinkEthernet, cat(e, ip4{proto: protoICMP}.build(icmpEcho(8, []byte("ping")))), nil, icmp},
		{"ihl 4", LinkEthernet, cat(e, []byte{0x44}, ip4{proto: protoUDP}.build(hello)[1:]), ErrMalformed, withEth(summary{}, 0)},
		{"version 6 in ipv4 ethertype", LinkEthernet, cat(e, []byte{0x65}, ip4{proto: protoUDP}.build(hello)[1:]), ErrMalformed, withEth(summary{}, 0)},
		{"total below header", LinkEthernet, cat(e, ip4{proto: protoUDP, totalAdj: -17}.build(hello)), ErrMalformed, withEth(v4(L4Other, protoUDP), 0)},
		{"options cut", LinkEthernet, cat(e, ip4{proto: protoUDP, opts: make([]byte, 8)}.build(hello))[:14+24], ErrTruncated, hdrOnly},
		{"header cut", LinkEthernet, cat(e, ip4{proto: protoUDP}.build(hello))[:14+19], ErrTruncated, withEth(summary{Truncated: true}, 0)},
		{"no transport bytes", LinkEthernet, cat(e, ip4{proto: protoUDP}.build(hello))[:14+20], ErrTruncated, hdrOnly},
	})
}

func TestDirection(t *testing.T) {
	frame := cat(eth(etherTypeIPv4), ip4{proto: protoUDP}.build(udpHello()))
	for _, c := range []struct {
		spec string
		want Direction
	}{
		{"", DirUnknown},
		{"198.51.100.0/24", DirToHost},
		{"192.0.2.1", DirFromHost},
		{"192.0.2.0/24,198.51.100.2", DirToHost},
		{"203.0.113.0/24,2001:db8::/32", DirUnknown},
	} {
		t.Run(c.spec, func(t *testing.T) {
			hs, err := ParseHostSpec(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecoder(Config{Hosts: hs})
			var p Packet
			if err := d.Decode(LinkEthernet, frame, 0, len(frame), &p); err != nil {
				t.Fatal(err)
			}
			if p.Dir != c.want {
				t.Errorf("Dir = %d, want %d", p.Dir, c.want)
			}
		})
	}
}
