package tcpasm

import "github.com/pktvisor-go/pktvisor/internal/decode"

// Framer reports the length of the first complete message at the start of
// buf: n > 0 when buf holds at least one whole message of n bytes
// (including any length prefix), 0 when more bytes are needed, and -1 when
// buf cannot start a message. After -1 the direction is resynchronised: the
// error is counted, the direction's buffer and the rest of the current
// segment are dropped, and framing restarts at the next segment.
//
// A Framer must not retain buf. A result larger than len(buf) is treated
// like -1.
type Framer func(buf []byte) int

// DNSPrefixLen is the size of the length prefix of DNS over TCP
// (RFC 1035 §4.2.2, RFC 7766 §8); use it as [Config.StripPrefix] with
// [DNSFramer].
const DNSPrefixLen = 2

// DNSFramer frames RFC 1035 §4.2.2 messages: a 2-byte big-endian length and
// that many bytes. A zero length cannot start a DNS message and returns -1.
// With [Config.StripPrefix] = [DNSPrefixLen] the message given to the
// [EmitFunc] excludes the prefix.
func DNSFramer(buf []byte) int {
	if len(buf) < DNSPrefixLen {
		return 0
	}
	n := int(buf[0])<<8 | int(buf[1])
	if n == 0 {
		return -1
	}
	if len(buf) < DNSPrefixLen+n {
		return 0
	}
	return DNSPrefixLen + n
}

// EmitFunc receives each complete message.
//
// p is the packet whose segment completed the message (time, addresses,
// ports, direction). When a message is completed while a flow is closed
// without a packet of the message's own direction at hand (eviction, idle
// timeout, [Assembler.CloseAll], or a FIN/RST sent by the peer), p is a
// synthetic packet owned by the Assembler that carries only TS (the flow's
// last event time), L3, L4, IPProto, SrcIP, DstIP, SrcPort and DstPort.
//
// fromClient is true when the message travelled from the client side of the
// flow (see the package documentation for how the client is chosen).
//
// msg and p are valid only during the call; the function must copy what it
// keeps and must not call back into the Assembler.
type EmitFunc func(p *decode.Packet, fromClient bool, msg []byte)
