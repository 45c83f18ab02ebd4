package dhcpmsg

import (
	"encoding/binary"
	"net/netip"
)

// Ports of DHCPv4 (RFC 2131 section 4.1).
const (
	ServerPortV4 = 67
	ClientPortV4 = 68
)

// MessageType is the DHCPv4 message type of option 53 (RFC 2132 section
// 9.6). The zero value means the option was absent (a BOOTP message).
type MessageType uint8

// DHCPv4 message types (RFC 2132 section 9.6).
const (
	Discover MessageType = 1
	Offer    MessageType = 2
	Request  MessageType = 3
	Decline  MessageType = 4
	Ack      MessageType = 5
	Nak      MessageType = 6
	Release  MessageType = 7
	Inform   MessageType = 8
)

// BOOTP op codes (RFC 2131 section 2).
const (
	BootRequest = 1
	BootReply   = 2
)

// DHCPv4 option codes this package reads (RFC 2132).
const (
	OptPad         = 0   // section 3.1
	OptHostname    = 12  // section 3.14
	OptRequestedIP = 50  // section 9.1
	OptOverload    = 52  // section 9.3
	OptMessageType = 53  // section 9.6
	OptServerID    = 54  // section 9.7
	OptEnd         = 255 // section 3.2
)

// v4FixedLen is the BOOTP header up to and including the file field
// (RFC 2131 figure 1); the magic cookie follows it.
const v4FixedLen = 236

// magicCookie is 99.130.83.99 (RFC 2131 section 3).
const magicCookie = 0x63825363

// V4 is a parsed DHCPv4 message. Addresses are invalid (zero
// netip.Addr) when their option is absent; header addresses are always
// set, 0.0.0.0 included.
type V4 struct {
	Op    uint8  // BootRequest or BootReply
	HType uint8  // hardware address type (1 = Ethernet)
	HLen  uint8  // hardware address length as sent (may exceed 16)
	Hops  uint8  // relay hops
	XID   uint32 // transaction id
	Secs  uint16
	Flags uint16

	CIAddr netip.Addr // client address (ciaddr)
	YIAddr netip.Addr // "your" address: what the server assigns (yiaddr)
	SIAddr netip.Addr // next server (siaddr)
	GIAddr netip.Addr // relay agent (giaddr)
	CHAddr [16]byte   // client hardware address field; see HardwareAddr

	// MsgType is option 53, or 0 when absent.
	MsgType MessageType
	// Hostname is option 12, a slice into the parsed buffer (see the
	// package comment); nil when absent. Only the first option 12 is read
	// (RFC 3396 concatenation is not done).
	Hostname []byte
	// ServerID is option 54; RequestedIP option 50. Invalid when absent.
	ServerID    netip.Addr
	RequestedIP netip.Addr
	// Overload is option 52 (1 = file, 2 = sname, 3 = both hold options);
	// 0 when absent. The overloaded fields are not parsed.
	Overload uint8
}

// HardwareAddr returns the client hardware address: the first HLen bytes
// of CHAddr (at most 16). It aliases m.
func (m *V4) HardwareAddr() []byte {
	return m.CHAddr[:min(int(m.HLen), len(m.CHAddr))]
}

// ParseV4 parses the DHCPv4 message b (a UDP payload) into m, which it
// resets first. m.Hostname points into b afterwards.
//
// It returns [ErrTruncated] when b is shorter than the fixed header and
// cookie or an option runs past the end of b, [ErrNotDHCP] when the magic
// cookie is wrong, and [ErrMalformed] when option 50, 52, 53 or 54 has the
// wrong length. An options field without an End option ends at the end
// of b. ParseV4 does not allocate.
func ParseV4(b []byte, m *V4) error {
	*m = V4{}
	if len(b) < v4FixedLen+4 {
		return ErrTruncated
	}
	m.Op, m.HType, m.HLen, m.Hops = b[0], b[1], b[2], b[3]
	m.XID = binary.BigEndian.Uint32(b[4:])
	m.Secs = binary.BigEndian.Uint16(b[8:])
	m.Flags = binary.BigEndian.Uint16(b[10:])
	m.CIAddr = netip.AddrFrom4([4]byte(b[12:16]))
	m.YIAddr = netip.AddrFrom4([4]byte(b[16:20]))
	m.SIAddr = netip.AddrFrom4([4]byte(b[20:24]))
	m.GIAddr = netip.AddrFrom4([4]byte(b[24:28]))
	copy(m.CHAddr[:], b[28:44])
	if binary.BigEndian.Uint32(b[v4FixedLen:]) != magicCookie {
		return ErrNotDHCP
	}
	return m.options(b[v4FixedLen+4:])
}

// options walks the options field (RFC 2132 section 2).
func (m *V4) options(b []byte) error {
	var seenType, seenHost, seenServer, seenReq, seenOverload bool
	for i := 0; i < len(b); {
		code := b[i]
		switch code {
		case OptPad:
			i++
			continue
		case OptEnd:
			return nil
		}
		if i+2 > len(b) {
			return ErrTruncated
		}
		n := int(b[i+1])
		v := b[i+2:]
		if n > len(v) {
			return ErrTruncated
		}
		v = v[:n:n]
		i += 2 + n
		switch code {
		case OptMessageType:
			if n != 1 {
				return ErrMalformed
			}
			if !seenType {
				seenType = true
				m.MsgType = MessageType(v[0])
			}
		case OptHostname:
			if !seenHost {
				seenHost = true
				m.Hostname = v
			}
		case OptServerID:
			if n != 4 {
				return ErrMalformed
			}
			if !seenServer {
				seenServer = true
				m.ServerID = netip.AddrFrom4([4]byte(v))
			}
		case OptRequestedIP:
			if n != 4 {
				return ErrMalformed
			}
			if !seenReq {
				seenReq = true
				m.RequestedIP = netip.AddrFrom4([4]byte(v))
			}
		case OptOverload:
			if n != 1 {
				return ErrMalformed
			}
			if !seenOverload {
				seenOverload = true
				m.Overload = v[0]
			}
		}
	}
	return nil
}

// String returns the RFC 2132 name of t ("DHCPDISCOVER", ...), or
// "UNKNOWN" for other values.
func (t MessageType) String() string {
	switch t {
	case Discover:
		return "DHCPDISCOVER"
	case Offer:
		return "DHCPOFFER"
	case Request:
		return "DHCPREQUEST"
	case Decline:
		return "DHCPDECLINE"
	case Ack:
		return "DHCPACK"
	case Nak:
		return "DHCPNAK"
	case Release:
		return "DHCPRELEASE"
	case Inform:
		return "DHCPINFORM"
	}
	return "UNKNOWN"
}
