package tcpasm

// tombHalf is the state of one direction of an evicted flow: where its
// stream stood and whether that place is a message boundary.
type tombHalf struct {
	next, isn uint32
	started   bool
	synSeen   bool
	closed    bool
	desync    bool // the direction was mid-message (or already out of sync)
}

// tomb is what an evicted flow leaves behind: enough to recognise its later
// segments and to resume framing where the eviction stopped it.
type tomb struct {
	key    flowKey
	hash   uint64 // table hash of key
	lastTS int64
	half   [2]tombHalf
	client uint8
	live   bool // indexed; false once taken or overwritten
}

// tombSlot is one entry of the tombstone index: the key hash and the ring
// position + 1 (0 when the slot is empty).
type tombSlot struct {
	hash uint64
	pos  int32
}

// tombstones is a bounded set of evicted flows: a ring of at most max
// tombstones, the oldest overwritten first, with an open-addressing index
// by key (linear probing, backward-shift deletion, load at most 3/4, as in
// [table]). Both grow on demand up to their bound and never shrink, so the
// steady state allocates nothing.
type tombstones struct {
	ring []tomb
	old  int // ring position overwritten next once the ring is full
	max  int

	slots []tombSlot
	mask  uint64
	n     int // live tombstones
}

// minTombSlots is the initial size of the tombstone index.
const minTombSlots = 64

// put records the state of f, which is being evicted, overwriting the
// oldest tombstone when the set is full.
func (t *tombstones) put(f *flow) {
	var pos int
	switch {
	case len(t.ring) < cap(t.ring):
		t.ring = t.ring[:len(t.ring)+1]
		pos = len(t.ring) - 1
	case len(t.ring) < t.max:
		nr := make([]tomb, len(t.ring)+1, min(max(2*len(t.ring), 64), t.max))
		copy(nr, t.ring)
		t.ring = nr
		pos = len(t.ring) - 1
	default:
		pos = t.old
		if t.old++; t.old == t.max {
			t.old = 0
		}
		if t.ring[pos].live {
			t.unindex(pos)
		}
	}
	tb := &t.ring[pos]
	tb.key, tb.hash, tb.lastTS = f.key, f.hash, f.lastTS
	tb.client = uint8(f.client)
	for d := range f.half {
		h, th := &f.half[d], &tb.half[d]
		th.next, th.isn = h.next, h.isn
		th.started, th.synSeen, th.closed, th.desync = h.started, h.synSeen, h.closed, h.desync
	}
	tb.live = true
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.place(tb.hash, int32(pos+1))
	t.n++
}

// find returns the ring position of the tombstone for k (whose hash is
// h), or -1.
func (t *tombstones) find(k *flowKey, h uint64) int {
	if t.n == 0 {
		return -1
	}
	for i := h; ; i++ {
		s := &t.slots[i&t.mask]
		if s.pos == 0 {
			return -1
		}
		if s.hash == h && t.ring[s.pos-1].key.eq(k) {
			return int(s.pos - 1)
		}
	}
}

// take copies the tombstone for k (whose hash is h) to out and removes it
// from the set; it reports whether there was one.
func (t *tombstones) take(k *flowKey, h uint64, out *tomb) bool {
	pos := t.find(k, h)
	if pos < 0 {
		return false
	}
	*out = t.ring[pos]
	t.unindex(pos)
	return true
}

// place stores ring position pos+1 in the first free slot of h's probe
// chain.
func (t *tombstones) place(h uint64, pos1 int32) {
	i := h & t.mask
	for t.slots[i].pos != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = tombSlot{hash: h, pos: pos1}
}

// grow doubles the index (or creates it) and rehashes.
func (t *tombstones) grow() {
	old := t.slots
	t.slots = make([]tombSlot, max(2*len(old), minTombSlots))
	t.mask = uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.pos != 0 {
			t.place(s.hash, s.pos)
		}
	}
}

// unindex removes the live tombstone at ring position pos from the index,
// shifting later members of its probe chain back (see [table.remove]).
func (t *tombstones) unindex(pos int) {
	tb := &t.ring[pos]
	i := tb.hash & t.mask
	for t.slots[i].pos != int32(pos+1) {
		i = (i + 1) & t.mask
	}
	for j := (i + 1) & t.mask; ; j = (j + 1) & t.mask {
		s := t.slots[j]
		if s.pos == 0 {
			break
		}
		home := s.hash & t.mask
		if (j-home)&t.mask >= (j-i)&t.mask {
			t.slots[i] = s
			i = j
		}
	}
	t.slots[i] = tombSlot{}
	tb.live = false
	t.n--
}
