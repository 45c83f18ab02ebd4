package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// Test addresses and MACs.
var (
	macDst = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	macSrc = [6]byte{0x02, 0, 0, 0, 0, 0x02}
	v4Src  = netip.MustParseAddr("192.0.2.1")
	v4Dst  = netip.MustParseAddr("198.51.100.2")
	v6Src  = netip.MustParseAddr("2001:db8::1")
	v6Dst  = netip.MustParseAddr("2001:db8::2")
)

// cat concatenates byte slices into a new one.
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// be16 and be32 encode big-endian integers.
func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// eth builds an Ethernet header: each of tpids adds a tag with VLAN id
// 100+i, then the final ethertype et.
func eth(et uint16, tpids ...uint16) []byte {
	b := cat(macDst[:], macSrc[:])
	for i, t := range tpids {
		b = cat(b, be16(t), be16(uint16(100+i)))
	}
	return cat(b, be16(et))
}

// ip4 describes an IPv4 header to build.
type ip4 struct {
	proto    uint8
	id       uint16
	off      int // byte offset (multiple of 8)
	mf       bool
	opts     []byte // multiple of 4
	totalAdj int    // added to the correct total length
	total0   bool   // write a total length of 0
}

// build returns the header followed by payload.
func (h ip4) build(payload []byte) []byte {
	hl := 20 + len(h.opts)
	b := make([]byte, hl)
	b[0] = 0x40 | byte(hl/4)
	total := hl + len(payload) + h.totalAdj
	if h.total0 {
		total = 0
	}
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	binary.BigEndian.PutUint16(b[4:], h.id)
	ff := uint16(h.off / 8)
	if h.mf {
		ff |= ipv4FlagMF
	}
	binary.BigEndian.PutUint16(b[6:], ff)
	b[8] = 64
	b[9] = h.proto
	s, d := v4Src.As4(), v4Dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	copy(b[20:], h.opts)
	return cat(b, payload)
}

// ip6 builds an IPv6 header with next header nh over payload (extension
// headers included in payload); plenAdj is added to the payload length.
func ip6(nh uint8, payload []byte, plenAdj int) []byte {
	b := make([]byte, 40)
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)+plenAdj))
	b[6] = nh
	b[7] = 64
	s, d := v6Src.As16(), v6Dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return cat(b, payload)
}

// ext6opts builds a hop-by-hop/routing/destination options header of
// (n+1)*8 bytes announcing next header nh.
func ext6opts(nh uint8, n int) []byte {
	b := make([]byte, (n+1)*8)
	b[0], b[1] = nh, byte(n)
	return b
}

// frag6hdr builds an IPv6 Fragment header.
func frag6hdr(nh uint8, off int, more bool, id uint32) []byte {
	fo := uint16(off)
	if more {
		fo |= 1
	}
	return cat([]byte{nh, 0}, be16(fo), be32(id))
}

// tcpSeg builds a TCP segment; opts must be a multiple of 4 bytes.
func tcpSeg(sport, dport uint16, seq, ack uint32, flags uint8, opts, payload []byte) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint32(b[8:], ack)
	b[12] = byte((20+len(opts))/4) << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], 65535)
	return cat(b, opts, payload)
}

// udpDgram builds a UDP datagram; lenAdj is added to the length field.
func udpDgram(sport, dport uint16, payload []byte, lenAdj int) []byte {
	return cat(be16(sport), be16(dport), be16(uint16(8+len(payload)+lenAdj)), be16(0), payload)
}

// icmpEcho builds an ICMP(v6) echo message of type typ.
func icmpEcho(typ uint8, payload []byte) []byte {
	return cat([]byte{typ, 0, 0, 0}, be16(7), be16(1), payload)
}

// summary is the part of a Packet the tests compare.
type summary struct {
	HasEth                bool
	EthSrc                [6]byte
	VLANs                 uint8
	L3                    L3
	L4                    L4
	Src, Dst              string
	Proto                 uint8
	SrcPort, DstPort      uint16
	Flags                 uint8
	Seq, Ack              uint32
	Payload               string
	Fragment, Reassembled bool
	Truncated             bool
	Dir                   Direction
}

// summarize extracts the compared fields of p; absent addresses are "".
func summarize(p *Packet) summary {
	s := summary{
		HasEth: p.HasEth, EthSrc: p.EthSrc, VLANs: p.VLANs, L3: p.L3, L4: p.L4,
		Proto: p.IPProto, SrcPort: p.SrcPort, DstPort: p.DstPort, Flags: p.TCPFlags,
		Seq: p.TCPSeq, Ack: p.TCPAck, Payload: string(p.Payload),
		Fragment: p.Fragment, Reassembled: p.Reassembled, Truncated: p.Truncated, Dir: p.Dir,
	}
	if p.SrcIP.IsValid() {
		s.Src, s.Dst = p.SrcIP.String(), p.DstIP.String()
	}
	return s
}

// decodeOne decodes one frame with a fresh default Decoder.
func decodeOne(tb testing.TB, lt LinkType, data []byte) (summary, error, Stats) {
	tb.Helper()
	d := NewDecoder(Config{})
	var p Packet
	err := d.Decode(lt, data, 1e9, len(data), &p)
	if p.CapLen != len(data) || p.WireLen != len(data) || p.TS != 1e9 || len(p.Data) != len(data) {
		tb.Errorf("frame metadata: CapLen %d WireLen %d TS %d len(Data) %d, want %d/%d/1e9/%d",
			p.CapLen, p.WireLen, p.TS, len(p.Data), len(data), len(data), len(data))
	}
	return summarize(&p), err, d.Stats()
}

// decodeCase is one crafted frame and what Decode must make of it.
type decodeCase struct {
	name string
	link LinkType
	data []byte
	err  error
	want summary
}

// runDecodeCases runs a table of crafted frames.
func runDecodeCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err, _ := decodeOne(t, c.link, c.data)
			if err != c.err {
				t.Errorf("err = %v, want %v", err, c.err)
			}
			if got != c.want {
				t.Errorf("packet\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// Expected summaries of the common test packets.
func v4(l4 L4, proto uint8) summary {
	return summary{L3: L3IPv4, L4: l4, Src: v4Src.String(), Dst: v4Dst.String(), Proto: proto}
}

func v6(l4 L4, proto uint8) summary {
	return summary{L3: L3IPv6, L4: l4, Src: v6Src.String(), Dst: v6Dst.String(), Proto: proto}
}

// withEth adds the Ethernet fields of [eth] frames to s.
func withEth(s summary, vlans uint8) summary {
	s.HasEth, s.EthSrc, s.VLANs = true, macSrc, vlans
	return s
}

// withUDP adds the ports and payload of udpDgram(1053, 53, "hello", 0).
func withUDP(s summary) summary {
	s.SrcPort, s.DstPort, s.Payload = 1053, 53, "hello"
	return s
}

// udpHello is the UDP datagram withUDP describes.
func udpHello() []byte { return udpDgram(1053, 53, []byte("hello"), 0) }
