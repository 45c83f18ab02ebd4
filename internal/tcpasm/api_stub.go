// Package tcpasm reassembles TCP byte streams just far enough to cut them
// into length-framed application messages (DNS over TCP, RFC 7766 §8), with
// a bounded flow table.
package tcpasm

import "github.com/pktvisor-go/pktvisor/internal/decode"

// Framer reports the length of the first complete message at the start of
// buf: n > 0 when buf holds at least one whole message of n bytes
// (including any length prefix), 0 when more bytes are needed, and -1 when
// buf cannot start a message (the stream is then resynchronised: counted as
// an error and the direction's buffer dropped).
type Framer func(buf []byte) int

// DNSFramer frames RFC 1035 §4.2.2 messages: a 2-byte big-endian length and
// that many bytes. The message given to the EmitFunc excludes the prefix.
func DNSFramer(buf []byte) int { panic("unimplemented") }

// EmitFunc receives each complete message. p is the packet whose segment
// completed it (time, addresses, ports, direction); fromClient is true when
// the message travelled from the side that opened the connection (or, with
// no SYN seen, the side with the higher port / first seen). msg is valid
// only during the call.
type EmitFunc func(p *decode.Packet, fromClient bool, msg []byte)

// Config bounds an [Assembler]. Zero values take the defaults.
type Config struct {
	MaxFlows         int   // flows tracked at once (default 300,000, pktvisor's)
	IdleTimeoutNanos int64 // idle flows closed after this in event time (default 30 s)
	MaxOutOfOrder    int   // segments buffered ahead of a hole per direction (default 50)
	MaxBuffered      int   // bytes buffered per direction (default 2*65537)
	StripPrefix      int   // bytes of the framed message not given to EmitFunc (2 for DNS)
}

// Stats counts the assembler's work. All fields only grow except Flows.
type Stats struct {
	Flows       uint64 // flows tracked now
	Opened      uint64
	Closed      uint64 // FIN/RST or end of input
	Evicted     uint64 // closed to make room (LRU)
	TimedOut    uint64 // closed for idleness
	Messages    uint64 // messages emitted
	Errors      uint64 // holes given up on, framing errors, overflow: pktvisor's tcp_reassembly_errors
	OutOfOrder  uint64 // segments that arrived ahead of a hole
	Retransmits uint64 // segments wholly before the expected sequence
}

// Assembler is single-goroutine.
type Assembler struct{}

// New returns an Assembler that frames with f and emits to emit.
func New(cfg Config, f Framer, emit EmitFunc) *Assembler { panic("unimplemented") }

// Packet feeds one TCP segment (p.L4 must be decode.L4TCP).
func (a *Assembler) Packet(p *decode.Packet) { panic("unimplemented") }

// CloseAll closes every flow (end of a capture file); partial messages
// left in a buffer count as errors.
func (a *Assembler) CloseAll() { panic("unimplemented") }

// Stats returns the counters.
func (a *Assembler) Stats() Stats { panic("unimplemented") }
