package decode

import (
	"path/filepath"
	"testing"
	"unsafe"
)

// FuzzDecode feeds arbitrary frames of every link type to Decode. It is
// seeded with the first frames of each capture in testdata/captures
// (Ethernet, Linux SLL, BSD loopback, raw IPv4 and raw IP) and with crafted
// frames for the link types no capture has (SLL2, LOOP, raw 12/14, IPv6).
func FuzzDecode(f *testing.F) {
	for _, c := range tsharkCounts {
		frames := readCapture(f, filepath.Join(captureDir, c.file))
		for i, fr := range frames {
			if i == 8 {
				break
			}
			f.Add(uint32(fr.link), fr.data)
		}
	}
	hello := udpHello()
	f.Add(uint32(LinkLinuxSLL2), cat(sll2Hdr(6, etherTypeIPv6), ip6(protoHopByHop, cat(ext6opts(protoUDP, 0), hello), 0)))
	f.Add(uint32(LinkLoop), cat(be32(afInet), ip4{proto: protoTCP}.build(tcpSeg(1, 2, 3, 4, TCPSyn, nil, nil))))
	f.Add(uint32(12), ip4{proto: protoUDP, id: 3, mf: true}.build(hello[:8]))
	f.Add(uint32(14), ip6(protoFragment, cat(frag6hdr(protoUDP, 0, true, 7), hello[:8]), 0))
	f.Add(uint32(LinkIPv6), ip6(protoAH, cat([]byte{protoICMPv6, 1}, make([]byte, 6), icmpEcho(128, nil)), 0))
	f.Add(uint32(LinkEthernet), cat(eth(etherTypeMPLS, etherTypeVLAN), be32(1<<8), ip4{proto: 47}.build(nil)))

	f.Fuzz(func(t *testing.T, lt uint32, data []byte) {
		d := NewDecoder(Config{MaxFragDatagrams: 2})
		var p Packet
		for i := range 2 { // twice: the second pass meets the fragment table holding the first
			err := d.Decode(LinkType(lt), data, int64(i), len(data), &p)
			checkPacket(t, &p, data, err)
		}
		// A fragment shifted by 8 bytes against itself exercises overlaps.
		if len(data) > 8 {
			err := d.Decode(LinkType(lt), data[8:], 2, len(data)-8, &p)
			checkPacket(t, &p, data[8:], err)
		}
		if st := d.Stats(); st.Packets < 2 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// checkPacket asserts the invariants every decoded packet keeps.
func checkPacket(tb testing.TB, p *Packet, data []byte, err error) {
	tb.Helper()
	switch err {
	case nil, ErrTruncated, ErrMalformed, ErrUnsupportedLink:
	default:
		tb.Fatalf("unexpected error %v", err)
	}
	if err == ErrTruncated && !p.Truncated {
		tb.Fatalf("ErrTruncated without Truncated")
	}
	if p.L3 != L3Unknown && (!p.SrcIP.IsValid() || !p.DstIP.IsValid() || p.SrcIP.Is4() != (p.L3 == L3IPv4)) {
		tb.Fatalf("L3 %d with addresses %v %v", p.L3, p.SrcIP, p.DstIP)
	}
	if p.L3 == L3Unknown && p.L4 != L4Other {
		tb.Fatalf("L4 %d without L3", p.L4)
	}
	if p.Reassembled && !p.Fragment {
		tb.Fatalf("Reassembled without Fragment")
	}
	if p.Fragment && !p.Reassembled && (p.L4 != L4Other || p.Payload != nil) {
		tb.Fatalf("incomplete fragment with L4 %d", p.L4)
	}
	if len(p.Payload) > maxDatagram {
		tb.Fatalf("payload of %d bytes", len(p.Payload))
	}
	if p.Payload != nil && !p.Reassembled && !within(p.Payload, data) {
		tb.Fatalf("payload outside the frame")
	}
}

// within reports whether sub lies inside b's memory.
func within(sub, b []byte) bool {
	if len(sub) == 0 {
		return true
	}
	s := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return s >= start && s+uintptr(len(sub)) <= start+uintptr(len(b))
}
