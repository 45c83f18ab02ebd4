// Package tcpasm reassembles TCP byte streams just far enough to cut them
// into length-framed application messages (DNS over TCP, RFC 7766 §8;
// RFC 1035 §4.2.2), with a bounded flow table.
//
// The mistake to avoid: the message and packet handed to an [EmitFunc] are
// only valid during the call. Copy what you keep.
//
// # Flows and directions
//
// A flow is keyed by its two (address, port) endpoints regardless of
// direction. Each direction keeps the next expected sequence number, a
// framing buffer (stream bytes of an unfinished message) and a sorted list
// of held out-of-order segments.
//
// The client is the side that sent a SYN without ACK (or the receiver of a
// SYN+ACK). When no SYN was seen (the capture started mid-connection) the
// client is the side whose segment opened the flow: the first segment with
// data we saw. A flow resumed after eviction keeps its client (see
// Eviction).
//
// # Sequence numbers
//
// A SYN sets the initial sequence number (next = seq+1). Without a SYN the
// first data segment's sequence number is taken as the start of the
// stream, which may be in the middle of a message: the framer then sees
// whatever bytes follow. Comparisons use modular arithmetic (RFC 9293
// §3.4), so streams wrap around 2^32 transparently.
//
// Segments before next are trimmed; a segment wholly before next is a
// retransmission (Stats.Retransmits). Segments ahead of next are copied and
// held (Stats.OutOfOrder) until the hole is filled, then drained in order.
// A segment cut short by the capture's snaplen is used as captured; its
// missing tail becomes a hole before the next segment.
//
// # Giving up on a hole
//
// When a direction cannot hold another segment (MaxOutOfOrder segments or
// MaxBuffered bytes already held), or when the direction or flow closes
// (FIN, RST, eviction, idle timeout, CloseAll) with segments still held
// behind a hole, the hole is given up on: one error is counted, the framing
// buffer (the partial message before the hole) is dropped, and the stream
// resynchronises at the first held segment. Framing restarts at that
// segment boundary, which is a message boundary whenever the sender wrote
// each message (or its length prefix) in a fresh segment, as DNS servers
// and stub resolvers usually do; otherwise the framer sees a mid-message
// byte and typically reports an error soon after.
//
// A framer error (-1, e.g. a zero DNS length) counts one error and drops
// the framing buffer and the rest of the segment; framing restarts at the
// next segment. A message longer than MaxBuffered is given up the same way.
//
// # Buffer budget
//
// MaxBufferedTotal bounds the buffers of all flows together, counted by
// capacity (Stats.Buffered), so that a peer opening many flows, each with a
// large length prefix and part of the message or with segments ahead of a
// hole, cannot make the Assembler hold more. A segment ahead of a hole that
// does not fit is dropped (Stats.OverBudget, Stats.OverBudgetBytes) and the
// hole stays: a retransmission may still fill it, or it is given up on as
// above. An unfinished message whose bytes do not fit is given up (one
// error; its bytes and the direction's held segments count as over
// budget); the direction's next bytes are then mid-message, so it loses
// sync like a direction evicted mid-message (see Eviction) and its later
// data is dropped (Stats.Desynced) until a new connection starts on the
// 4-tuple. A message that arrives whole in one segment needs no buffer and
// is framed whatever the budget.
//
// # Closing
//
// FIN closes its direction after the data before it was framed; when both
// directions are closed the flow is removed (Stats.Closed). RST removes the
// whole flow at once. A SYN without ACK carrying a new initial sequence
// number starts both directions over (a new connection on the same
// 4-tuple); a SYN+ACK with a new one starts its own direction over. Bytes of an
// unfinished message left in a direction when it closes count one error;
// directions with no pending bytes count nothing. Data after a FIN is
// ignored.
//
// After each segment up to [MaxIdleChecks] least-recently-used flows idle
// for more than IdleTimeoutNanos of event time (packet timestamps) are
// closed (Stats.TimedOut), after the segment's own messages were emitted.
// [Assembler.Expire] does the same for every idle flow, for heartbeats.
// Closing a flow for any reason frames what it can first.
//
// # Eviction
//
// The table holds at most MaxFlows flows; a new flow evicts one
// (Stats.Evicted): the least recently used flow that holds no data among
// the [EvictScan] least recently used, else the least recently used one.
// An evicted connection usually goes on, and a smaller table may lose
// messages but must not invent them: its later segments are not the start
// of a stream, so taking them for one would frame retransmitted bytes a
// second time and read mid-message bytes as a length prefix.
//
// An eviction therefore leaves a tombstone: the flow key, its client side,
// and per direction the next expected sequence number (and ISN, FIN seen)
// after finishing it, and whether that place is a message boundary; it is
// not one when finishing dropped an unfinished message. A later data or
// SYN segment of that key within IdleTimeoutNanos resumes the flow from its
// tombstone (Stats.Resumed; the flow counts as opened again): bytes before
// the recorded sequence are retransmissions, and framing goes on at it.
// A direction that stopped mid-message has no known message boundary any
// more: its later data is dropped (Stats.Desynced) until a SYN with a new
// ISN starts a new connection on the 4-tuple. The held segments of a hole
// are given up on at eviction (see above); bytes of the hole that arrive
// later are retransmissions and are lost.
//
// At most MaxTombstones are kept, the oldest overwritten first; segments
// of a flow whose tombstone was overwritten, or is older than
// IdleTimeoutNanos, are taken for a new flow as if the capture had started
// mid-connection. Only eviction leaves a tombstone: a flow closed by FIN,
// RST, idle timeout or CloseAll does not.
//
// # Memory
//
// Flow structs (288 bytes) and byte buffers are recycled through free
// lists owned by the [Assembler], so steady-state traffic allocates nothing
// per segment. The flow table is an open-addressing hash table of 16-byte
// slots kept between 3/8 and 3/4 full once grown (at most about 43 bytes
// per flow); like a Go map it grows with the peak number of flows and
// never shrinks. Tombstones (88 bytes in a ring, and a 16-byte slot in an
// index kept the same way: at most about 130 bytes each) grow on demand up
// to MaxTombstones and are then overwritten in place.
//
// Byte buffers exist only for directions with pending data: per direction
// at most MaxBuffered bytes of framing buffer plus MaxBuffered bytes of
// held segments, and for all flows together at most MaxBufferedTotal bytes
// of buffer capacity, hold lists longer than 8 entries (32 bytes each)
// included. Shorter hold lists stay with their flow. The worst case is
// therefore
//
//	MaxFlows × (288 B + 43 B + 2 directions × 8 × 32 B) + MaxTombstones × 130 B + MaxBufferedTotal
//
// (with the defaults 300,000 × 587 B + 65,536 × 130 B + 8 MiB ≈ 184 MiB,
// nearly all of it a full flow table; typical DNS flows hold a few hundred
// bytes, if anything). Idle free lists keep at most 1024 flow structs and
// about 10 MiB of buffers.
//
// An Assembler is used by one goroutine.
package tcpasm
