package dns

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// DefaultMaxOpenXacts bounds the queries waiting for a reply per handler;
// when full the oldest is evicted (and counted).
const DefaultMaxOpenXacts = 100_000

// initialXactRing is the ring size a table starts with; it doubles up to
// the bound as traffic needs it.
const initialXactRing = 1024

// xactKey identifies a transaction: the DNS ID and the flow, with the two
// endpoints in a fixed order so query and reply give the same key.
type xactKey struct {
	a, b   [16]byte
	pa, pb uint16
	id     uint16
	tcp    bool
}

// makeXactKey builds the direction-independent key of a message.
func makeXactKey(src, dst netip.Addr, sport, dport, id uint16, tcp bool) xactKey {
	k := xactKey{a: src.As16(), b: dst.As16(), pa: sport, pb: dport, id: id, tcp: tcp}
	if c := compare16(&k.a, &k.b); c > 0 || (c == 0 && k.pa > k.pb) {
		k.a, k.b = k.b, k.a
		k.pa, k.pb = k.pb, k.pa
	}
	return k
}

func compare16(x, y *[16]byte) int {
	hx, hy := binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(y[:8])
	if hx == hy {
		hx, hy = binary.BigEndian.Uint64(x[8:]), binary.BigEndian.Uint64(y[8:])
	}
	switch {
	case hx < hy:
		return -1
	case hx > hy:
		return 1
	}
	return 0
}

// hash mixes the key's words (a multiply-xorshift finaliser per word).
func (k *xactKey) hash() uint64 {
	const m = 0x9E3779B97F4A7C15
	mix := func(h, v uint64) uint64 {
		h ^= v
		h *= m
		return h ^ h>>29
	}
	h := uint64(k.id) | uint64(k.pa)<<16 | uint64(k.pb)<<32
	if k.tcp {
		h |= 1 << 48
	}
	h = mix(0x243F6A8885A308D3, h)
	h = mix(h, binary.LittleEndian.Uint64(k.a[:8]))
	h = mix(h, binary.LittleEndian.Uint64(k.a[8:]))
	h = mix(h, binary.LittleEndian.Uint64(k.b[:8]))
	h = mix(h, binary.LittleEndian.Uint64(k.b[8:]))
	return h
}

// xactEntry is one open query.
type xactEntry struct {
	key  xactKey
	hash uint64
	ts   int64  // query time, Unix nanoseconds
	size uint32 // query size in bytes
	live bool   // false once answered, evicted or timed out
}

// xactResult is what a reply found.
type xactResult uint8

const (
	xactNone     xactResult = iota // no open query with this key
	xactValid                      // answered within the TTL
	xactTimedOut                   // answered after the TTL
)

// xactTable holds open queries in arrival order in a ring (so the oldest
// are purged or evicted first) with an open-addressing index over it
// (linear probing, backward-shift deletion, so no tombstones). It grows by
// doubling up to max open entries and then evicts the oldest; after that
// it never allocates. It is single-goroutine.
type xactTable struct {
	ttl        int64
	max        int
	ring       []xactEntry // len is a power of two
	head, tail uint64      // positions; entry p lives at ring[p&(len-1)]
	index      []int32     // ring slot + 1; 0 = empty; len is 2*len(ring)
	open       int
	evicted    uint64
}

func newXactTable(ttl int64, max int) *xactTable {
	t := &xactTable{ttl: ttl, max: max}
	t.alloc(min(initialXactRing, 1<<bits.Len(uint(max-1))))
	return t
}

func (t *xactTable) alloc(n int) {
	t.ring = make([]xactEntry, n)
	t.index = make([]int32, 2*n)
}

// Open returns the number of queries waiting for a reply.
func (t *xactTable) Open() int { return t.open }

// lookup returns the index slot holding k, or the empty slot where it
// would go, and whether it was found.
func (t *xactTable) lookup(k *xactKey, h uint64) (int, bool) {
	mask := uint64(len(t.index) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.index[i]
		if s == 0 {
			return int(i), false
		}
		e := &t.ring[s-1]
		if e.hash == h && e.key == *k {
			return int(i), true
		}
	}
}

// unindex removes index slot i, shifting later entries of its probe run
// back so lookups never need tombstones.
func (t *xactTable) unindex(i int) {
	mask := len(t.index) - 1
	for j := (i + 1) & mask; t.index[j] != 0; j = (j + 1) & mask {
		home := int(t.ring[t.index[j]-1].hash) & mask
		// Move j into the hole at i unless home lies cyclically in (i, j].
		if i <= j {
			if i < home && home <= j {
				continue
			}
		} else if i < home || home <= j {
			continue
		}
		t.index[i] = t.index[j]
		i = j
	}
	t.index[i] = 0
}

// remove drops the live entry at index slot i.
func (t *xactTable) remove(i int) *xactEntry {
	e := &t.ring[t.index[i]-1]
	e.live = false
	t.open--
	t.unindex(i)
	return e
}

// Start records a query at ts; a query with the same key replaces the
// older one (a retransmission).
func (t *xactTable) Start(k xactKey, ts int64, size int) {
	h := k.hash()
	if i, ok := t.lookup(&k, h); ok {
		t.remove(i)
	}
	t.popDead()
	if t.open >= t.max {
		t.evictOldest()
	}
	if int(t.head-t.tail) == len(t.ring) {
		t.grow()
	}
	slot := int(t.head & uint64(len(t.ring)-1))
	t.ring[slot] = xactEntry{key: k, hash: h, ts: ts, size: uint32(size), live: true}
	t.head++
	t.open++
	i, _ := t.lookup(&k, h)
	t.index[i] = int32(slot + 1)
}

// popDead advances the tail past answered entries.
func (t *xactTable) popDead() {
	mask := uint64(len(t.ring) - 1)
	for t.tail < t.head && !t.ring[t.tail&mask].live {
		t.tail++
	}
}

// evictOldest drops the oldest open query to make room.
func (t *xactTable) evictOldest() {
	mask := uint64(len(t.ring) - 1)
	e := &t.ring[t.tail&mask]
	if i, ok := t.lookup(&e.key, e.hash); ok {
		t.remove(i)
		t.evicted++
	}
	t.tail++
	t.popDead()
}

// grow makes room when the ring is full: it doubles the ring or, at its
// largest, compacts it in place. Either way answered entries still in the
// middle of the ring are dropped. (Evictions happen in Start, by count.)
func (t *xactTable) grow() {
	limit := 1 << bits.Len(uint(t.max-1))
	mask := uint64(len(t.ring) - 1)
	if len(t.ring) >= limit {
		w := t.tail
		for r := t.tail; r < t.head; r++ {
			e := &t.ring[r&mask]
			if !e.live {
				continue
			}
			if w != r {
				t.ring[w&mask] = *e
				e.live = false
				i, _ := t.lookup(&t.ring[w&mask].key, t.ring[w&mask].hash)
				t.index[i] = int32(w&mask + 1)
			}
			w++
		}
		t.head = w
		return
	}
	old := t.ring
	t.alloc(2 * len(old))
	n := 0
	for p := t.tail; p < t.head; p++ {
		e := old[p&mask]
		if !e.live {
			continue
		}
		t.ring[n] = e
		i, _ := t.lookup(&e.key, e.hash)
		t.index[i] = int32(n + 1)
		n++
	}
	t.tail, t.head = 0, uint64(n)
}

// End matches a reply at ts against the open queries. For a valid
// transaction it returns its duration and the query's size. A reply more
// than the TTL after its query is a timeout, not a transaction.
func (t *xactTable) End(k xactKey, ts int64) (r xactResult, dur int64, querySize int) {
	h := k.hash()
	i, ok := t.lookup(&k, h)
	if !ok {
		return xactNone, 0, 0
	}
	e := t.remove(i)
	t.popDead()
	dur = ts - e.ts
	if dur > t.ttl {
		return xactTimedOut, 0, 0
	}
	return xactValid, max(dur, 0), int(e.size)
}

// Purge drops the queries older than the TTL as of ts and returns how many
// it dropped. It walks from the oldest and stops at the first query still
// inside its TTL (arrival order is event-time order, save for small
// reordering between UDP and reassembled TCP, which a later purge catches).
func (t *xactTable) Purge(ts int64) uint64 {
	var n uint64
	mask := uint64(len(t.ring) - 1)
	for ; t.tail < t.head; t.tail++ {
		e := &t.ring[t.tail&mask]
		if !e.live {
			continue
		}
		if ts-e.ts <= t.ttl {
			break
		}
		i, ok := t.lookup(&e.key, e.hash)
		if ok {
			t.remove(i)
			n++
		}
	}
	return n
}
