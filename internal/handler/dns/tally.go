package dns

import (
	"encoding/binary"
	"math"

	"github.com/pktvisor-go/pktvisor/internal/sketch"
)

// topNLimit is how many items a default [sketch.TopN] tracks before its
// first purge: 3/4 of its 2^DefaultLgMaxMapSize slots. Below it a TopN's
// counts are exact and its state depends only on the keys' first
// occurrences and final counts, not on how the updates were grouped.
const topNLimit = 3 << (sketch.DefaultLgMaxMapSize - 2)

// tally counts 2-byte keys (ports, rcodes, qtypes) in an array in front of
// a TopN and hands the counts to it in batches: one TopN.Update per
// distinct key per flush instead of one per message.
//
// The TopN ends up exactly as if it had been updated message by message:
// keys are flushed in the order they first occurred since the last flush
// (so they take the same slots and arena places), and batching stops for
// good (until reset) before the TopN could hold more than [topNLimit]
// items, the point from which a purge would make the result depend on the
// order of updates. The TopN must be flushed before it is read or merged.
// Single-goroutine.
type tally struct {
	top    *sketch.TopN
	size   int      // keys are < size
	counts []uint32 // by key, allocated on first add
	order  []uint16 // keys with a count, in first-occurrence order
	direct bool     // batching stopped: add updates top directly
	key    [2]byte  // scratch big-endian key
}

func newTally(top *sketch.TopN, size int) tally { return tally{top: top, size: size} }

// add counts key once.
func (t *tally) add(key uint16) {
	if t.direct {
		t.update(key, 1)
		return
	}
	if t.counts == nil {
		t.counts = make([]uint32, t.size)
	}
	c := t.counts[key]
	if c == math.MaxUint32 {
		t.flush()
		c = 0
	}
	if c == 0 {
		if t.top.Len()+len(t.order) >= topNLimit {
			t.flush()
			t.direct = true
			t.update(key, 1)
			return
		}
		t.order = append(t.order, key)
	}
	t.counts[key] = c + 1
}

// flush adds the pending counts to the TopN. With none pending it does
// not write, so read-only copies (snapshots) may be rendered concurrently.
func (t *tally) flush() {
	if len(t.order) == 0 {
		return
	}
	for _, k := range t.order {
		t.update(k, uint64(t.counts[k]))
		t.counts[k] = 0
	}
	t.order = t.order[:0]
}

// reset drops the pending counts and resumes batching (for a reset TopN).
func (t *tally) reset() {
	for _, k := range t.order {
		t.counts[k] = 0
	}
	t.order = t.order[:0]
	t.direct = false
}

func (t *tally) update(key uint16, w uint64) {
	binary.BigEndian.PutUint16(t.key[:], key)
	t.top.Update(t.key[:], w)
}
