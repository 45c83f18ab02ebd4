package tcpasm

import (
	"net/netip"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// endpoint is one side of a flow.
type endpoint struct {
	addr netip.Addr
	port uint16
}

// flowKey identifies a flow independently of direction: side 0 is the
// endpoint with the smaller (address, port). It is comparable, has no
// padding or pointers (so the map hashes it as plain memory), and is used
// directly as a map key. IPv4 addresses are stored 4-in-6; v6 keeps them
// apart from IPv4-mapped IPv6 addresses.
type flowKey struct {
	addr [2][16]byte
	port [2]uint16
	v6   uint16
}

// keyOf returns the flow key of p and the direction index of p within it
// (0 when p travels from side 0).
func keyOf(p *decode.Packet) (k flowKey, d int) {
	src, dst := p.SrcIP, p.DstIP
	sp, dp := p.SrcPort, p.DstPort
	if c := src.Compare(dst); c > 0 || c == 0 && dp < sp {
		src, dst, sp, dp, d = dst, src, dp, sp, 1
	}
	k.addr[0], k.addr[1] = src.As16(), dst.As16()
	k.port[0], k.port[1] = sp, dp
	if !src.Is4() {
		k.v6 = 1
	}
	return k, d
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

// flow is one tracked TCP connection. Flows are linked in LRU order
// (head = most recently used) and recycled through the Assembler.
type flow struct {
	key    flowKey
	ep     [2]endpoint // side i of key, as netip values
	half   [2]half
	client int // direction index of the client side
	lastTS int64

	prev, next *flow // LRU links
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
