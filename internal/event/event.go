package event

import (
	"net/netip"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dhcpmsg"
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
)

// Kind names a type of event.
type Kind uint8

// Event kinds.
const (
	KindPacket Kind = iota
	KindDNS
	KindDHCP
	KindBGP
	KindFlow
	KindProbe
	KindInputStats
	numKinds
)

var kindNames = [numKinds]string{"packet", "dns", "dhcp", "bgp", "flow", "probe", "input_stats"}

// String returns the kind's name ("packet", "dns", ...).
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "unknown"
}

// Packet is one decoded packet (L2-L4 headers and the transport payload).
type Packet = decode.Packet

// Direction is an event's direction relative to the monitored hosts
// (host_spec).
type Direction = decode.Direction

// Directions.
const (
	DirUnknown  = decode.DirUnknown  // "unknown_dir"
	DirToHost   = decode.DirToHost   // "in": the destination is a host address
	DirFromHost = decode.DirFromHost // "out": the source is a host address
)

// Transport is how a DNS message travelled.
type Transport uint8

// DNS transports (dnstap's SocketProtocol names them the same way).
const (
	TransportUDP Transport = iota
	TransportTCP
	TransportDoT
	TransportDoH
	TransportDoQ
	TransportDNSCryptUDP
	TransportDNSCryptTCP
)

var transportNames = [...]string{"udp", "tcp", "dot", "doh", "doq", "dnscrypt_udp", "dnscrypt_tcp"}

// String returns the transport's name ("udp", "tcp", "dot", ...).
func (t Transport) String() string {
	if int(t) < len(transportNames) {
		return transportNames[t]
	}
	return "unknown"
}

// Stream reports whether the transport is stream-oriented (TCP below it).
func (t Transport) Stream() bool {
	switch t {
	case TransportTCP, TransportDoT, TransportDoH, TransportDNSCryptTCP:
		return true
	}
	return false
}

// Endpoints are the addresses and ports of an event.
type Endpoints struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
}

// DNS is one DNS message: a UDP datagram on a DNS port, a length-framed
// message reassembled from TCP, or a message a DNS server reported through
// dnstap.
type DNS struct {
	// TS is the event time in Unix nanoseconds: the capture time of the
	// packet that carried (or completed) the message, or dnstap's query or
	// response time.
	TS int64
	Endpoints
	Dir       Direction
	Transport Transport
	// Size is the DNS message's length in bytes.
	Size int
	// Msg is the parsed message.
	Msg *dnsmsg.Message
	// QueryTime is when the query was seen (Unix nanoseconds), for a
	// response whose input knows it (dnstap's query_time); 0 otherwise.
	QueryTime int64
	// DnstapType is dnstap's Message.Type (1 AUTH_QUERY ... 14
	// TOOL_RESPONSE), 0 when the message did not come from dnstap.
	DnstapType uint8
	// Packet is the packet that carried or completed the message, or nil
	// (dnstap). For TCP its payload is the segment's, not the message's.
	Packet *Packet
}

// DHCP is one UDP datagram on a DHCP port (67/68 for DHCPv4, else
// 546/547 for DHCPv6), parsed once by the input.
type DHCP struct {
	TS int64
	Endpoints
	Dir Direction
	// HasEth is set when the frame had a link-layer header; EthSrc then
	// holds the source MAC.
	HasEth bool
	EthSrc [6]byte
	// V6 is set for DHCPv6 (ports 546/547), else DHCPv4.
	V6 bool
	// Valid is set when the datagram parsed as a DHCP message: then V4 (or
	// V6Msg, for DHCPv6) holds it. An invalid datagram still is an event.
	Valid bool
	V4    *dhcpmsg.V4
	V6Msg *dhcpmsg.V6
	// Packet is the packet that carried the datagram, or nil.
	Packet *Packet
}

// BGP is one BGP message reassembled from TCP port 179 (its parser lands
// with the bgp handler; the shape is fixed here so inputs and handlers
// meet on it).
type BGP struct {
	TS int64
	Endpoints
	Dir Direction
	// Type is the BGP message type (1 OPEN, 2 UPDATE, 3 NOTIFICATION,
	// 4 KEEPALIVE, 5 ROUTE-REFRESH).
	Type uint8
	// Msg is the whole message, header included.
	Msg    []byte
	Packet *Packet
}

// Flow is one flow record of an sFlow, NetFlow or IPFIX datagram, with the
// exporter that sent it.
type Flow struct {
	// TS is the record's end time (or the datagram's arrival time).
	TS int64
	// Exporter is the device that sent the datagram; InIf and OutIf its
	// interface indexes.
	Exporter    netip.Addr
	InIf, OutIf uint32
	Endpoints
	Proto    uint8
	TCPFlags uint8
	ToS      uint8
	// Packets and Bytes are as exported, already multiplied by the
	// sampling rate when the record is sampled.
	Packets, Bytes uint64
	SrcAS, DstAS   uint32
	// Sampling is the exporter's sampling rate (1: every packet).
	Sampling uint32
}

// Probe is the result of one netprobe test (ICMP echo or TCP connect).
type Probe struct {
	TS     int64
	Target string
	Addr   netip.Addr
	// OK is set when the target answered; RTT is then the round trip in
	// nanoseconds. A probe that timed out has OK false.
	OK  bool
	RTT int64
}

// InputStats are an input's counters, given to consumers at least once per
// second of a live stream and at the end of a recorded one.
type InputStats struct {
	TS int64
	// Cumulative since the input started (consumers take differences).
	TCPReassemblyErrors uint64
	OSDrops             uint64 // packets the kernel dropped (libpcap ps_drop, ring full)
	IfDrops             uint64 // packets the interface dropped
	// KernelFiltered is the growth, since the previous InputStats of this
	// input, of the packets a kernel pre-filter kept from user space. It
	// is given on one worker of the input only.
	KernelFiltered uint64
}
