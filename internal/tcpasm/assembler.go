package tcpasm

import (
	"time"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// Defaults applied by [New] to zero (or negative) [Config] fields.
const (
	// DefaultMaxFlows is pktvisor's tcp_packet_reassembly_cache_limit.
	DefaultMaxFlows = 300_000
	// DefaultIdleTimeoutNanos is pktvisor's 30 s idle limit.
	DefaultIdleTimeoutNanos = int64(30 * time.Second)
	// DefaultMaxOutOfOrder is PcapPlusPlus's maxOutOfOrderFragments.
	DefaultMaxOutOfOrder = 50
	// DefaultMaxBuffered holds two maximum-size DNS messages with their
	// prefixes (RFC 1035 §4.2.2: 2 + 65535 bytes each).
	DefaultMaxBuffered = 2 * 65537
	// DefaultMaxBufferedTotal bounds the buffers of all flows together:
	// 16,384 partial DNS messages of up to 510 bytes (each in a 512-byte
	// buffer), or 32 directions at the MaxBuffered limit.
	DefaultMaxBufferedTotal = 8 << 20
)

// MaxTombstones is chosen from MaxFlows when zero: the same number, but at
// least minDefaultTombstones (a tiny table still remembers the flows it
// evicted a moment ago) and at most maxDefaultTombstones (about 8 MiB).
const (
	minDefaultTombstones = 1024
	maxDefaultTombstones = 65536
)

// MaxIdleChecks is how many least-recently-used flows [Assembler.Packet]
// examines for idleness after each segment (pktvisor's limit).
const MaxIdleChecks = 100

// EvictScan is how many least-recently-used flows an eviction examines
// for one that holds no data.
const EvictScan = 8

// maxFreeFlows bounds the recycled flow structs kept idle.
const maxFreeFlows = 1024

// Config bounds an [Assembler]. Zero values take the defaults above, except
// StripPrefix, whose zero value means "strip nothing".
type Config struct {
	MaxFlows         int   // flows tracked at once (default 300,000, pktvisor's)
	IdleTimeoutNanos int64 // idle flows closed after this in event time (default 30 s)
	MaxOutOfOrder    int   // segments held ahead of a hole per direction (default 50)
	MaxBuffered      int   // bytes per direction in the framing buffer, and again in held segments (default 2*65537); a message that arrives whole in one segment is framed in place whatever its size
	StripPrefix      int   // bytes at the start of each framed message not given to the EmitFunc (2 for DNS)

	// MaxBufferedTotal bounds the buffers held by all flows together, by
	// capacity: framing buffers, held segments and hold lists longer than
	// 8 entries (default 8 MiB). Data that would exceed it is dropped
	// (Stats.OverBudget); see the package documentation.
	MaxBufferedTotal int
	// MaxTombstones is how many evicted flows are remembered so that
	// their later segments are recognised as a continuation rather than
	// taken for a new stream (default MaxFlows, at least 1,024 and at most
	// 65,536; about 130 bytes each).
	MaxTombstones int
}

// withDefaults returns c with zero fields replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.MaxFlows <= 0 {
		c.MaxFlows = DefaultMaxFlows
	}
	if c.IdleTimeoutNanos <= 0 {
		c.IdleTimeoutNanos = DefaultIdleTimeoutNanos
	}
	if c.MaxOutOfOrder <= 0 {
		c.MaxOutOfOrder = DefaultMaxOutOfOrder
	}
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = DefaultMaxBuffered
	}
	if c.StripPrefix < 0 {
		c.StripPrefix = 0
	}
	if c.MaxBufferedTotal <= 0 {
		c.MaxBufferedTotal = DefaultMaxBufferedTotal
	}
	if c.MaxTombstones <= 0 {
		c.MaxTombstones = min(max(c.MaxFlows, minDefaultTombstones), maxDefaultTombstones)
	}
	return c
}

// Stats counts the assembler's work. All fields only grow except Flows and
// Buffered. A flow ends in exactly one of Closed, Evicted and TimedOut; a
// resumed flow is opened (and ends) again.
type Stats struct {
	Flows       uint64 // flows tracked now
	Opened      uint64 // flows created
	Closed      uint64 // closed by FIN (both directions), RST, a new SYN or CloseAll
	Evicted     uint64 // closed to make room (LRU)
	TimedOut    uint64 // closed for idleness
	Messages    uint64 // messages emitted
	Errors      uint64 // holes given up on, framing errors, overflow, unfinished messages at close: pktvisor's tcp_reassembly_errors
	OutOfOrder  uint64 // segments that arrived ahead of a hole
	Retransmits uint64 // segments wholly before the expected sequence (or duplicates of a held one)

	Resumed         uint64 // flows reopened from the tombstone of an evicted flow (also counted in Opened)
	Desynced        uint64 // data segments dropped because their direction lost its place in the message stream (continuing an evicted flow mid-message, or after an over-budget drop)
	Buffered        uint64 // bytes of buffers held now (capacity; at most MaxBufferedTotal)
	OverBudget      uint64 // segments whose data was dropped because MaxBufferedTotal was spent
	OverBudgetBytes uint64 // bytes dropped with them, including the partial message given up
}

// Assembler reassembles TCP flows and frames their byte streams into
// messages. It is not safe for concurrent use: one goroutine (one capture
// worker) owns it. See the package documentation for semantics and memory
// bounds.
type Assembler struct {
	cfg    Config
	framer Framer
	emit   EmitFunc

	flows table
	order lru
	free  []*flow
	pool  bufPool
	tombs tombstones

	// buffered is the capacity of the buffers flows hold (framing
	// buffers, held segments, charged hold lists), at most
	// cfg.MaxBufferedTotal.
	buffered int

	synth decode.Packet // packet handed to emit when no real one fits
	stats Stats
}

// New returns an Assembler that frames with f and emits to emit. Both must
// be non-nil.
func New(cfg Config, f Framer, emit EmitFunc) *Assembler {
	a := &Assembler{
		cfg:    cfg.withDefaults(),
		framer: f,
		emit:   emit,
	}
	a.flows.init()
	a.tombs.max = a.cfg.MaxTombstones
	return a
}

// Config returns the configuration in effect (defaults applied).
func (a *Assembler) Config() Config { return a.cfg }

// Stats returns the counters.
func (a *Assembler) Stats() Stats {
	s := a.stats
	s.Flows = uint64(a.flows.n)
	s.Buffered = uint64(a.buffered)
	return s
}

// Packet feeds one TCP segment; packets with p.L4 != decode.L4TCP are
// ignored. Messages completed by the segment are emitted before Packet
// returns. Afterwards up to [MaxIdleChecks] least-recently-used flows idle
// for longer than IdleTimeoutNanos (by p.TS) are closed.
//
// A segment of an unknown flow opens one only if it carries SYN or data;
// bare ACK, FIN and RST segments of unknown flows are ignored. A flow
// evicted a moment ago is reopened where it stopped (see the package
// documentation). p is not retained; payload bytes that must wait are
// copied.
func (a *Assembler) Packet(p *decode.Packet) {
	if p.L4 != decode.L4TCP {
		return
	}
	var key flowKey
	hash, d := keyOf(p, &key, &a.flows.seed)
	f := a.flows.get(&key, hash)
	if f == nil {
		if p.TCPFlags&decode.TCPSyn == 0 && len(p.Payload) == 0 {
			if a.idleDue(p.TS) {
				a.expire(p.TS, MaxIdleChecks)
			}
			return
		}
		f = a.openOrResume(&key, hash, d, p)
	} else if a.order.head != f {
		a.order.moveToFront(f)
	}
	f.lastTS = p.TS
	// A bare ACK (no data, SYN, FIN or RST) only refreshes the flow.
	if len(p.Payload) != 0 || p.TCPFlags&(decode.TCPSyn|decode.TCPFin|decode.TCPRst) != 0 {
		a.segmentIn(f, d, p)
	}
	if a.idleDue(p.TS) {
		a.expire(p.TS, MaxIdleChecks)
	}
}

// idleDue reports whether the least recently used flow is idle at now, so
// that the per-segment idle check costs one comparison when nothing is.
func (a *Assembler) idleDue(now int64) bool {
	t := a.order.tail
	return t != nil && now-t.lastTS > a.cfg.IdleTimeoutNanos
}

// Expire closes every flow idle for longer than IdleTimeoutNanos at event
// time now and returns how many it closed. [Assembler.Packet] already does
// this for a few flows per segment; a live input calls Expire on its
// heartbeat so that idle periods without TCP traffic still free flows.
func (a *Assembler) Expire(now int64) int {
	return a.expire(now, a.flows.n)
}

// CloseAll closes every flow (end of a capture file). Held segments behind
// a hole are given up on (one error per hole) and framed after resync;
// bytes of an unfinished message left in a framing buffer count as one
// error per direction. Directions with no pending bytes count nothing.
func (a *Assembler) CloseAll() {
	for a.order.tail != nil {
		a.closeFlow(a.order.tail, nil)
		a.stats.Closed++
	}
}

// openOrResume opens the flow for key, restoring the state its eviction
// left in a tombstone when there is one no older than the idle timeout.
func (a *Assembler) openOrResume(key *flowKey, hash uint64, d int, p *decode.Packet) *flow {
	var tb tomb
	// Take the tombstone before open: an eviction by open may overwrite
	// it.
	resume := a.tombs.take(key, hash, &tb) && p.TS-tb.lastTS <= a.cfg.IdleTimeoutNanos
	f := a.open(key, hash, d, p)
	if resume {
		f.client = int(tb.client)
		for d := range f.half {
			t, h := &tb.half[d], &f.half[d]
			h.started, h.synSeen, h.closed, h.desync = t.started, t.synSeen, t.closed, t.desync
			h.isn, h.next = t.isn, t.next
		}
		a.stats.Resumed++
	}
	return f
}

// open creates the flow for key, evicting the least recently used flow when
// the table is full.
func (a *Assembler) open(key *flowKey, hash uint64, d int, p *decode.Packet) *flow {
	if a.flows.n >= a.cfg.MaxFlows && a.order.tail != nil {
		a.evict(a.victim())
	}
	var f *flow
	if n := len(a.free); n > 0 {
		f = a.free[n-1]
		a.free[n-1] = nil
		a.free = a.free[:n-1]
	} else {
		f = new(flow)
	}
	f.key, f.hash = *key, hash
	f.ep[d] = endpoint{p.SrcIP, p.SrcPort}
	f.ep[1-d] = endpoint{p.DstIP, p.DstPort}
	f.client = d
	if p.TCPFlags&(decode.TCPSyn|decode.TCPAck) == decode.TCPSyn|decode.TCPAck {
		f.client = 1 - d
	}
	a.flows.insert(f)
	a.order.pushFront(f)
	a.stats.Opened++
	return f
}

// expire closes up to limit idle flows from the LRU end.
func (a *Assembler) expire(now int64, limit int) int {
	n := 0
	for ; n < limit; n++ {
		f := a.order.tail
		if f == nil || now-f.lastTS <= a.cfg.IdleTimeoutNanos {
			break
		}
		a.closeFlow(f, nil)
		a.stats.TimedOut++
	}
	return n
}

// closeFlow finishes both directions of f, removes it and recycles it. p,
// when non-nil, is the packet that caused the close; it is used for
// messages of its own direction.
func (a *Assembler) closeFlow(f *flow, p *decode.Packet) {
	for d := range f.half {
		if f.half[d].pending() {
			a.finishHalf(f, d, a.packetFor(f, d, p))
		}
	}
	a.removeFlow(f)
}

// victim returns the flow to evict: among the [EvictScan] least recently
// used flows the least recently used one that holds no data (its eviction
// loses nothing: the tombstone resumes it), else the least recently used.
func (a *Assembler) victim() *flow {
	f := a.order.tail
	for i, g := 0, f; i < EvictScan && g != nil; i, g = i+1, g.prev {
		if !g.half[0].pending() && !g.half[1].pending() {
			return g
		}
	}
	return f
}

// evict closes f to make room and leaves a tombstone recording where each
// direction stopped: at a message boundary, or mid-message (desync) when
// finishing it dropped an unfinished message.
func (a *Assembler) evict(f *flow) {
	for d := range f.half {
		h := &f.half[d]
		if h.pending() && !a.finishHalf(f, d, a.packetFor(f, d, nil)) {
			h.desync = true
		}
	}
	a.tombs.put(f)
	a.stats.Evicted++
	a.removeFlow(f)
}

// removeFlow removes f, whose buffers are released, and recycles it. An
// empty hold list is never charged (see [Assembler.releaseHeldList]), so
// nothing is left to uncharge.
func (a *Assembler) removeFlow(f *flow) {
	a.flows.remove(f)
	a.order.remove(f)
	f.reset()
	if len(a.free) < maxFreeFlows {
		a.free = append(a.free, f)
	}
}

// packetFor returns p when it travels in direction d of f, else the
// Assembler's synthetic packet filled in for that direction.
func (a *Assembler) packetFor(f *flow, d int, p *decode.Packet) *decode.Packet {
	src, dst := f.ep[d], f.ep[1-d]
	if p != nil && p.SrcIP == src.addr && p.SrcPort == src.port {
		return p
	}
	s := &a.synth
	s.Reset()
	s.TS = f.lastTS
	s.L3 = decode.L3IPv6
	if src.addr.Is4() {
		s.L3 = decode.L3IPv4
	}
	s.L4 = decode.L4TCP
	s.IPProto = 6
	s.SrcIP, s.DstIP = src.addr, dst.addr
	s.SrcPort, s.DstPort = src.port, dst.port
	return s
}

// segmentIn applies one segment of p to direction d of f.
func (a *Assembler) segmentIn(f *flow, d int, p *decode.Packet) {
	h := &f.half[d]
	flags := p.TCPFlags
	seq := p.TCPSeq
	if flags&decode.TCPSyn != 0 {
		if h.started && (!h.synSeen || seq != h.isn) {
			// A new connection reuses the 4-tuple: finish what the old
			// one left and start over, in both directions for a SYN, in
			// this one for a SYN+ACK.
			a.restartHalf(f, d, p)
			if flags&decode.TCPAck == 0 {
				a.restartHalf(f, 1-d, p)
			}
		}
		if flags&decode.TCPAck == 0 {
			f.client = d
		} else {
			f.client = 1 - d
		}
		if !h.synSeen {
			h.synSeen, h.started = true, true
			h.isn, h.next = seq, seq+1
		}
		seq++ // SYN occupies one sequence number; data (TFO) follows it
	}
	if len(p.Payload) > 0 {
		switch {
		case h.closed:
			if h.started && seqDiff(seq, h.next)+int64(len(p.Payload)) <= 0 {
				a.stats.Retransmits++
			}
		case h.desync:
			if seqDiff(seq, h.next)+int64(len(p.Payload)) <= 0 {
				a.stats.Retransmits++
			} else {
				a.stats.Desynced++
			}
		default:
			if !h.started {
				h.started = true
				h.next = seq
			}
			a.segment(f, d, seq, p.Payload, p)
		}
	}
	switch {
	case flags&decode.TCPRst != 0:
		a.closeFlow(f, p)
		a.stats.Closed++
	case flags&decode.TCPFin != 0 && !h.closed:
		a.finishHalf(f, d, p)
		h.closed = true
		if f.half[1-d].closed {
			a.closeFlow(f, p)
			a.stats.Closed++
		}
	}
}

// restartHalf finishes direction d of f and clears it for a new
// connection on the same 4-tuple.
func (a *Assembler) restartHalf(f *flow, d int, p *decode.Packet) {
	h := &f.half[d]
	if h.pending() {
		a.finishHalf(f, d, a.packetFor(f, d, p))
	}
	a.releaseHeldList(h)
	*h = half{held: h.held}
}

// seqDiff returns a-b in sequence space (RFC 9293 §3.4 modular arithmetic).
func seqDiff(a, b uint32) int64 { return int64(int32(a - b)) }

// segment places data starting at sequence seq into direction d: in-order
// bytes are framed at once, bytes ahead of a hole are held, old bytes are
// trimmed or dropped.
func (a *Assembler) segment(f *flow, d int, seq uint32, data []byte, p *decode.Packet) {
	h := &f.half[d]
	if seqDiff(seq, h.next) > 0 {
		a.stats.OutOfOrder++
	}
	for {
		diff := seqDiff(seq, h.next)
		if diff < 0 {
			if -diff >= int64(len(data)) {
				a.stats.Retransmits++
				return
			}
			data = data[-diff:]
			seq = h.next
			diff = 0
		}
		if diff == 0 {
			a.deliver(f, d, data, p)
			h.next += uint32(len(data))
			a.drain(f, d, p)
			return
		}
		if len(h.held) < a.cfg.MaxOutOfOrder && h.heldBytes+len(data) <= a.cfg.MaxBuffered {
			a.hold(h, seq, data)
			return
		}
		// No room to wait: give up on the current hole and resync at the
		// first held segment (or at this one when nothing is held).
		a.stats.Errors++
		a.dropBuf(h)
		if len(h.held) == 0 {
			h.next = seq
			continue
		}
		h.next = h.held[0].seq
		a.drain(f, d, p)
		if h.desync {
			// Draining lost sync (over budget): nothing more is framed.
			a.stats.Desynced++
			return
		}
	}
}

// hold copies a segment ahead of the hole into the sorted hold list. When
// MaxBufferedTotal cannot cover the copy the segment is dropped (counted
// in Stats.OverBudget) and the hole stays.
func (a *Assembler) hold(h *half, seq uint32, data []byte) {
	i := len(h.held)
	for i > 0 && seqDiff(seq, h.held[i-1].seq) < 0 {
		i--
	}
	if i > 0 && h.held[i-1].seq == seq {
		old := &h.held[i-1]
		if len(old.data) >= len(data) {
			a.stats.Retransmits++
			return
		}
		if !a.fits(bufCap(len(data)) - cap(old.data)) {
			a.dropOverBudget(len(data))
			return
		}
		h.heldBytes += len(data) - len(old.data)
		a.releaseBuf(old.data)
		old.data = append(a.takeBuf(len(data)), data...)
		return
	}
	need, newCap := bufCap(len(data)), 0
	if len(h.held) == cap(h.held) {
		// The caller ensured len(h.held) < MaxOutOfOrder.
		newCap = min(max(2*cap(h.held), 4), a.cfg.MaxOutOfOrder)
		need += heldCharge(newCap) - heldCharge(cap(h.held))
	}
	if !a.fits(need) {
		a.dropOverBudget(len(data))
		return
	}
	if newCap > 0 {
		a.buffered += heldCharge(newCap) - heldCharge(cap(h.held))
		l := make([]segment, len(h.held), newCap)
		copy(l, h.held)
		h.held = l
	}
	buf := append(a.takeBuf(len(data)), data...)
	h.held = append(h.held, segment{})
	copy(h.held[i+1:], h.held[i:])
	h.held[i] = segment{seq: seq, data: buf}
	h.heldBytes += len(data)
}

// drain delivers held segments that have become contiguous with next.
func (a *Assembler) drain(f *flow, d int, p *decode.Packet) {
	h := &f.half[d]
	for len(h.held) > 0 {
		s := h.held[0]
		diff := seqDiff(s.seq, h.next)
		if diff > 0 {
			return
		}
		n := copy(h.held, h.held[1:])
		h.held[n] = segment{}
		h.held = h.held[:n]
		h.heldBytes -= len(s.data)
		if -diff < int64(len(s.data)) {
			data := s.data[-diff:]
			a.deliver(f, d, data, p)
			h.next += uint32(len(data))
		}
		a.releaseBuf(s.data)
	}
	a.releaseHeldList(h)
}

// finishHalf ends direction d of f: holes are given up on (one error each)
// and the held data behind them framed after resync; an unfinished message
// left in the framing buffer counts one error. All buffers are released.
// clean reports that no unfinished message was dropped, so that the
// stream stopped at a message boundary.
func (a *Assembler) finishHalf(f *flow, d int, p *decode.Packet) (clean bool) {
	h := &f.half[d]
	if !h.pending() {
		return true
	}
	for len(h.held) > 0 {
		a.stats.Errors++
		a.dropBuf(h)
		h.next = h.held[0].seq
		a.drain(f, d, p)
	}
	clean = len(h.buf) == 0
	if !clean {
		a.stats.Errors++
	}
	a.dropBuf(h)
	h.heldBytes = 0
	return clean
}

// dropBuf releases the framing buffer of h.
func (a *Assembler) dropBuf(h *half) {
	if h.buf != nil {
		a.releaseBuf(h.buf)
		h.buf = nil
	}
}

// deliver appends in-order stream bytes to direction d and emits every
// message they complete. Bytes that fit no message yet are kept in the
// framing buffer, up to MaxBuffered; a framing error or a message larger
// than MaxBuffered drops the buffer and the rest of data (counted once).
// When MaxBufferedTotal cannot cover the framing buffer, the unfinished
// message and the rest of data are dropped and the direction loses sync
// (see [Assembler.giveUpOverBudget]).
func (a *Assembler) deliver(f *flow, d int, data []byte, p *decode.Packet) {
	h := &f.half[d]
	if h.desync {
		return
	}
	fromClient := d == f.client
	for len(data) > 0 {
		if len(h.buf) == 0 {
			// Fast path: frame straight from the segment; copy only the
			// unfinished tail.
			rest, ok := a.frame(data, p, fromClient)
			if !ok {
				return
			}
			if len(rest) == 0 {
				return
			}
			if len(rest) >= a.cfg.MaxBuffered {
				// A partial message that fills the buffer can never
				// complete in it: give up on it now.
				a.stats.Errors++
				return
			}
			a.dropBuf(h) // a zero-length buffer may still be pooled
			if !a.fits(bufCap(len(rest))) {
				a.giveUpOverBudget(h, len(rest))
				return
			}
			h.buf = append(a.takeBuf(len(rest)), rest...)
			return
		}
		k := min(a.cfg.MaxBuffered-len(h.buf), len(data))
		if len(h.buf)+k > cap(h.buf) {
			if !a.fits(bufCap(len(h.buf)+k) - cap(h.buf)) {
				a.giveUpOverBudget(h, len(h.buf)+len(data))
				return
			}
			nb := append(a.takeBuf(len(h.buf)+k), h.buf...)
			a.releaseBuf(h.buf)
			h.buf = nb
		}
		h.buf = append(h.buf, data[:k]...)
		data = data[k:]
		rest, ok := a.frame(h.buf, p, fromClient)
		if !ok {
			a.dropBuf(h)
			return
		}
		if len(rest) >= a.cfg.MaxBuffered {
			// The message cannot fit: give up on it.
			a.stats.Errors++
			a.dropBuf(h)
			return
		}
		n := copy(h.buf, rest)
		h.buf = h.buf[:n]
		if n == 0 {
			a.dropBuf(h)
		}
	}
}

// Budget accounting. Every buffer a flow holds is taken with takeBuf and
// given back with releaseBuf, and hold lists longer than maxHeldCap are
// charged by capacity, so that a.buffered is exactly what the flows hold.

// fits reports whether n more bytes of buffers stay within MaxBufferedTotal.
func (a *Assembler) fits(n int) bool { return a.buffered+n <= a.cfg.MaxBufferedTotal }

// takeBuf returns an empty pooled buffer with room for n bytes (of
// capacity [bufCap](n)) and charges it; the caller checked [Assembler.fits].
func (a *Assembler) takeBuf(n int) []byte {
	b := a.pool.get(n)
	a.buffered += cap(b)
	return b
}

// releaseBuf gives back a buffer taken with [Assembler.takeBuf].
func (a *Assembler) releaseBuf(b []byte) {
	if b != nil {
		a.buffered -= cap(b)
		a.pool.put(b)
	}
}

// segmentBytes is the size of a [segment] in a hold list (a test checks
// it).
const segmentBytes = 32

// heldCharge is the budget charge of a hold list of capacity c. Lists of
// up to maxHeldCap entries are part of a flow's fixed cost (and kept when
// it is recycled); longer ones are charged and released once empty.
func heldCharge(c int) int {
	if c <= maxHeldCap {
		return 0
	}
	return c * segmentBytes
}

// releaseHeldList drops the empty hold list of h when it is charged. It is
// called wherever a hold list becomes empty, so that finished directions
// hold no charged list.
func (a *Assembler) releaseHeldList(h *half) {
	if len(h.held) == 0 && cap(h.held) > maxHeldCap {
		a.buffered -= heldCharge(cap(h.held))
		h.held = nil
	}
}

// dropOverBudget counts a segment of n bytes dropped because
// MaxBufferedTotal was spent.
func (a *Assembler) dropOverBudget(n int) {
	a.stats.OverBudget++
	a.stats.OverBudgetBytes += uint64(n)
}

// giveUpOverBudget drops the unfinished message of h (n bytes with the
// rest of the segment) because MaxBufferedTotal cannot hold it. The
// stream's next bytes are then mid-message, so the direction loses sync:
// its held segments are dropped too, and its later data is ignored
// (Stats.Desynced) until a new connection starts on the 4-tuple.
func (a *Assembler) giveUpOverBudget(h *half, n int) {
	a.stats.Errors++
	a.dropOverBudget(n + h.heldBytes)
	a.dropBuf(h)
	for i := range h.held {
		a.releaseBuf(h.held[i].data)
		h.held[i] = segment{}
	}
	h.held = h.held[:0]
	h.heldBytes = 0
	a.releaseHeldList(h)
	h.desync = true
}

// frame emits every complete message at the start of b and returns the
// unframed tail; ok is false (and the error counted) when the framer
// rejected the stream.
func (a *Assembler) frame(b []byte, p *decode.Packet, fromClient bool) (rest []byte, ok bool) {
	for len(b) > 0 {
		n := a.framer(b)
		if n == 0 {
			return b, true
		}
		if n < 0 || n > len(b) {
			a.stats.Errors++
			return nil, false
		}
		s := min(a.cfg.StripPrefix, n)
		a.stats.Messages++
		a.emit(p, fromClient, b[s:n])
		b = b[n:]
	}
	return b, true
}
