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
