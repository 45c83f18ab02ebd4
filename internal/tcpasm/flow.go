package tcpasm

import (
	"encoding/binary"
	"net/netip"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// endpoint is one side of a flow.
type endpoint struct {
	addr netip.Addr
	port uint16
}

// flowKey identifies a flow independently of direction: side 0 is the
// endpoint with the smaller (address, port), in [netip.Addr.Compare] order
// (IPv4 before IPv6). Addresses are stored 4-in-6 as two big-endian 64-bit
// halves; v6 keeps IPv4 apart from IPv4-mapped IPv6 addresses. Zones are
// not part of the key.
type flowKey struct {
	a0hi, a0lo uint64 // side 0 address
	a1hi, a1lo uint64 // side 1 address
	ports      uint32 // side 0 port << 16 | side 1 port
	v6         uint32 // 1 when side 0 is an IPv6 address
}

// eq reports whether k and o are the same key. It compares field by field
// inline (struct == on six fields would call memequal).
func (k *flowKey) eq(o *flowKey) bool {
	return k.a0lo == o.a0lo && k.a1lo == o.a1lo && k.ports == o.ports &&
		k.a0hi == o.a0hi && k.a1hi == o.a1hi && k.v6 == o.v6
}

// keyOf fills k with the flow key of p and returns its hash under seed
// (see [table.hash]) and the direction index of p within it (0 when p
// travels from side 0). k is written field by field and never copied whole
// on this path: a 16-byte load over two 8-byte stores defeats the CPU's
// store forwarding and costs tens of cycles.
func keyOf(p *decode.Packet, k *flowKey, seed *[3]uint64) (h uint64, d int) {
	if !p.SrcIP.Is4() || !p.DstIP.Is4() {
		return keyOf6(p, k, seed)
	}
	s4, t4 := p.SrcIP.As4(), p.DstIP.As4()
	s, t := binary.BigEndian.Uint32(s4[:]), binary.BigEndian.Uint32(t4[:])
	sp, dp := p.SrcPort, p.DstPort
	if s > t || s == t && dp < sp {
		s, t, sp, dp, d = t, s, dp, sp, 1
	}
	a0, a1, ports := 0xffff<<32|uint64(s), 0xffff<<32|uint64(t), uint32(sp)<<16|uint32(dp)
	k.a0hi, k.a0lo, k.a1hi, k.a1lo = 0, a0, 0, a1
	k.ports, k.v6 = ports, 0
	return hashWords(seed, 0, a0, 0, a1, uint64(ports)<<1), d
}

// keyOf6 is [keyOf] for flows with at least one address that is not IPv4.
func keyOf6(p *decode.Packet, k *flowKey, seed *[3]uint64) (h uint64, d int) {
	// AppendBinary stores each 64-bit half with one 8-byte store that the
	// 8-byte loads below are forwarded from. As16's result would be copied
	// with 16-byte loads over two 8-byte stores, which stalls store
	// forwarding (about 10 ns per address); it is left to the rare cases.
	var buf [32]byte
	b, _ := p.SrcIP.AppendBinary(buf[:0])
	b, _ = p.DstIP.AppendBinary(b)
	var shi, slo, dhi, dlo uint64
	if len(b) == 32 && p.SrcIP.Is6() && p.DstIP.Is6() { // no zones
		shi, slo = binary.BigEndian.Uint64(b[0:]), binary.BigEndian.Uint64(b[8:])
		dhi, dlo = binary.BigEndian.Uint64(b[16:]), binary.BigEndian.Uint64(b[24:])
	} else {
		shi, slo = addrWords(p.SrcIP)
		dhi, dlo = addrWords(p.DstIP)
	}
	sp, dp := p.SrcPort, p.DstPort
	sl, dl := p.SrcIP.BitLen(), p.DstIP.BitLen()
	// The order of netip.Addr.Compare: family, then address, then zone;
	// then the ports.
	var swap bool
	switch {
	case sl != dl:
		swap = sl > dl
	case shi != dhi:
		swap = shi > dhi
	case slo != dlo:
		swap = slo > dlo
	case p.SrcIP != p.DstIP: // same address, different zones
		swap = p.SrcIP.Compare(p.DstIP) > 0
	default:
		swap = dp < sp
	}
	if swap {
		shi, slo, dhi, dlo, sp, dp, sl, d = dhi, dlo, shi, slo, dp, sp, dl, 1
	}
	var v6 uint32
	if sl != 32 {
		v6 = 1
	}
	ports := uint32(sp)<<16 | uint32(dp)
	k.a0hi, k.a0lo, k.a1hi, k.a1lo = shi, slo, dhi, dlo
	k.ports, k.v6 = ports, v6
	return hashWords(seed, shi, slo, dhi, dlo, uint64(ports)<<1|uint64(v6)), d
}

// addrWords returns the 16-byte (4-in-6) form of a as two big-endian
// words.
func addrWords(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// segment is a held out-of-order segment; data is a pooled copy.
type segment struct {
	seq  uint32
	data []byte
}

// half is one direction of a flow.
type half struct {
	started bool   // next is valid
	synSeen bool   // isn is valid
	closed  bool   // FIN or RST seen; later data is ignored
	desync  bool   // the stream position is mid-message; later data is ignored (Stats.Desynced)
	isn     uint32 // sequence number of the SYN
	next    uint32 // next expected sequence number

	// buf holds stream bytes not yet framed (always the start of an
	// unfinished message); nil when empty. Pooled, len ≤ MaxBuffered.
	buf []byte
	// held are segments ahead of next, sorted by sequence number; each
	// data is pooled. len(held) ≤ MaxOutOfOrder, heldBytes ≤ MaxBuffered.
	held      []segment
	heldBytes int
}

// pending reports whether h holds bytes: a framing buffer (possibly empty
// but pooled) or held segments. A half without any has nothing to finish.
func (h *half) pending() bool { return h.buf != nil || len(h.held) > 0 }

// flow is one tracked TCP connection. Flows are linked in LRU order
// (head = most recently used) and recycled through the Assembler. The
// fields every segment touches (key, hash, lastTS, LRU links) come first,
// so that a bare ACK reads one or two cache lines.
type flow struct {
	key        flowKey
	hash       uint64 // table hash of key
	lastTS     int64
	prev, next *flow // LRU links
	client     int   // direction index of the client side
	half       [2]half
	ep         [2]endpoint // side i of key, as netip values
}

// maxHeldCap is the capacity above which a recycled flow's hold list is
// dropped, so that idle flows on the free list stay small.
const maxHeldCap = 8

// reset clears f for reuse, keeping a small hold list's backing array.
// Buffers must already have been released.
func (f *flow) reset() {
	h0, h1 := f.half[0].held, f.half[1].held
	*f = flow{}
	if cap(h0) <= maxHeldCap {
		f.half[0].held = h0[:0]
	}
	if cap(h1) <= maxHeldCap {
		f.half[1].held = h1[:0]
	}
}

// lru is an intrusive doubly linked list of flows.
type lru struct {
	head, tail *flow
}

func (l *lru) pushFront(f *flow) {
	f.prev = nil
	f.next = l.head
	if l.head != nil {
		l.head.prev = f
	} else {
		l.tail = f
	}
	l.head = f
}

func (l *lru) remove(f *flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

func (l *lru) moveToFront(f *flow) {
	if l.head == f {
		return
	}
	l.remove(f)
	l.pushFront(f)
}
