package decode

import (
	"encoding/binary"
	"testing"
)

// sllHdr builds a Linux cooked v1 header with an address of alen bytes.
func sllHdr(alen int, proto uint16) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(b[4:], uint16(alen))
	copy(b[6:], macSrc[:])
	binary.BigEndian.PutUint16(b[14:], proto)
	return b
}

// sll2Hdr builds a Linux cooked v2 header with an address of alen bytes.
func sll2Hdr(alen int, proto uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], proto)
	binary.BigEndian.PutUint32(b[4:], 3) // interface index
	binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
	b[11] = byte(alen)
	copy(b[12:], macSrc[:])
	return b
}

func TestLinkLayers(t *testing.T) {
	v4udp := ip4{proto: protoUDP}.build(udpHello())
	v6udp := ip6(protoUDP, udpHello(), 0)
	wantV4 := withUDP(v4(L4UDP, protoUDP))
	wantV6 := withUDP(v6(L4UDP, protoUDP))
	arp := make([]byte, 28)
	le := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	mplsLabel := func(label uint32, bottom bool) []byte {
		v := label<<12 | 64
		if bottom {
			v |= 1 << 8
		}
		return be32(v)
	}
	sllNoAddr := withUDP(v4(L4UDP, protoUDP))
	sllEth := sllNoAddr
	sllEth.HasEth, sllEth.EthSrc = true, macSrc
	sll2Eth := wantV6
	sll2Eth.HasEth, sll2Eth.EthSrc = true, macSrc

	runDecodeCases(t, []decodeCase{
		{"ethernet ipv4", LinkEthernet, cat(eth(etherTypeIPv4), v4udp), nil, withEth(wantV4, 0)},
		{"ethernet ipv6", LinkEthernet, cat(eth(etherTypeIPv6), v6udp), nil, withEth(wantV6, 0)},
		{"802.1Q", LinkEthernet, cat(eth(etherTypeIPv4, etherTypeVLAN), v4udp), nil, withEth(wantV4, 1)},
		{"802.1ad QinQ", LinkEthernet, cat(eth(etherTypeIPv6, etherTypeQinQ, etherTypeVLAN), v6udp), nil, withEth(wantV6, 2)},
		{"0x9100 triple tag", LinkEthernet, cat(eth(etherTypeIPv4, etherTypeQinQOld, etherTypeVLAN, etherTypeVLAN), v4udp), nil, withEth(wantV4, 3)},
		{"8 tags", LinkEthernet, cat(eth(etherTypeIPv4, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN), v4udp), nil, withEth(wantV4, 8)},
		{"9 tags", LinkEthernet, cat(eth(etherTypeIPv4, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN, etherTypeVLAN), v4udp), ErrMalformed, withEth(summary{}, 8)},
		{"vlan tag cut", LinkEthernet, cat(eth(etherTypeVLAN), []byte{0, 100}), ErrTruncated, withEth(summary{Truncated: true}, 0)},
		{"arp", LinkEthernet, cat(eth(0x0806), arp), nil, withEth(summary{}, 0)},
		{"arp in vlan", LinkEthernet, cat(eth(0x0806, etherTypeVLAN), arp), nil, withEth(summary{}, 1)},
		{"802.3 llc", LinkEthernet, cat(eth(0x0026), []byte{0x42, 0x42, 0x03}), nil, withEth(summary{}, 0)},
		{"ethernet cut", LinkEthernet, eth(etherTypeIPv4)[:13], ErrTruncated, summary{Truncated: true}},
		{"mpls ipv4", LinkEthernet, cat(eth(etherTypeMPLS), mplsLabel(16, false), mplsLabel(17, true), v4udp), nil, withEth(wantV4, 0)},
		{"mpls ipv6", LinkEthernet, cat(eth(etherTypeMPLS), mplsLabel(2, true), v6udp), nil, withEth(wantV6, 0)},
		{"mpls control word", LinkEthernet, cat(eth(etherTypeMPLS), mplsLabel(16, true), be32(0), eth(etherTypeIPv4), v4udp), nil, withEth(summary{}, 0)},
		{"mpls no bottom", LinkEthernet, cat(eth(etherTypeMPLS), mplsLabel(16, false), mplsLabel(17, false)), ErrTruncated, withEth(summary{Truncated: true}, 0)},
		{"mpls empty payload", LinkEthernet, cat(eth(etherTypeMPLS), mplsLabel(16, true)), ErrTruncated, withEth(summary{Truncated: true}, 0)},
		{"sll ethernet address", LinkLinuxSLL, cat(sllHdr(6, etherTypeIPv4), v4udp), nil, sllEth},
		{"sll no address", LinkLinuxSLL, cat(sllHdr(0, etherTypeIPv4), v4udp), nil, sllNoAddr},
		{"sll vlan protocol", LinkLinuxSLL, cat(sllHdr(6, etherTypeMPLS), mplsLabel(3, true), v4udp), nil, sllEth},
		{"sll llc", LinkLinuxSLL, cat(sllHdr(6, 0x0004), []byte{0x42, 0x42, 0x03}), nil, summary{HasEth: true, EthSrc: macSrc}},
		{"sll cut", LinkLinuxSLL, sllHdr(6, etherTypeIPv4)[:15], ErrTruncated, summary{Truncated: true}},
		{"sll2 ipv6", LinkLinuxSLL2, cat(sll2Hdr(6, etherTypeIPv6), v6udp), nil, sll2Eth},
		{"sll2 no address", LinkLinuxSLL2, cat(sll2Hdr(0, etherTypeIPv6), v6udp), nil, wantV6},
		{"sll2 cut", LinkLinuxSLL2, sll2Hdr(6, etherTypeIPv6)[:19], ErrTruncated, summary{Truncated: true}},
		{"null little-endian inet", LinkNull, cat(le(afInet), v4udp), nil, wantV4},
		{"null big-endian inet", LinkNull, cat(be32(afInet), v4udp), nil, wantV4},
		{"null inet6 24", LinkNull, cat(le(afInet6BSD), v6udp), nil, wantV6},
		{"null inet6 28", LinkNull, cat(be32(afInet6FreeBS), v6udp), nil, wantV6},
		{"null inet6 30", LinkNull, cat(le(afInet6Darwin), v6udp), nil, wantV6},
		{"null other family", LinkNull, cat(le(7), v4udp), nil, summary{}},
		{"null cut", LinkNull, []byte{2, 0, 0}, ErrTruncated, summary{Truncated: true}},
		{"loop inet", LinkLoop, cat(be32(afInet), v4udp), nil, wantV4},
		{"loop little-endian is not inet", LinkLoop, cat(le(afInet), v4udp), nil, summary{}},
		{"raw ipv4", LinkRaw, v4udp, nil, wantV4},
		{"raw ipv6", LinkRaw, v6udp, nil, wantV6},
		{"raw 12", 12, v4udp, nil, wantV4},
		{"raw 14", 14, v6udp, nil, wantV6},
		{"raw version 5", LinkRaw, cat([]byte{0x50}, v4udp[1:]), nil, summary{}},
		{"raw empty", LinkRaw, nil, ErrTruncated, summary{Truncated: true}},
		{"ipv4 link", LinkIPv4, v4udp, nil, wantV4},
		{"ipv6 link", LinkIPv6, v6udp, nil, wantV6},
		{"ipv4 link with ipv6", LinkIPv4, v6udp, ErrMalformed, summary{}},
		{"ipv6 link with ipv4", LinkIPv6, cat(v4udp, make([]byte, 20)), ErrMalformed, summary{}},
		{"unknown link", 147, v4udp, ErrUnsupportedLink, summary{}},
	})
}

func TestLinkTypeSupported(t *testing.T) {
	for _, lt := range []LinkType{LinkNull, LinkEthernet, LinkRaw, LinkLoop, LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkLinuxSLL2, 12, 14} {
		if !lt.Supported() {
			t.Errorf("%d not supported", lt)
		}
		_, err, _ := decodeOne(t, lt, nil)
		if err != ErrTruncated {
			t.Errorf("link %d, empty frame: err %v, want %v", lt, err, ErrTruncated)
		}
	}
	if LinkType(147).Supported() {
		t.Errorf("147 supported")
	}
}

func TestUnsupportedCounted(t *testing.T) {
	d := NewDecoder(Config{})
	var p Packet
	frames := []struct {
		lt   LinkType
		data []byte
	}{
		{LinkEthernet, cat(eth(0x0806), make([]byte, 28))},
		{LinkNull, cat(be32(7), make([]byte, 20))},
		{147, make([]byte, 40)},
	}
	for _, f := range frames {
		_ = d.Decode(f.lt, f.data, 0, len(f.data), &p)
	}
	if st := d.Stats(); st.Unsupported != 3 || st.Packets != 3 || st.Truncated != 0 || st.Malformed != 0 {
		t.Errorf("stats %+v, want 3 packets, 3 unsupported", st)
	}
}
