package dhcpmsg

import (
	"encoding/binary"
	"net/netip"
)

// Ports of DHCPv6 (RFC 8415 section 7.2).
const (
	ClientPortV6 = 546
	ServerPortV6 = 547
)

// MessageTypeV6 is a DHCPv6 msg-type (RFC 8415 section 7.3).
type MessageTypeV6 uint8

// DHCPv6 message types (RFC 8415 section 7.3).
const (
	Solicit            MessageTypeV6 = 1
	Advertise          MessageTypeV6 = 2
	RequestV6          MessageTypeV6 = 3
	Confirm            MessageTypeV6 = 4
	Renew              MessageTypeV6 = 5
	Rebind             MessageTypeV6 = 6
	Reply              MessageTypeV6 = 7
	ReleaseV6          MessageTypeV6 = 8
	DeclineV6          MessageTypeV6 = 9
	Reconfigure        MessageTypeV6 = 10
	InformationRequest MessageTypeV6 = 11
	RelayForw          MessageTypeV6 = 12
	RelayRepl          MessageTypeV6 = 13
)

// IsRelay reports whether t is RELAY-FORW or RELAY-REPL, whose header is
// a relay header (RFC 8415 section 9) instead of a transaction id.
func (t MessageTypeV6) IsRelay() bool { return t == RelayForw || t == RelayRepl }

// DHCPv6 option codes this package reads (RFC 8415 section 21).
const (
	OptClientIDV6 = 1 // section 21.2
	OptServerIDV6 = 2 // section 21.3
	OptRelayMsgV6 = 9 // section 21.10
)

// MaxRelayDepth bounds how many nested relay messages [ParseV6Inner]
// unwraps (RFC 8415 section 7.6 HOP_COUNT_LIMIT is 8, so a legitimate
// chain has at most 9 relay headers; we leave room for non-conforming
// relays).
const MaxRelayDepth = 32

// Fixed header lengths (RFC 8415 sections 8 and 9).
const (
	v6HeaderLen    = 4  // msg-type + transaction-id
	v6RelayHdrLen  = 34 // msg-type, hop-count, link-address, peer-address
	v6OptHeaderLen = 4  // option-code + option-len
)

// Relay is the header of a RELAY-FORW or RELAY-REPL message.
type Relay struct {
	MsgType  MessageTypeV6 // RelayForw or RelayRepl
	HopCount uint8
	LinkAddr netip.Addr // link-address (IPv6)
	PeerAddr netip.Addr // peer-address (IPv6)
}

// V6 is a parsed DHCPv6 message.
//
// For a client/server message (not relayed, or unwrapped by
// [ParseV6Inner]) MsgType, XID, ClientID and ServerID describe it. For a
// relay message parsed by [ParseV6], MsgType is RelayForw or RelayRepl,
// Relay holds its header and RelayMsg its Relay Message option. Slices
// point into the parsed buffer (see the package comment).
type V6 struct {
	MsgType MessageTypeV6
	// XID is the 24-bit transaction-id; 0 for a relay message.
	XID uint32
	// ClientID and ServerID are the DUIDs of options 1 and 2 (the first of
	// each); nil when absent.
	ClientID []byte
	ServerID []byte

	// Relays counts the relay headers seen: 0 for a message sent directly,
	// 1 for a relay message parsed by ParseV6, the depth of the chain for
	// ParseV6Inner.
	Relays int
	// Relay is the outermost relay header, valid when Relays > 0.
	Relay Relay
	// RelayMsg is the Relay Message option (9) of the innermost relay
	// header parsed; nil when there is none.
	RelayMsg []byte
}

// ParseV6 parses one DHCPv6 message b (a UDP payload) into m, which it
// resets first. A relay message is not unwrapped: its header goes into
// m.Relay and its Relay Message option into m.RelayMsg.
//
// It returns [ErrTruncated] when b is shorter than its fixed header or an
// option runs past the end of b. ParseV6 does not allocate.
func ParseV6(b []byte, m *V6) error {
	*m = V6{}
	return m.parse(b, true)
}

// ParseV6Inner is [ParseV6] that also unwraps relay messages: it records
// the outermost relay header in m.Relay and the number of relay headers in
// m.Relays, then parses the message carried in the innermost Relay
// Message option into MsgType, XID, ClientID and ServerID. A relay
// message without a Relay Message option leaves MsgType at the innermost
// relay's type. More than [MaxRelayDepth] relay headers give [ErrTooDeep],
// with m.RelayMsg holding the message left wrapped.
// ParseV6Inner does not allocate.
func ParseV6Inner(b []byte, m *V6) error {
	*m = V6{}
	for {
		if err := m.parse(b, m.Relays == 0); err != nil {
			return err
		}
		if !m.MsgType.IsRelay() || m.RelayMsg == nil {
			return nil
		}
		if m.Relays > MaxRelayDepth {
			return ErrTooDeep
		}
		b, m.RelayMsg = m.RelayMsg, nil
		m.ClientID, m.ServerID = nil, nil
	}
}

// parse reads one message level. outer tells whether a relay header is the
// outermost one (and so goes into m.Relay).
func (m *V6) parse(b []byte, outer bool) error {
	if len(b) < 1 {
		return ErrTruncated
	}
	m.MsgType = MessageTypeV6(b[0])
	var opts []byte
	if m.MsgType.IsRelay() {
		if len(b) < v6RelayHdrLen {
			return ErrTruncated
		}
		m.Relays++
		if outer {
			m.Relay = Relay{
				MsgType:  m.MsgType,
				HopCount: b[1],
				LinkAddr: netip.AddrFrom16([16]byte(b[2:18])),
				PeerAddr: netip.AddrFrom16([16]byte(b[18:34])),
			}
		}
		opts = b[v6RelayHdrLen:]
	} else {
		if len(b) < v6HeaderLen {
			return ErrTruncated
		}
		m.XID = uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		opts = b[v6HeaderLen:]
	}
	for len(opts) > 0 {
		if len(opts) < v6OptHeaderLen {
			return ErrTruncated
		}
		code := binary.BigEndian.Uint16(opts)
		n := int(binary.BigEndian.Uint16(opts[2:]))
		v := opts[v6OptHeaderLen:]
		if n > len(v) {
			return ErrTruncated
		}
		v, opts = v[:n:n], v[n:]
		switch code {
		case OptClientIDV6:
			if m.ClientID == nil {
				m.ClientID = v
			}
		case OptServerIDV6:
			if m.ServerID == nil {
				m.ServerID = v
			}
		case OptRelayMsgV6:
			if m.MsgType.IsRelay() && m.RelayMsg == nil {
				m.RelayMsg = v
			}
		}
	}
	return nil
}

// String returns the RFC 8415 name of t ("SOLICIT", ...), or "UNKNOWN".
func (t MessageTypeV6) String() string {
	names := [...]string{"UNKNOWN", "SOLICIT", "ADVERTISE", "REQUEST", "CONFIRM", "RENEW", "REBIND",
		"REPLY", "RELEASE", "DECLINE", "RECONFIGURE", "INFORMATION-REQUEST", "RELAY-FORW", "RELAY-REPL"}
	if int(t) < len(names) {
		return names[t]
	}
	return "UNKNOWN"
}
