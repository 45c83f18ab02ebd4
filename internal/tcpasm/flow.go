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

// less orders endpoints by address, then port.
func (e endpoint) less(o endpoint) bool {
	if c := e.addr.Compare(o.addr); c != 0 {
		return c < 0
	}
	return e.port < o.port
}

// flowKey identifies a flow independently of direction: ep[0] is the
// smaller endpoint. It is comparable and used directly as a map key.
type flowKey struct {
	ep [2]endpoint
}

// keyOf returns the flow key of p and the direction index of p within it
// (0 when p travels from ep[0]).
func keyOf(p *decode.Packet) (flowKey, int) {
	src := endpoint{p.SrcIP, p.SrcPort}
	dst := endpoint{p.DstIP, p.DstPort}
	if dst.less(src) {
		return flowKey{ep: [2]endpoint{dst, src}}, 1
	}
	return flowKey{ep: [2]endpoint{src, dst}}, 0
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
