package sketch

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
)

// Counts16 counts the weight of each 16-bit key (a port, an rcode, a
// qtype) exactly and reports its heaviest keys as [TopN.Top] does. Where a
// TopN of the same keys would hold every key (up to 6,144 of them by
// default), both report the same; beyond, a TopN's estimates carry its
// purges' error and Counts16's stay exact. It exists because an update is
// an array increment: a stream of many distinct keys, such as the random
// source ports of DNS clients, costs a TopN a hash-table miss per update.
//
// The low 8 bits of each weight live in a byte array indexed by key (64
// KiB for all 65,536 keys, so that random keys stay in a core's cache);
// what a byte overflows goes to a map, touched once per 256 of a heavy
// key's updates. Keys are rendered for Top as 2 big-endian bytes. The zero
// value is not usable; see [NewCounts16]. Methods are not safe for
// concurrent use.
type Counts16 struct {
	size  int
	lo    []uint8           // low 8 bits of the weight, by key; grows (a power of two, up to size) to hold the largest key added
	seen  []uint64          // bit per key: has a weight
	hi    map[uint16]uint64 // the weight above the low 8 bits, by key
	keys  []uint16          // keys with a weight, in first-occurrence order
	total uint64
}

// NewCounts16 returns an empty Counts16 for keys below size (at most
// 65,536); larger keys are ignored. Its arrays, 1 byte and 1 bit per key
// up to the largest key added (rounded up to a power of two), grow as
// keys arrive.
func NewCounts16(size int) *Counts16 { return &Counts16{size: min(size, 1<<16)} }

// Add adds weight w to key k. It allocates only while the arrays and the
// key list grow, and when a key's weight first exceeds 8 bits.
func (c *Counts16) Add(k uint16, w uint64) {
	if w == 0 || int(k) >= c.size {
		return
	}
	if int(k) >= len(c.lo) {
		c.grow(k)
	}
	if bit := uint64(1) << (k & 63); c.seen[k>>6]&bit == 0 {
		c.seen[k>>6] |= bit
		c.keys = append(c.keys, k)
	}
	sum := uint64(c.lo[k]) + w
	c.lo[k] = uint8(sum)
	if sum > 0xff {
		c.carry(k, sum&^0xff)
	}
	c.total += w
}

// carry adds v, a multiple of 256, to k's high part.
func (c *Counts16) carry(k uint16, v uint64) {
	if c.hi == nil {
		c.hi = make(map[uint16]uint64)
	}
	c.hi[k] += v
}

// grow makes the arrays hold key k.
func (c *Counts16) grow(k uint16) {
	n := min(max(256, 1<<bits.Len16(k)), c.size)
	lo := make([]uint8, n)
	copy(lo, c.lo)
	seen := make([]uint64, (n+63)/64)
	copy(seen, c.seen)
	c.lo, c.seen = lo, seen
}

// Count returns the weight added to k.
func (c *Counts16) Count(k uint16) uint64 {
	if int(k) >= len(c.lo) {
		return 0
	}
	n := uint64(c.lo[k])
	if c.hi != nil {
		n += c.hi[k]
	}
	return n
}

// Merge adds every key's weight of o to c. o is unchanged.
func (c *Counts16) Merge(o *Counts16) {
	if c == o {
		for _, k := range slices.Clone(o.keys) {
			c.Add(k, c.Count(k))
		}
		return
	}
	for _, k := range o.keys {
		c.Add(k, o.Count(k))
	}
}

// Reset empties c, keeping its memory.
func (c *Counts16) Reset() {
	for _, k := range c.keys {
		c.lo[k] = 0
		c.seen[k>>6] = 0
	}
	c.keys = c.keys[:0]
	clear(c.hi)
	c.total = 0
}

// Len returns the number of keys with a weight.
func (c *Counts16) Len() int { return len(c.keys) }

// Total returns the sum of all weights added.
func (c *Counts16) Total() uint64 { return c.total }

// Top returns up to n keys, weight descending and, on ties, Name
// ascending, where Name = format(key) with the key as 2 big-endian bytes
// (string of them when format is nil), cut at the percentile threshold as
// [TopN.Top] cuts. Estimates are exact weights.
func (c *Counts16) Top(n int, percentile float64, format func(key []byte) string) []Named {
	if n <= 0 || len(c.keys) == 0 {
		return nil
	}
	var cut uint64
	if len(c.keys) > n {
		w := make([]uint64, len(c.keys))
		for i, k := range c.keys {
			w[i] = c.Count(k)
		}
		cut = nthSmallest(w, len(w)-n)
	}
	out := make([]Named, 0, min(n, len(c.keys)))
	var key [2]byte
	for _, k := range c.keys {
		w := c.Count(k)
		if w < cut {
			continue
		}
		binary.BigEndian.PutUint16(key[:], k)
		name := string(key[:])
		if format != nil {
			name = format(key[:])
		}
		out = append(out, Named{Name: name, Estimate: w})
	}
	return finishTop(out, n, percentile)
}

// finishTop sorts the candidates out by estimate descending and Name
// ascending, keeps the first n, and applies the percentile cut of
// [TopN.Top].
func finishTop(out []Named, n int, percentile float64) []Named {
	slices.SortFunc(out, func(a, b Named) int {
		if c := cmp.Compare(b.Estimate, a.Estimate); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	out = out[:min(n, len(out))]
	if percentile > 0 {
		th := percentileThreshold(out, percentile)
		for i, it := range out {
			if it.Estimate < th {
				return out[:i]
			}
		}
	}
	return out
}
