package tcpasm

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// checkInvariants verifies the memory bounds and internal consistency of a.
func checkInvariants(tb testing.TB, a *Assembler) {
	tb.Helper()
	if a.flows.n > a.cfg.MaxFlows {
		tb.Fatalf("%d flows, MaxFlows %d", a.flows.n, a.cfg.MaxFlows)
	}
	checkTable(tb, &a.flows)
	n := 0
	for f := a.order.head; f != nil; f = f.next {
		n++
		if n > a.flows.n {
			tb.Fatalf("LRU list longer than the flow table (%d)", a.flows.n)
		}
		if a.flows.get(&f.key, a.flows.hash(&f.key)) != f {
			tb.Fatalf("LRU flow %v not in the table", f.key)
		}
		for d := range f.half {
			h := &f.half[d]
			if h.desync && h.pending() {
				tb.Fatalf("direction out of sync holds data")
			}
			if len(h.buf) > a.cfg.MaxBuffered {
				tb.Fatalf("framing buffer %d bytes, MaxBuffered %d", len(h.buf), a.cfg.MaxBuffered)
			}
			if len(h.held) > a.cfg.MaxOutOfOrder {
				tb.Fatalf("%d held segments, MaxOutOfOrder %d", len(h.held), a.cfg.MaxOutOfOrder)
			}
			sum := 0
			for i, sg := range h.held {
				sum += len(sg.data)
				if seqDiff(sg.seq, h.next) <= 0 {
					tb.Fatalf("held segment %d at %d not ahead of next %d", i, sg.seq, h.next)
				}
				if i > 0 && seqDiff(sg.seq, h.held[i-1].seq) <= 0 {
					tb.Fatalf("held segments out of order at %d", i)
				}
			}
			if sum != h.heldBytes || sum > a.cfg.MaxBuffered {
				tb.Fatalf("held bytes %d, counted %d, MaxBuffered %d", sum, h.heldBytes, a.cfg.MaxBuffered)
			}
		}
	}
	if n != a.flows.n {
		tb.Fatalf("LRU list has %d flows, table %d", n, a.flows.n)
	}
	if held := heldMemory(a); held != a.buffered || held > a.cfg.MaxBufferedTotal {
		tb.Fatalf("flows hold %d bytes, accounted %d, MaxBufferedTotal %d", held, a.buffered, a.cfg.MaxBufferedTotal)
	}
	checkTombstones(tb, a)
}

// checkTombstones verifies the bounds and index of a's tombstones, and
// that no flow is both tracked and tombstoned.
func checkTombstones(tb testing.TB, a *Assembler) {
	tb.Helper()
	t := &a.tombs
	if len(t.ring) > t.max || t.n > len(t.ring) || t.max != a.cfg.MaxTombstones {
		tb.Fatalf("tombstones: ring %d, live %d, max %d (MaxTombstones %d)", len(t.ring), t.n, t.max, a.cfg.MaxTombstones)
	}
	live := 0
	for pos := range t.ring {
		e := &t.ring[pos]
		if !e.live {
			continue
		}
		live++
		if got := t.find(&e.key, e.hash); got != pos {
			tb.Fatalf("live tombstone at %d found at %d", pos, got)
		}
		if a.flows.get(&e.key, e.hash) != nil {
			tb.Fatalf("tombstoned flow %v is also tracked", e.key)
		}
	}
	indexed := 0
	for _, sl := range t.slots {
		if sl.pos != 0 {
			indexed++
			if e := &t.ring[sl.pos-1]; !e.live || e.hash != sl.hash {
				tb.Fatalf("index slot points at ring %d: live %t", sl.pos-1, e.live)
			}
		}
	}
	if live != t.n || indexed != t.n {
		tb.Fatalf("tombstones: %d live, %d indexed, n %d", live, indexed, t.n)
	}
}

// FuzzAssembler feeds segment sequences derived from the input: per
// segment a control byte (direction, flags, client port), a 16-bit sequence
// offset from a base ISN taken from the first 4 bytes, a time step and a
// payload length, then the payload. The low bits of the ISN's last byte
// also choose MaxBufferedTotal, from one to sixteen 512-byte buffers.
func FuzzAssembler(f *testing.F) {
	f.Add([]byte("\xff\xff\xff\xf0\x02\x00\x00\x01\x00\x82\x00\x00\x01\x00\x10\x00\x01\x01\x06\x00\x04abcd"))
	f.Add([]byte("\x00\x00\x00\x00\x10\x00\x08\x01\x04\x00\x03xyz\x10\x00\x00\x01\x02\x00\x01\x90\x00\x04\x01\x00"))
	f.Add([]byte("\x7f\xff\xff\xff\x01\x00\x00\x05\x00\xff\xff\x04\x00\x00\x00\x05\x00"))
	f.Fuzz(fuzzAssemble)
}

// fuzzAssemble is the body of [FuzzAssembler].
func fuzzAssemble(t *testing.T, in []byte) {
	{
		if len(in) < 4 {
			return
		}
		base := binary.BigEndian.Uint32(in)
		in = in[4:]
		cfg := Config{
			MaxFlows: 2, IdleTimeoutNanos: 200, MaxOutOfOrder: 4, MaxBuffered: 64, StripPrefix: DNSPrefixLen,
			MaxTombstones: 2, MaxBufferedTotal: 512 * int(1+base%16),
		}
		emit := func(p *decode.Packet, _ bool, msg []byte) {
			// A message is either framed in place from one segment (at
			// most 255 bytes here) or from the bounded framing buffer.
			if len(msg) > max(cfg.MaxBuffered, 255) {
				t.Fatalf("message of %d bytes, MaxBuffered %d", len(msg), cfg.MaxBuffered)
			}
			if p.L4 != decode.L4TCP || !p.SrcIP.IsValid() {
				t.Fatalf("emit with packet %+v", p)
			}
		}
		a := New(cfg, DNSFramer, emit)
		cli := netip.AddrFrom4([4]byte{10, 0, 0, 1})
		srv := netip.AddrFrom4([4]byte{10, 0, 0, 2})
		var p decode.Packet
		var ts int64
		var prev Stats
		for len(in) >= 5 {
			ctl, off, step, n := in[0], binary.BigEndian.Uint16(in[1:]), in[3], int(in[4])
			in = in[5:]
			n = min(n, len(in))
			p.Reset()
			ts += int64(step)
			p.TS, p.L3, p.L4 = ts, decode.L3IPv4, decode.L4TCP
			port := 40000 + uint16(ctl>>6)%3
			if ctl&0x20 != 0 {
				p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = srv, cli, 53, port
			} else {
				p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = cli, srv, port, 53
			}
			p.TCPFlags = ctl & 0x1f
			p.TCPSeq = base + uint32(off)
			p.Payload = in[:n]
			in = in[n:]
			a.Packet(&p)
			checkInvariants(t, a)
			st := a.Stats()
			if st.Messages < prev.Messages || st.Errors < prev.Errors || st.Opened < prev.Opened {
				t.Fatalf("counters went down: %+v after %+v", st, prev)
			}
			prev = st
		}
		a.CloseAll()
		st := a.Stats()
		if st.Flows != 0 || st.Buffered != 0 || st.Opened != st.Closed+st.Evicted+st.TimedOut {
			t.Fatalf("flows not accounted for after CloseAll: %+v", st)
		}
		for c := range a.pool.free {
			if got, lim := len(a.pool.free[c]), max(retainBytesPerClass>>(c+minClassShift), minRetain); got > lim {
				t.Fatalf("free list %d holds %d buffers, limit %d", c, got, lim)
			}
		}
	}
}
