package dns

import (
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/sketch"
)

// topNLimit is how many items a default [sketch.TopN] tracks before its
// first purge: 3/4 of its 2^DefaultLgMaxMapSize slots. Below it a TopN's
// counts are exact and its state depends only on the keys' first
// occurrences and final counts, not on how the updates were grouped.
const topNLimit = 3 << (sketch.DefaultLgMaxMapSize - 2)

// The qname-keyed sketches of a bucket a [nameTally] batches for, by index.
const (
	sinkCard      = iota // qnameCard
	sinkQname2           // topQname2, keyed by the aggregated name
	sinkQname3           // topQname3, keyed by the aggregated name
	sinkNX               // topNX
	sinkRefused          // topRefused
	sinkSrvfail          // topSrvfail
	sinkNoerror          // topNoerror
	sinkNodata           // topNodata
	sinkRespBytes        // topQnameByRespBytes
	numSinks
)

// initialNameSlots is the index size a nameTally starts with.
const initialNameSlots = 1 << 10

// nameCount is one qname of a nameTally and its pending weight per sink.
type nameCount struct {
	hash   uint64
	off, n uint32 // the name is arena[off : off+n]
	suffix int    // static suffix length to aggregate with (see filters.pass)
	w      [numSinks]uint64
}

// nameTally counts the qname-keyed updates of a bucket per distinct qname
// and hands them to the sketches in batches: one hash and one table probe
// per message instead of an update (hash, probe, compare) of every
// qname-keyed sketch the message touches, and the aggregation into
// qname2/qname3 once per distinct name.
//
// As for [tally], each TopN ends up exactly as if it had been updated
// message by message: every sink keeps the names it counted in the order
// it first counted them, which is the order in which its keys (also the
// aggregated ones) first occurred, and batching stops (until reset) before
// any TopN could hold more than [topNLimit] items. The cardinality sketch
// is order-independent. Flush before reading, merging or closing the
// sketches. Single-goroutine.
type nameTally struct {
	slots  []int32 // index into names + 1; 0 = empty; len is a power of two
	names  []nameCount
	arena  []byte
	order  [numSinks][]int32 // per sink: names with a weight, first-counted first
	direct bool              // batching stopped: callers update the sketches themselves
	maxLen int               // the most items any of the TopNs held at the last flush
}

// entry returns the index of name's counts, adding it, or -1 when the
// caller must update the sketches directly.
func (t *nameTally) entry(name []byte, suffix int) int {
	if t.direct {
		return -1
	}
	if t.slots == nil {
		t.slots = make([]int32, initialNameSlots)
	}
	h := sketch.Hash(name)
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for ; t.slots[i] != 0; i = (i + 1) & mask {
		e := &t.names[t.slots[i]-1]
		if e.hash == h && string(t.arena[e.off:e.off+e.n]) == string(name) {
			return int(t.slots[i] - 1)
		}
	}
	if len(t.names)+t.maxLen >= topNLimit {
		return -1 // the caller flushes and goes direct (see stop)
	}
	idx := len(t.names)
	t.names = append(t.names, nameCount{hash: h, off: uint32(len(t.arena)), n: uint32(len(name)), suffix: suffix})
	t.arena = append(t.arena, name...)
	t.slots[i] = int32(idx + 1)
	if 4*len(t.names) > 3*len(t.slots) {
		t.grow()
	}
	return idx
}

// add adds weight w (> 0) to sink s of name idx.
func (t *nameTally) add(idx, s int, w uint64) {
	e := &t.names[idx]
	if e.w[s] == 0 {
		t.order[s] = append(t.order[s], int32(idx))
	}
	e.w[s] += w
}

func (t *nameTally) grow() {
	t.slots = make([]int32, 2*len(t.slots))
	mask := uint64(len(t.slots) - 1)
	for idx := range t.names {
		i := t.names[idx].hash & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = int32(idx + 1)
	}
}

// flush hands the pending weights to b's sketches and empties t. With
// nothing pending it does not write.
func (t *nameTally) flush(b *bucket) {
	if len(t.names) == 0 {
		return
	}
	tops := b.nameTops()
	for s := range numSinks {
		for _, idx := range t.order[s] {
			e := &t.names[idx]
			name := t.arena[e.off : e.off+e.n]
			switch s {
			case sinkCard:
				b.qnameCard.Insert(name)
			case sinkQname2:
				// Every name counts in qname2 and qname3 together, so
				// their orders are the same: aggregate once for both.
				q2, q3 := dnsmsg.AggregateDomain(name, e.suffix, nil)
				if len(q2) > 0 {
					tops[sinkQname2].Update(q2, e.w[sinkQname2])
				}
				if len(q3) > 0 {
					tops[sinkQname3].Update(q3, e.w[sinkQname3])
				}
			case sinkQname3: // done with sinkQname2
			default:
				tops[s].Update(name, e.w[s])
			}
		}
		t.order[s] = t.order[s][:0]
	}
	t.maxLen = 0
	for _, top := range tops {
		if top != nil {
			t.maxLen = max(t.maxLen, top.Len())
		}
	}
	t.clear()
}

// stop flushes t into b and makes callers update the sketches directly
// until reset.
func (t *nameTally) stop(b *bucket) {
	t.flush(b)
	t.direct = true
}

// clear empties the table, keeping its memory.
func (t *nameTally) clear() {
	if len(t.names) == 0 {
		return
	}
	clear(t.slots)
	t.names = t.names[:0]
	t.arena = t.arena[:0]
}

// reset empties t for a reset bucket and resumes batching.
func (t *nameTally) reset() {
	for s := range t.order {
		t.order[s] = t.order[s][:0]
	}
	t.clear()
	t.direct = false
	t.maxLen = 0
}
