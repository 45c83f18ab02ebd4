package decode

import "testing"

func TestFlowHashSymmetric(t *testing.T) {
	// Ethernet/IPv4/UDP 10.0.0.1:1234 -> 10.0.0.2:53 and its reverse.
	fwd := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
		0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0, 53, 0, 8, 0, 0}
	rev := append([]byte(nil), fwd...)
	copy(rev[26:30], fwd[30:34])
	copy(rev[30:34], fwd[26:30])
	copy(rev[34:36], fwd[36:38])
	copy(rev[36:38], fwd[34:36])
	h1, h2 := FlowHash(LinkEthernet, fwd), FlowHash(LinkEthernet, rev)
	if h1 == 0 || h1 != h2 {
		t.Fatalf("hash %x / %x", h1, h2)
	}
	other := append([]byte(nil), fwd...)
	other[35] = 0xd3 // another source port
	if FlowHash(LinkEthernet, other) == h1 {
		t.Error("different ports, same hash")
	}
	// A fragment of the same addresses hashes without ports, like every
	// other fragment of that datagram.
	frag := append([]byte(nil), fwd...)
	frag[20] = 0x20 // MF
	frag2 := append([]byte(nil), frag...)
	frag2[20], frag2[21] = 0x00, 0x10 // offset, last fragment
	if FlowHash(LinkEthernet, frag) != FlowHash(LinkEthernet, frag2) {
		t.Error("fragments of one datagram hash apart")
	}
	if FlowHash(LinkEthernet, fwd[:20]) != 0 || FlowHash(LinkType(147), fwd) != 0 {
		t.Error("non-IP frames must hash to 0")
	}
	if a := testing.AllocsPerRun(100, func() { FlowHash(LinkEthernet, fwd) }); a != 0 {
		t.Errorf("allocates %v", a)
	}
}

// TestFlowHashSymmetricV6VLAN checks IPv6 (fast path) and a VLAN-tagged
// IPv4 frame (general link parser) in both directions.
func TestFlowHashSymmetricV6VLAN(t *testing.T) {
	v6 := make([]byte, 14+40+8)
	v6[12], v6[13] = 0x86, 0xdd
	ip := v6[14:]
	ip[0], ip[6] = 0x60, 17
	for i := range 16 {
		ip[8+i], ip[24+i] = byte(i), byte(0xf0+i)
	}
	ip[40], ip[41], ip[42], ip[43] = 0x30, 0x39, 0, 53
	rev := append([]byte(nil), v6...)
	r := rev[14:]
	copy(r[8:24], ip[24:40])
	copy(r[24:40], ip[8:24])
	r[40], r[41], r[42], r[43] = 0, 53, 0x30, 0x39
	if h1, h2 := FlowHash(LinkEthernet, v6), FlowHash(LinkEthernet, rev); h1 == 0 || h1 != h2 {
		t.Errorf("IPv6: %x / %x", h1, h2)
	}

	v4 := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
		0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0, 53, 0, 8, 0, 0}
	tag := func(f []byte) []byte {
		out := append([]byte(nil), f[:12]...)
		out = append(out, 0x81, 0x00, 0, 7)
		return append(out, f[12:]...)
	}
	back := append([]byte(nil), v4...)
	copy(back[26:30], v4[30:34])
	copy(back[30:34], v4[26:30])
	copy(back[34:36], v4[36:38])
	copy(back[36:38], v4[34:36])
	h1, h2 := FlowHash(LinkEthernet, tag(v4)), FlowHash(LinkEthernet, tag(back))
	if h1 == 0 || h1 != h2 || h1 != FlowHash(LinkEthernet, v4) {
		t.Errorf("VLAN: %x / %x, untagged %x", h1, h2, FlowHash(LinkEthernet, v4))
	}
}

func BenchmarkFlowHash(b *testing.B) {
	fwd := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
		0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0, 53, 0, 8, 0, 0}
	var x uint64
	for b.Loop() {
		x += FlowHash(LinkEthernet, fwd)
	}
	_ = x
}
