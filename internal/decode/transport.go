package decode

import "encoding/binary"

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// Transport header sizes.
const (
	tcpMinHeaderLen = 20 // RFC 9293
	udpHeaderLen    = 8  // RFC 768
	icmpHeaderLen   = 8  // RFC 792 / RFC 4443: type, code, checksum, 4 more
	minL4Label      = 4  // bytes needed before a frame counts as TCP/UDP/ICMP
)

// transport decodes the transport header of protocol proto at the front of
// b into p.
//
// When the header does not fit in b but at least its first 4 bytes (the
// ports, for TCP and UDP) do, p.L4 still names the protocol, the ports are
// filled in, Payload stays nil and ErrTruncated is returned. With fewer
// than 4 bytes p.L4 is [L4Other]. This is what tshark does: checked with
// "editcap -s N" on dns_ipv4_tcp.pcap and dns_ipv4_udp.pcap, the display
// filters "tcp" and "udp" match a frame cut 4 or more bytes into the
// header and none cut 0 to 3 bytes in, so per-protocol counters agree.
func transport(proto uint8, b []byte, p *Packet) error {
	var l4 L4
	switch proto {
	case protoTCP:
		l4 = L4TCP
	case protoUDP:
		l4 = L4UDP
	case protoICMP:
		l4 = L4ICMP
	case protoICMPv6:
		l4 = L4ICMPv6
	default:
		p.L4 = L4Other
		return nil
	}
	if len(b) < minL4Label {
		p.L4 = L4Other
		return ErrTruncated
	}
	p.L4 = l4
	switch l4 {
	case L4TCP:
		return tcp(b, p)
	case L4UDP:
		return udp(b, p)
	}
	return icmp(b, p)
}

// ports fills the source and destination ports if b holds them.
func ports(b []byte, p *Packet) {
	if len(b) >= 4 {
		p.SrcPort = binary.BigEndian.Uint16(b[0:2])
		p.DstPort = binary.BigEndian.Uint16(b[2:4])
	}
}

// tcp decodes a TCP header; Payload is what follows the data offset.
func tcp(b []byte, p *Packet) error {
	ports(b, p)
	if len(b) < tcpMinHeaderLen {
		return ErrTruncated
	}
	p.TCPSeq = binary.BigEndian.Uint32(b[4:8])
	p.TCPAck = binary.BigEndian.Uint32(b[8:12])
	p.TCPFlags = b[13]
	hl := int(b[12]>>4) * 4
	if hl < tcpMinHeaderLen {
		return ErrMalformed
	}
	if len(b) < hl {
		return ErrTruncated
	}
	p.Payload = b[hl:]
	return nil
}

// udp decodes a UDP header. Payload is trimmed to the UDP length when that
// is shorter than the bytes present; a longer length (snaplen) keeps what
// is there. A length of 0 (IPv6 jumbogram, RFC 2675) keeps all bytes.
func udp(b []byte, p *Packet) error {
	ports(b, p)
	if len(b) < udpHeaderLen {
		return ErrTruncated
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	switch {
	case n == 0 || n > len(b):
		p.Payload = b[udpHeaderLen:]
	case n < udpHeaderLen:
		return ErrMalformed
	default:
		p.Payload = b[udpHeaderLen:n]
	}
	return nil
}

// icmp checks that an ICMP or ICMPv6 header fits; Payload is what follows
// its first 8 bytes (echo identifier/sequence, or the unused word before
// an error message's quoted datagram).
func icmp(b []byte, p *Packet) error {
	if len(b) < icmpHeaderLen {
		return ErrTruncated
	}
	p.Payload = b[icmpHeaderLen:]
	return nil
}
