package decode

import "net/netip"

// LinkType is a pcap LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
type LinkType uint32

// Link types the decoder understands.
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkEthernet  LinkType = 1   // IEEE 802.3
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6, version from the first nibble
	LinkLoop      LinkType = 108 // OpenBSD loopback: 4-byte network-order family
	LinkLinuxSLL  LinkType = 113 // Linux "cooked" capture v1
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux "cooked" capture v2
)

// Supported reports whether the decoder can parse frames of link type l.
func (l LinkType) Supported() bool {
	switch l {
	case LinkNull, LinkEthernet, LinkRaw, LinkLoop, LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkLinuxSLL2, 12, 14:
		// 12 and 14 are DLT_RAW on some BSDs and appear in old files.
		return true
	}
	return false
}

// L3 is the network-layer protocol of a packet.
type L3 uint8

// Network-layer protocols.
const (
	L3Unknown L3 = iota
	L3IPv4
	L3IPv6
)

// L4 is the transport-layer protocol of a packet.
type L4 uint8

// Transport-layer protocols. Anything else (and IP fragments that do not
// complete a datagram) is L4Other, pktvisor's "other_l4".
const (
	L4Other L4 = iota
	L4TCP
	L4UDP
	L4ICMP
	L4ICMPv6
)

// Direction of a packet relative to the monitored host(s) of host_spec.
type Direction uint8

// Directions, with pktvisor's JSON names in the comments.
const (
	DirUnknown  Direction = iota // "unknown_dir"
	DirToHost                    // "in": destination is a host address
	DirFromHost                  // "out": source is a host address
)

// TCP flag bits as they appear in the TCP header (RFC 9293).
const (
	TCPFin uint8 = 0x01
	TCPSyn uint8 = 0x02
	TCPRst uint8 = 0x04
	TCPPsh uint8 = 0x08
	TCPAck uint8 = 0x10
)

// Packet is one decoded frame. It is filled in place by [Decoder.Decode];
// see the package comment for how long its slices stay valid.
type Packet struct {
	// TS is the capture time in Unix nanoseconds (event time).
	TS int64
	// WireLen is the frame's length on the wire; CapLen what was captured.
	WireLen int
	CapLen  int

	// Data is the captured frame.
	Data []byte

	// HasEth is true when the frame had an Ethernet (or SLL) header;
	// EthSrc then holds the source MAC (SLL: the link-layer address, if 6 bytes).
	HasEth bool
	EthSrc [6]byte
	EthDst [6]byte
	// VLANs is the number of 802.1Q/802.1ad tags that were skipped.
	VLANs uint8

	L3      L3
	L4      L4
	SrcIP   netip.Addr
	DstIP   netip.Addr
	IPProto uint8 // IP protocol / last IPv6 next header

	SrcPort uint16
	DstPort uint16

	// TCP fields (L4 == L4TCP).
	TCPFlags uint8
	TCPSeq   uint32
	TCPAck   uint32

	// Payload is the transport payload (after the TCP/UDP/ICMP header).
	// For a UDP datagram completed by fragment reassembly it is the whole
	// reassembled UDP payload.
	Payload []byte

	// Fragment is true for every packet that is an IP fragment. Reassembled
	// is true only on the fragment that completed a datagram: that packet
	// carries the datagram's L4 header fields and full Payload.
	Fragment    bool
	Reassembled bool

	// Truncated is true when the capture ended inside a header or the IP
	// length claims more than was captured (snaplen); what could be parsed
	// is still filled in.
	Truncated bool

	Dir Direction
}

// Reset clears p for reuse.
func (p *Packet) Reset() { *p = Packet{} }

// IsSyn reports a TCP segment with SYN set (with or without ACK).
func (p *Packet) IsSyn() bool { return p.L4 == L4TCP && p.TCPFlags&TCPSyn != 0 }
