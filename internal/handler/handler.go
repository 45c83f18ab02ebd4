package handler

import (
	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
)

// Handler is the life cycle every stream handler has.
type Handler interface {
	// Name is the instance name (pktvisor: "<policy>-<tap>-<module>").
	Name() string
	// Schema is the JSON key of the handler's object ("packets", "dns", ...).
	Schema() string
	// Start sets the first period's start (a file's first packet, or the
	// agent's start time), in Unix nanoseconds.
	Start(ts int64)
	// Tick moves event time forward without an event (heartbeat), closing
	// periods that ended.
	Tick(ts int64)
	// End marks the end of a recorded stream at ts.
	End(ts int64)
	// Bucket renders period n (0 = live) as the handler's JSON object, or
	// nil when every metric group is disabled. now gives the live length.
	Bucket(n int, now int64) (map[string]any, error)
	// Window renders the merge of the n most recent periods.
	Window(n int, now int64) (map[string]any, error)
}

// PacketHandler receives every decoded packet of its input.
type PacketHandler interface {
	Handler
	Packet(p *decode.Packet)
}

// DNSEvent is one DNS message seen on the wire: a UDP datagram on a DNS
// port, or one length-framed message reassembled from TCP.
type DNSEvent struct {
	// P is the packet that carried (or completed) the message; for TCP its
	// Payload is the segment's, not the message.
	P *decode.Packet
	// Msg is the parsed message; valid only during the call.
	Msg *dnsmsg.Message
	// Size is the DNS message's length in bytes.
	Size int
	// TCP is true for a message reassembled from TCP.
	TCP bool
}

// DNSHandler receives DNS messages (after the packet has gone to every
// PacketHandler).
type DNSHandler interface {
	Handler
	DNS(ev *DNSEvent)
}

// DNSRecordsWanter is implemented by DNS handlers that need the answer,
// authority and additional sections parsed (ECS, RRSIG); others get the
// header and question only, which is cheaper.
type DNSRecordsWanter interface {
	WantsDNSRecords() bool
}

// CaptureStats are the cumulative counters of an input, given to
// StatsHandlers at least once per period and at the end of a stream.
type CaptureStats struct {
	TCPReassemblyErrors uint64
	OSDrops             uint64 // packets the kernel dropped (libpcap ps_drop)
	IfDrops             uint64 // packets the interface dropped (ps_ifdrop)
}

// StatsHandler receives the input's capture statistics.
type StatsHandler interface {
	Handler
	CaptureStats(ts int64, s CaptureStats)
}

// KernelFilterCounter is implemented by handlers that count packets a
// kernel-side pre-filter (XDP/TC programs) kept from user space, as if
// they had filtered them themselves.
type KernelFilterCounter interface {
	Handler
	KernelFiltered(ts int64, n uint64)
}
