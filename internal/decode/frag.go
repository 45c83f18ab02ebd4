package decode

import "net/netip"

// Reassembly limits.
const (
	maxDatagram = 65535 // largest IP payload a fragment may reach (RFC 791, RFC 8200)
	fragUnit    = 8     // fragment offsets count 8-byte blocks
	fragBlocks  = (maxDatagram + fragUnit) / fragUnit
	minFragBuf  = 2048
)

// fragKey identifies a datagram under reassembly (RFC 791 section 3.2:
// source, destination, protocol, identification; IPv6 has a 32-bit id).
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

// fragEntry is one datagram under reassembly. Its buffer is kept when the
// entry is freed and reused for the next datagram.
type fragEntry struct {
	key    fragKey
	used   bool
	first  int64 // event time of its first fragment
	total  int   // datagram length once the last fragment is seen, else -1
	maxEnd int   // highest byte offset received
	got    int   // bytes received
	buf    []byte
	blocks [(fragBlocks + 63) / 64]uint64 // 8-byte blocks received
}

// fragTable is a bounded set of datagrams under reassembly. Lookups scan
// the table, which is cheap at the sizes used and needs no map (whose
// deletes and inserts could allocate).
type fragTable struct {
	max     int
	timeout int64
	entries []fragEntry
}

// fragment records one IP fragment of datagram k carrying data at byte
// offset off. It marks p as a fragment (L4 stays [L4Other]) and counts it.
// When the fragment completes the datagram it sets p.Reassembled and
// returns the datagram's payload (valid until the next call) and true.
func (d *Decoder) fragment(p *Packet, k fragKey, off int, more bool, data []byte, ts int64) ([]byte, bool) {
	p.Fragment = true
	p.L4 = L4Other
	d.stats.Fragments++
	if p.Truncated {
		// Bytes are missing: the datagram could never be rebuilt.
		d.stats.FragDiscarded++
		return nil, false
	}
	dgram, done := d.frags.add(k, off, more, data, ts, &d.stats)
	if done {
		p.Reassembled = true
		d.stats.Reassembled++
	}
	return dgram, done
}

// add stores a fragment, expiring datagrams older than the timeout on the
// way. A fragment that overlaps bytes already held (duplicates included:
// the first copy wins), that passes the end of the datagram or 65535
// bytes, or that is not a multiple of 8 bytes without being the last, is
// dropped and counted in st.FragDiscarded.
func (t *fragTable) add(k fragKey, off int, more bool, data []byte, ts int64, st *Stats) ([]byte, bool) {
	end := off + len(data)
	if end > maxDatagram || (more && (len(data) == 0 || len(data)%fragUnit != 0)) {
		st.FragDiscarded++
		return nil, false
	}
	var e *fragEntry
	free, oldest := -1, -1
	for i := range t.entries {
		x := &t.entries[i]
		if !x.used {
			if free < 0 {
				free = i
			}
			continue
		}
		if ts-x.first > t.timeout {
			x.used = false
			st.FragTimedOut++
			if free < 0 {
				free = i
			}
			continue
		}
		if e == nil && x.key == k {
			e = x
			continue
		}
		if oldest < 0 || x.first < t.entries[oldest].first {
			oldest = i
		}
	}
	if e == nil {
		switch {
		case free >= 0:
			e = &t.entries[free]
		case len(t.entries) < t.max:
			t.entries = append(t.entries, fragEntry{})
			e = &t.entries[len(t.entries)-1]
		default:
			e = &t.entries[oldest]
			st.FragEvicted++
		}
		e.start(k, ts)
	}
	if !e.fits(off, end, more) {
		st.FragDiscarded++
		return nil, false
	}
	if !more {
		e.total = end
	}
	e.mark(off, end)
	if cap(e.buf) < end {
		n := max(end, 2*cap(e.buf), minFragBuf)
		nb := make([]byte, min(n, maxDatagram))
		copy(nb, e.buf[:cap(e.buf)])
		e.buf = nb
	}
	copy(e.buf[off:end], data)
	e.got += len(data)
	e.maxEnd = max(e.maxEnd, end)
	if e.total >= 0 && e.got == e.total {
		e.used = false
		return e.buf[:e.total], true
	}
	return nil, false
}

// start makes e an empty datagram k first seen at ts.
func (e *fragEntry) start(k fragKey, ts int64) {
	clear(e.blocks[:(e.maxEnd+fragUnit*64-1)/(fragUnit*64)]) // no block past maxEnd was set
	e.key = k
	e.used = true
	e.first = ts
	e.total = -1
	e.maxEnd = 0
	e.got = 0
}

// fits reports whether bytes [off, end) can be added: they agree with the
// datagram's known end and overlap nothing received.
func (e *fragEntry) fits(off, end int, more bool) bool {
	if e.total >= 0 && (end > e.total || (!more && end != e.total)) {
		return false
	}
	if !more && end < e.maxEnd {
		return false
	}
	return !e.blockRange(off, end, false)
}

// mark records bytes [off, end) as received.
func (e *fragEntry) mark(off, end int) { e.blockRange(off, end, true) }

// blockRange visits the bitmap words of the 8-byte blocks holding bytes
// [off, end). With set it sets their bits; it reports whether any was
// already set.
func (e *fragEntry) blockRange(off, end int, set bool) bool {
	lo, hi := off/fragUnit, (end+fragUnit-1)/fragUnit
	hit := false
	for lo < hi {
		w, bit := lo/64, lo%64
		n := min(hi-lo, 64-bit)
		mask := (^uint64(0) >> (64 - n)) << bit
		hit = hit || e.blocks[w]&mask != 0
		if set {
			e.blocks[w] |= mask
		}
		lo += n
	}
	return hit
}
