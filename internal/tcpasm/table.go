package tcpasm

import (
	"math/bits"
	"math/rand/v2"
)

// minTableSlots is the initial size of a flow table (a power of two).
const minTableSlots = 256

// slot is one entry of a [table]: the flow's hash, kept beside the pointer
// so that probes and deletions read no flow they do not need, and the flow
// (nil when the slot is empty).
type slot struct {
	hash uint64
	f    *flow
}

// table is an open-addressing hash table (linear probing, backward-shift
// deletion, no tombstones) from flowKey to *flow. It replaces a Go map on
// the per-segment path: [keyOf] hashes the key once while building it
// ([hashWords]: three 64-bit multiplies with a per-table random seed, so
// that crafted 5-tuples cannot be aimed at one probe chain), and a hit
// compares the stored hash before the full key. The load factor stays at most 3/4; the table grows by
// doubling and never shrinks, as Go maps do not.
type table struct {
	slots []slot
	mask  uint64
	n     int
	seed  [3]uint64
}

// init prepares t for use with a fresh random seed.
func (t *table) init() {
	t.slots = make([]slot, minTableSlots)
	t.mask = minTableSlots - 1
	t.n = 0
	for i := range t.seed {
		t.seed[i] = rand.Uint64() | 1
	}
}

// mum is the folded 128-bit product of a and b (as in wyhash).
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hash returns the 64-bit hash of k under t's seed.
func (t *table) hash(k *flowKey) uint64 {
	return hashWords(&t.seed, k.a0hi, k.a0lo, k.a1hi, k.a1lo, uint64(k.ports)<<1|uint64(k.v6))
}

// hashWords hashes the words of a flow key under seed; pv is the ports and
// the v6 flag packed as in [table.hash]. [keyOf] calls it on the values
// still in registers.
func hashWords(seed *[3]uint64, a0hi, a0lo, a1hi, a1lo, pv uint64) uint64 {
	return mum(mum(a0hi^seed[0], a0lo^0x9e3779b97f4a7c15)^pv,
		mum(a1hi^seed[1], a1lo^0xbf58476d1ce4e5b9)^seed[2])
}

// get returns the flow for k (whose hash is h), or nil.
func (t *table) get(k *flowKey, h uint64) *flow {
	for i := h; ; i++ {
		s := &t.slots[i&t.mask]
		if s.f == nil || s.hash == h && s.f.key.eq(k) {
			return s.f
		}
	}
}

// insert adds f, which must not be in t, under f.hash.
func (t *table) insert(f *flow) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.place(f.hash, f)
	t.n++
}

// place stores f in the first free slot of h's probe chain.
func (t *table) place(h uint64, f *flow) {
	i := h & t.mask
	for t.slots[i].f != nil {
		i = (i + 1) & t.mask
	}
	t.slots[i] = slot{hash: h, f: f}
}

// grow doubles the number of slots and rehashes (from the stored hashes).
func (t *table) grow() {
	old := t.slots
	t.slots = make([]slot, 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.f != nil {
			t.place(s.hash, s.f)
		}
	}
}

// remove deletes f, which must be in t, and shifts later members of its
// probe chain back so that no lookup meets a gap before its key.
func (t *table) remove(f *flow) {
	i := f.hash & t.mask
	for t.slots[i].f != f {
		i = (i + 1) & t.mask
	}
	for j := (i + 1) & t.mask; ; j = (j + 1) & t.mask {
		s := t.slots[j]
		if s.f == nil {
			break
		}
		// s may move back to i only if i lies on its probe path, that is
		// between its home slot and j (cyclically).
		home := s.hash & t.mask
		if (j-home)&t.mask >= (j-i)&t.mask {
			t.slots[i] = s
			i = j
		}
	}
	t.slots[i] = slot{}
	t.n--
}
