package sketch

import (
	"bytes"
	"cmp"
	"math"
	"slices"
)

// DefaultLgMaxMapSize is pktvisor's frequent-items map size: a table of
// 2^13 = 8,192 slots per TopN, of which at most 3/4 (6,144 items) are used,
// as in DataSketches.
const DefaultLgMaxMapSize = 13

const (
	// topNLgStart is the table size a new TopN starts with (pktvisor's
	// lg_start_map_size); the table doubles up to 2^lgMaxMapSize.
	topNLgStart = 7
	// topNLgMin and topNLgMaxLimit bound lgMaxMapSize.
	topNLgMin      = 3
	topNLgMaxLimit = 26
	// topNSampleSize is how many counts a purge samples to find the median
	// it subtracts (DataSketches uses 1,024).
	topNSampleSize = 1024
)

// TopN tracks the heaviest byte-string keys of a weighted stream: the
// frequent-items sketch of DataSketches (Misra-Gries counters with a
// reverse purge; Anderson, Bevan, Lang, Liberty, Rhodes, Thaler, "A
// High-Performance Algorithm for Identifying Frequent Items in Data
// Streams", IMC 2017), queried with NO_FALSE_NEGATIVES.
//
// Each tracked key has a count. When more than 3/4 of the table's 2^lg
// slots are used and the table may not grow, a purge finds the median of
// (up to 1,024 sampled) counts, subtracts it from every count, drops the
// keys whose count is no longer positive, and adds it to the sketch's
// offset (its maximum error). For a tracked key the count is a lower bound
// of its true weight and count+offset an upper bound; the reported
// estimate is count+offset, as in DataSketches. An untracked key has an
// estimate of 0 and a true weight of at most offset.
//
// The zero value is not usable; see [NewTopN]. Methods are not safe for
// concurrent use.
type TopN struct{ impl topN }

// Item is one tracked key and its estimate, as returned by [TopN.Items].
type Item struct {
	// Key aliases the sketch's key arena: it is valid until the next
	// Update, Merge or Reset of the sketch and must not be modified.
	Key      []byte
	Estimate uint64
}

// Named is one reported item.
type Named struct {
	Name     string
	Estimate uint64
}

// topNSlot is one slot of the open-addressing table. count == 0 marks an
// empty slot; the key bytes are arena[off : off+n].
type topNSlot struct {
	hash  uint64
	count uint64
	off   uint32
	n     uint32
}

type topN struct {
	slots   []topNSlot // len is a power of two
	mask    uint64
	lgMax   int
	active  int // used slots
	limit   int // used slots allowed before growing or purging: 3/4 of len(slots)
	arena   []byte
	spare   []byte // compaction target of the next purge
	offset  uint64 // sum of purged medians: the maximum error
	total   uint64 // stream weight
	samples []uint64
	keep    []topNSlot
}

// NewTopN returns an empty TopN holding at most 3/4 of 2^lgMaxMapSize items
// (6,144 for the default), as DataSketches' load factor allows.
// lgMaxMapSize <= 0 means [DefaultLgMaxMapSize]; other values are clamped
// to [3, 26]. The table starts at 2^7 slots and grows as keys arrive.
func NewTopN(lgMaxMapSize int) *TopN {
	switch {
	case lgMaxMapSize <= 0:
		lgMaxMapSize = DefaultLgMaxMapSize
	case lgMaxMapSize < topNLgMin:
		lgMaxMapSize = topNLgMin
	case lgMaxMapSize > topNLgMaxLimit:
		lgMaxMapSize = topNLgMaxLimit
	}
	t := &TopN{}
	t.impl.lgMax = lgMaxMapSize
	t.impl.setTable(make([]topNSlot, 1<<min(topNLgStart, lgMaxMapSize)))
	return t
}

// Update adds weight to key; a zero weight is ignored. It copies key when
// it keeps it, so key may point into a reused buffer. It allocates only
// while the table and key arena grow to their working size.
func (t *TopN) Update(key []byte, weight uint64) {
	if weight == 0 {
		return
	}
	t.impl.add(Hash(key), key, weight)
}

// UpdateHash is [TopN.Update] for a key whose [Hash] the caller already
// computed (h must equal Hash(key)), so that a key added to several
// sketches (a TopN and a [Cardinality], say) is hashed once.
func (t *TopN) UpdateHash(key []byte, h uint64, weight uint64) {
	if weight == 0 {
		return
	}
	t.impl.add(h, key, weight)
}

// Merge adds every item of o, with its count, into t and adds o's maximum
// error to t's, so t's bounds hold for the concatenated stream. o is
// unchanged; t.Merge(t) doubles t.
func (t *TopN) Merge(o *TopN) {
	s, src := &t.impl, &o.impl
	if s == src {
		for i := range s.slots {
			s.slots[i].count *= 2
		}
		s.offset *= 2
		s.total *= 2
		return
	}
	total := s.total + src.total
	for i := range src.slots {
		sl := &src.slots[i]
		if sl.count != 0 {
			s.add(sl.hash, src.arena[sl.off:sl.off+sl.n], sl.count)
		}
	}
	s.offset += src.offset
	s.total = total
}

// Reset empties t, keeping its memory.
func (t *TopN) Reset() {
	s := &t.impl
	clear(s.slots)
	s.active = 0
	s.arena = s.arena[:0]
	s.offset = 0
	s.total = 0
}

// Clone returns a deep copy of t.
func (t *TopN) Clone() *TopN {
	s := &t.impl
	c := &TopN{}
	c.impl.lgMax = s.lgMax
	c.impl.setTable(slices.Clone(s.slots))
	c.impl.active = s.active
	c.impl.arena = slices.Clone(s.arena)
	c.impl.offset = s.offset
	c.impl.total = s.total
	return c
}

// Len returns the number of tracked items.
func (t *TopN) Len() int { return t.impl.active }

// Total returns the sum of all weights added (the stream weight).
func (t *TopN) Total() uint64 { return t.impl.total }

// MaxError returns the maximum error of every estimate: a tracked item's
// true weight lies in [estimate - MaxError, estimate], an untracked item's
// in [0, MaxError].
func (t *TopN) MaxError() uint64 { return t.impl.offset }

// Estimate returns key's estimate: its count plus [TopN.MaxError] if it is
// tracked, else 0.
func (t *TopN) Estimate(key []byte) uint64 {
	s := &t.impl
	h := Hash(key)
	for i := h & s.mask; ; i = (i + 1) & s.mask {
		sl := &s.slots[i]
		if sl.count == 0 {
			return 0
		}
		if sl.hash == h && string(s.arena[sl.off:sl.off+sl.n]) == string(key) {
			return sl.count + s.offset
		}
	}
}

// Items appends every tracked item to dst, estimate descending and, on
// ties, key bytes ascending, and returns the extended slice. All tracked
// items qualify under NO_FALSE_NEGATIVES (their upper bound count+offset
// exceeds the offset). The keys alias t's arena: see [Item]. Items
// allocates only if dst is too small.
func (t *TopN) Items(dst []Item) []Item {
	s := &t.impl
	start := len(dst)
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.count != 0 {
			end := sl.off + sl.n
			dst = append(dst, Item{Key: s.arena[sl.off:end:end], Estimate: sl.count + s.offset})
		}
	}
	slices.SortFunc(dst[start:], compareItems)
	return dst
}

func compareItems(a, b Item) int {
	if c := cmp.Compare(b.Estimate, a.Estimate); c != 0 {
		return c
	}
	return bytes.Compare(a.Key, b.Key)
}

// Top returns up to n items (n <= 0: none), estimate descending and, on
// ties, Name ascending, where Name = format(key) (string(key) when format
// is nil). Only items that cannot be false negatives are reported: like
// DataSketches' get_frequent_items(NO_FALSE_NEGATIVES) with the default
// threshold, that is every tracked item. With percentile P in (0,100]
// (larger values count as 100), items are emitted while their estimate is
// >= the P-th percentile, with inclusive rank, of the estimates of the top
// n items, and emission stops at the first item below it (pktvisor's
// topn_percentile_threshold); P <= 0 disables the cut. format is called
// only for the items that can be reported and ties at the n-th place.
func (t *TopN) Top(n int, percentile float64, format func(key []byte) string) []Named {
	s := &t.impl
	if n <= 0 || s.active == 0 {
		return nil
	}
	// Find the n-th largest count so that only candidates get formatted.
	var cut uint64
	if s.active > n {
		counts := make([]uint64, 0, s.active)
		for i := range s.slots {
			if c := s.slots[i].count; c != 0 {
				counts = append(counts, c)
			}
		}
		cut = nthSmallest(counts, len(counts)-n)
	}
	out := make([]Named, 0, min(n, s.active))
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.count == 0 || sl.count < cut {
			continue
		}
		key := s.arena[sl.off : sl.off+sl.n : sl.off+sl.n]
		name := string(key)
		if format != nil {
			name = format(key)
		}
		out = append(out, Named{Name: name, Estimate: sl.count + s.offset})
	}
	return finishTop(out, n, percentile)
}

// percentileThreshold returns the P-th percentile (inclusive rank) of the
// estimates of desc, which is sorted by estimate descending: the smallest
// estimate whose cumulative count, ascending, reaches ceil(P/100 * len),
// exactly what a KLL sketch holding these few values returns.
func percentileThreshold(desc []Named, p float64) uint64 {
	m := len(desc)
	w := int(math.Ceil(min(p, 100) / 100 * float64(m)))
	w = max(1, min(w, m))
	return desc[m-w].Estimate
}

// setTable installs slots (len a power of two) as the table.
func (s *topN) setTable(slots []topNSlot) {
	s.slots = slots
	s.mask = uint64(len(slots) - 1)
	s.limit = len(slots) * 3 / 4
}

// add adds w to the key with hash h, inserting it if it is not tracked.
func (s *topN) add(h uint64, key []byte, w uint64) {
	s.total += w
	for i := h & s.mask; ; i = (i + 1) & s.mask {
		sl := &s.slots[i]
		if sl.count == 0 {
			s.insert(sl, h, key, w)
			return
		}
		if sl.hash == h && string(s.arena[sl.off:sl.off+sl.n]) == string(key) {
			sl.count += w
			return
		}
	}
}

// insert fills the empty slot sl, then grows or purges the table when it
// holds more than its limit.
func (s *topN) insert(sl *topNSlot, h uint64, key []byte, w uint64) {
	off := len(s.arena)
	s.arena = append(s.arena, key...)
	*sl = topNSlot{hash: h, count: w, off: uint32(off), n: uint32(len(key))}
	s.active++
	if s.active <= s.limit {
		return
	}
	if len(s.slots) < 1<<s.lgMax {
		old := s.slots
		s.setTable(make([]topNSlot, 2*len(old)))
		for i := range old {
			if old[i].count != 0 {
				s.place(old[i])
			}
		}
		return
	}
	s.purge()
}

// place puts sl, whose key is known to be absent, into the first free slot
// of its probe sequence.
func (s *topN) place(sl topNSlot) {
	i := sl.hash & s.mask
	for s.slots[i].count != 0 {
		i = (i + 1) & s.mask
	}
	s.slots[i] = sl
}

// purge is DataSketches' reverse purge: subtract the median of a sample of
// the counts from all counts, keep the positive ones, and add the median to
// the offset. The table is rebuilt and the key arena compacted on the way.
func (s *topN) purge() {
	lim := min(topNSampleSize, s.active)
	smp := s.samples[:0]
	for i := range s.slots {
		if c := s.slots[i].count; c != 0 {
			smp = append(smp, c)
			if len(smp) == lim {
				break
			}
		}
	}
	s.samples = smp
	med := nthSmallest(smp, len(smp)/2)
	s.offset += med

	keep, arena := s.keep[:0], s.spare[:0]
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.count > med {
			keep = append(keep, topNSlot{hash: sl.hash, count: sl.count - med, off: uint32(len(arena)), n: sl.n})
			arena = append(arena, s.arena[sl.off:sl.off+sl.n]...)
		}
	}
	s.spare, s.arena = s.arena[:0], arena
	clear(s.slots)
	for _, sl := range keep {
		s.place(sl)
	}
	s.active = len(keep)
	s.keep = keep
}

// nthSmallest reorders a and returns the value that would be at index n if
// a were sorted ascending (quickselect with a median-of-three pivot).
func nthSmallest(a []uint64, n int) uint64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		x, y, z := a[lo], a[lo+(hi-lo)/2], a[hi]
		p := max(min(x, y), min(max(x, y), z))
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case n <= j:
			hi = j
		case n >= i:
			lo = i
		default:
			return a[n]
		}
	}
	return a[n]
}
