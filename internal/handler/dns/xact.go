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
// endpoints in a fixed order so query and reply give the same key. It is
// five machine words (addresses as big-endian halves of their 16-byte
// form; ports, ID and transport packed in meta), so comparing and hashing
// it is a handful of word operations.
type xactKey struct {
	aHi, aLo, bHi, bLo uint64
	meta               uint64 // pa<<48 | pb<<32 | id<<16 | tcp
}

// makeXactKey returns the direction-independent key of a message.
func makeXactKey(src, dst netip.Addr, sport, dport, id uint16, tcp bool) xactKey {
	var k xactKey
	k.set(src, dst, sport, dport, id, tcp)
	return k
}

// set makes k the direction-independent key of a message. The packet path
// builds keys in place with it, and every copy of a key is field by field:
// the compiler copies a struct this size with 16-byte moves, which stall
// when they read words just stored one at a time.
func (k *xactKey) set(src, dst netip.Addr, sport, dport, id uint16, tcp bool) {
	aHi, aLo := addrWords(src)
	bHi, bLo := addrWords(dst)
	pa, pb := sport, dport
	if aHi > bHi || (aHi == bHi && (aLo > bLo || (aLo == bLo && pa > pb))) {
		aHi, aLo, bHi, bLo = bHi, bLo, aHi, aLo
		pa, pb = pb, pa
	}
	meta := uint64(pa)<<48 | uint64(pb)<<32 | uint64(id)<<16
	if tcp {
		meta |= 1
	}
	k.aHi, k.aLo, k.bHi, k.bLo, k.meta = aHi, aLo, bHi, bLo, meta
}

// copyFrom sets k to o, field by field (see set).
func (k *xactKey) copyFrom(o *xactKey) {
	k.aHi, k.aLo, k.bHi, k.bLo, k.meta = o.aHi, o.aLo, o.bHi, o.bLo, o.meta
}

// equal reports whether k and o are the same key.
func (k *xactKey) equal(o *xactKey) bool {
	return k.meta == o.meta && k.aLo == o.aLo && k.bLo == o.bLo && k.aHi == o.aHi && k.bHi == o.bHi
}

// addrWords returns the big-endian halves of a's 16-byte form (an IPv4
// address is IPv4-mapped). IPv4 takes a path of its own: loading words
// from As16's array stalls on store forwarding.
func addrWords(a netip.Addr) (hi, lo uint64) {
	if a.Is4() {
		v := a.As4()
		return 0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(v[:]))
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// hash mixes the key's words: each is multiplied by its own odd constant
// (independent multiplies the CPU runs in parallel) and the xor of the
// products is finished with a multiply-xorshift, so the low bits the index
// uses depend on all bits of the key.
func (k *xactKey) hash() uint64 {
	h := k.aHi*0x9E3779B97F4A7C15 ^ k.aLo*0xC2B2AE3D27D4EB4F ^ k.bHi*0x165667B19E3779F9 ^
		k.bLo*0xD6E8FEB86659FD93 ^ k.meta*0xFF51AFD7ED558CCD
	h ^= h >> 32
	h *= 0x94D049BB133111EB
	return h ^ h>>29
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
	index      []uint64    // low 32 bits of the hash << 32 | ring slot + 1; 0 = empty; len is 2*len(ring)
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
	t.index = make([]uint64, 2*n)
}

// Open returns the number of queries waiting for a reply.
func (t *xactTable) Open() int { return t.open }

// indexEntry packs what the index keeps of an entry: the low half of its
// hash (enough to find its home slot, and to skip most other keys without
// reading the ring) and its ring slot + 1.
func indexEntry(h uint64, slot int) uint64 { return h<<32 | uint64(slot+1) }

// ringSlot returns the ring slot of a non-empty index entry.
func ringSlot(x uint64) int { return int(uint32(x)) - 1 }

// lookup returns the index slot holding k, or the empty slot where it
// would go, and whether it was found.
func (t *xactTable) lookup(k *xactKey, h uint64) (int, bool) {
	mask := uint64(len(t.index) - 1)
	tag := h << 32
	for i := h & mask; ; i = (i + 1) & mask {
		x := t.index[i]
		if x == 0 {
			return int(i), false
		}
		if x&^0xFFFFFFFF == tag {
			if e := &t.ring[ringSlot(x)]; e.key.equal(k) {
				return int(i), true
			}
		}
	}
}

// unindex removes index slot i, shifting later entries of its probe run
// back so lookups never need tombstones.
func (t *xactTable) unindex(i int) {
	mask := len(t.index) - 1
	for j := (i + 1) & mask; t.index[j] != 0; j = (j + 1) & mask {
		home := int(t.index[j]>>32) & mask
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
	e := &t.ring[ringSlot(t.index[i])]
	e.live = false
	t.open--
	t.unindex(i)
	return e
}

// Start records a query at ts; a query with the same key replaces the
// older one (a retransmission).
func (t *xactTable) Start(k *xactKey, ts int64, size int) {
	h := k.hash()
	// i stays the empty index slot for k unless the index changes below.
	i, ok := t.lookup(k, h)
	moved := ok
	if ok {
		t.remove(i)
	}
	t.popDead()
	if t.open >= t.max {
		t.evictOldest()
		moved = true
	}
	if int(t.head-t.tail) == len(t.ring) {
		t.grow()
		moved = true
	}
	slot := int(t.head & uint64(len(t.ring)-1))
	e := &t.ring[slot]
	e.key.copyFrom(k)
	e.hash, e.ts, e.size, e.live = h, ts, uint32(size), true
	t.head++
	t.open++
	if moved {
		i, _ = t.lookup(k, h)
	}
	t.index[i] = indexEntry(h, slot)
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
				t.index[i] = indexEntry(t.ring[w&mask].hash, int(w&mask))
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
		t.index[i] = indexEntry(e.hash, n)
		n++
	}
	t.tail, t.head = 0, uint64(n)
}

// End matches a reply at ts against the open queries. For a valid
// transaction it returns its duration and the query's size. A reply more
// than the TTL after its query is a timeout, not a transaction.
func (t *xactTable) End(k *xactKey, ts int64) (r xactResult, dur int64, querySize int) {
	h := k.hash()
	i, ok := t.lookup(k, h)
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
