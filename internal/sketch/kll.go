package sketch

import (
	"cmp"
	"math"
	"slices"
)

const (
	// kllK is the size of the top compactor (pktvisor's default k): the
	// normalized rank error is about 1.65 % with 99 % confidence.
	kllK = 200
	// kllM is the smallest compactor size.
	kllM = 8
	// kllMaxLevels bounds the number of compactors; 2^61 items cannot be
	// reached in practice.
	kllMaxLevels = 61
	// kllSeed seeds the compaction coin of every sketch.
	kllSeed = 0x2545f4914f6cdd1d
)

// Quantile is a KLL sketch of float64 values (Karnin, Lang, Liberty,
// "Optimal Quantile Approximation in Streams", FOCS 2016), laid out and
// compacted lazily as DataSketches' kll_sketch does: k = 200 and m = 8 as
// in pktvisor, for p50/p90/p95/p99 with inclusive ranks.
//
// Retained items live in one buffer, level 0 (weight 1, unsorted) first and
// each higher level h (weight 2^h, sorted) after it; level 0 grows downward
// into free space. When the buffer is full, the lowest level holding at
// least its capacity k*(2/3)^depth (at least m) is compacted: sorted, an odd
// item left behind, and every other item (a coin picks odd or even
// positions) merged into the level above. The buffer grows by one small
// level when the top level must be compacted, so memory grows only
// logarithmically with N (about 5 KB at N = 10^6). The coin comes from a
// per-sketch xorshift generator with a fixed seed, so results are
// reproducible.
//
// NaN values are ignored. The zero value is an empty sketch ready to use.
// Methods are not safe for concurrent use.
type Quantile struct{ impl kll }

type kll struct {
	items     []float64 // used part: items[levels[0]:levels[numLevels]]
	levels    [kllMaxLevels + 1]uint32
	numLevels int // 0 until the first value arrives
	n         uint64
	min, max  float64
	rng       uint64
	work      []float64 // scratch of Merge
}

// weighted is one entry of a sorted view.
type weighted struct {
	v float64
	w uint64 // cumulative weight once the view is built
}

// NewQuantile returns an empty sketch with k = 200. It allocates the item
// buffer on the first Update.
func NewQuantile() *Quantile { return &Quantile{} }

// Update adds v; NaN is ignored. It allocates only when the sketch gains a
// level (about log2(N/200) times over its life).
func (q *Quantile) Update(v float64) {
	s := &q.impl
	if v != v {
		return
	}
	if s.n == 0 {
		s.min, s.max = v, v
	} else if v < s.min {
		s.min = v
	} else if v > s.max {
		s.max = v
	}
	s.n++
	s.insert(v)
}

// Merge adds o into q; o is unchanged (q.Merge(q) doubles every weight).
// The result has the error guarantee of a sketch of the concatenated
// streams.
func (q *Quantile) Merge(o *Quantile) {
	s, src := &q.impl, &o.impl
	if src.n == 0 {
		return
	}
	if s == src {
		c := o.Clone()
		src = &c.impl
	}
	for _, v := range src.level(0) {
		s.insert(v)
	}
	if src.numLevels > 1 {
		s.mergeLevels(src)
	}
	if s.n == 0 {
		s.min, s.max = src.min, src.max
	} else {
		s.min, s.max = min(s.min, src.min), max(s.max, src.max)
	}
	s.n += src.n
	s.rng ^= src.rng
}

// Reset empties q, keeping its memory.
func (q *Quantile) Reset() {
	s := &q.impl
	s.n, s.min, s.max = 0, 0, 0
	s.rng = 0
	if s.numLevels == 0 {
		return
	}
	s.items = s.items[:kllK]
	s.numLevels = 1
	s.levels[0], s.levels[1] = kllK, kllK
}

// Clone returns a deep copy of q.
func (q *Quantile) Clone() *Quantile {
	c := &Quantile{impl: q.impl}
	c.impl.items = slices.Clone(q.impl.items)
	c.impl.work = nil
	return c
}

// N returns the number of values added.
func (q *Quantile) N() uint64 { return q.impl.n }

// Empty reports whether no value has been added.
func (q *Quantile) Empty() bool { return q.impl.n == 0 }

// Min returns the exact smallest value added (0 when empty).
func (q *Quantile) Min() float64 { return q.impl.min }

// Max returns the exact largest value added (0 when empty).
func (q *Quantile) Max() float64 { return q.impl.max }

// Quantile returns the smallest retained value whose normalized inclusive
// rank is >= rank (0..1): the first value of the sorted view whose
// cumulative weight reaches ceil(rank*N), as DataSketches computes it.
// rank <= 0 returns [Quantile.Min] and rank >= 1 [Quantile.Max], which are
// exact. It returns 0 on an empty sketch. While N <= 200 the answer is
// exact: for the values 1..10, rank 0.5 gives 5 and rank 0.9 gives 9.
func (q *Quantile) Quantile(rank float64) float64 {
	var one [1]float64
	return q.Quantiles([]float64{rank}, one[:0])[0]
}

// Quantiles appends [Quantile.Quantile] of each of ranks to dst and returns
// the extended slice; it sorts the retained items once for all ranks.
func (q *Quantile) Quantiles(ranks []float64, dst []float64) []float64 {
	s := &q.impl
	if s.n == 0 {
		for range ranks {
			dst = append(dst, 0)
		}
		return dst
	}
	view := s.sortedView()
	for _, r := range ranks {
		switch {
		case r <= 0:
			dst = append(dst, s.min)
		case r >= 1:
			dst = append(dst, s.max)
		default:
			w := uint64(math.Ceil(r * float64(s.n)))
			i, _ := slices.BinarySearchFunc(view, w, func(e weighted, w uint64) int { return cmp.Compare(e.w, w) })
			dst = append(dst, view[min(i, len(view)-1)].v)
		}
	}
	return dst
}

// CDF appends, for each split point, the estimated fraction of values <=
// it (0 when empty) to dst and returns the extended slice. Histograms are
// rendered from it.
func (q *Quantile) CDF(splits []float64, dst []float64) []float64 {
	s := &q.impl
	if s.n == 0 {
		for range splits {
			dst = append(dst, 0)
		}
		return dst
	}
	view := s.sortedView()
	for _, x := range splits {
		i, found := slices.BinarySearchFunc(view, x, func(e weighted, x float64) int { return cmp.Compare(e.v, x) })
		for found && i+1 < len(view) && view[i+1].v == x {
			i++
		}
		if !found {
			i-- // last entry below x
		}
		if i < 0 {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, float64(view[i].w)/float64(s.n))
	}
	return dst
}

// sortedView returns the retained items sorted by value with cumulative
// weights; equal values are collapsed into one entry.
func (s *kll) sortedView() []weighted {
	view := make([]weighted, 0, s.levels[s.numLevels]-s.levels[0])
	for h := 0; h < s.numLevels; h++ {
		for _, v := range s.level(h) {
			view = append(view, weighted{v: v, w: 1 << h})
		}
	}
	slices.SortFunc(view, func(a, b weighted) int { return cmp.Compare(a.v, b.v) })
	out := view[:0]
	var cum uint64
	for _, e := range view {
		cum += e.w
		if len(out) > 0 && out[len(out)-1].v == e.v {
			out[len(out)-1].w = cum
			continue
		}
		out = append(out, weighted{v: e.v, w: cum})
	}
	return out
}

// level returns the items of level h (empty past the top).
func (s *kll) level(h int) []float64 {
	if h >= s.numLevels {
		return nil
	}
	return s.items[s.levels[h]:s.levels[h+1]]
}

// insert puts v into level 0, compacting first when the buffer is full.
func (s *kll) insert(v float64) {
	if s.levels[0] == 0 {
		s.makeRoom()
	}
	s.levels[0]--
	s.items[s.levels[0]] = v
}

// makeRoom allocates the first buffer or frees space by one compaction.
func (s *kll) makeRoom() {
	if s.numLevels == 0 {
		if cap(s.items) < kllK {
			s.items = make([]float64, kllK)
		}
		s.items = s.items[:kllK]
		s.numLevels = 1
		s.levels[0], s.levels[1] = kllK, kllK
		return
	}
	h := lowestFullLevel(s.levels[:s.numLevels+1])
	if h == s.numLevels-1 {
		s.addTopLevel()
	}
	compactLevel(s.items, s.levels[:s.numLevels+1], h, s.coin())
}

// addTopLevel grows the buffer by the capacity of a new bottom-most depth
// and adds an empty level on top.
func (s *kll) addTopLevel() {
	L := s.numLevels
	oldCap := len(s.items)
	newCap := oldCap + int(kllLevelCap(L))
	delta := newCap - oldCap
	if cap(s.items) < newCap {
		grown := make([]float64, newCap, newCap+8*kllM) // room for 8 more levels
		copy(grown[int(s.levels[0])+delta:], s.items[s.levels[0]:])
		s.items = grown
	} else {
		s.items = s.items[:newCap]
		copy(s.items[int(s.levels[0])+delta:], s.items[s.levels[0]:oldCap])
	}
	for i := 0; i <= L; i++ {
		s.levels[i] += uint32(delta)
	}
	s.levels[L+1] = uint32(newCap)
	s.numLevels++
}

// mergeLevels merges levels 1 and up of src into s (whose level 0 already
// holds src's level 0), then compacts until the items fit s's capacity.
func (s *kll) mergeLevels(src *kll) {
	L := max(s.numLevels, src.numLevels)
	var wl [kllMaxLevels + 1]uint32
	work := append(s.work[:0], s.level(0)...)
	wl[1] = uint32(len(work))
	for h := 1; h < L; h++ {
		work = appendMerged(work, s.level(h), src.level(h))
		wl[h+1] = uint32(len(work))
	}
	for int(wl[L]-wl[0]) > kllTotalCap(L) {
		h := lowestFullLevel(wl[:L+1])
		if h == L-1 {
			wl[L+1] = wl[L]
			L++
		}
		compactLevel(work, wl[:L+1], h, s.coin())
	}
	size := int(wl[L] - wl[0])
	total := kllTotalCap(L)
	if cap(s.items) < total {
		s.items = make([]float64, total, total+8*kllM)
	}
	s.items = s.items[:total]
	start := total - size
	copy(s.items[start:], work[wl[0]:wl[L]])
	for h := 0; h <= L; h++ {
		s.levels[h] = uint32(start) + wl[h] - wl[0]
	}
	s.numLevels = L
	s.work = work[:0]
}

// appendMerged appends the merge of the sorted slices a and b to dst.
func appendMerged(dst, a, b []float64) []float64 {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if b[j] < a[i] {
			dst = append(dst, b[j])
			j++
		} else {
			dst = append(dst, a[i])
			i++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}

// coin returns a pseudo-random bit (xorshift64).
func (s *kll) coin() int {
	x := s.rng
	if x == 0 {
		x = kllSeed
	}
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	s.rng = x
	return int(x >> 63)
}

// lowestFullLevel returns the lowest level of lv (numLevels+1 offsets)
// holding at least its capacity. A full buffer always has one, since the
// capacities sum to the buffer size; if none is found the top is returned.
func lowestFullLevel(lv []uint32) int {
	L := len(lv) - 1
	for h := 0; h < L-1; h++ {
		if lv[h+1]-lv[h] >= kllLevelCap(L-1-h) {
			return h
		}
	}
	return L - 1
}

// compactLevel compacts level h of buf, laid out by lv (numLevels+1
// offsets, h+1 < numLevels): an odd item stays at the bottom, the rest is
// sorted (level 0 only; higher levels are sorted already), halved by
// keeping the items at even or odd positions (coin), and merged into level
// h+1. The levels
// below h move up into the freed space, so lv[0] grows by the number of
// items removed.
func compactLevel(buf []float64, lv []uint32, h, coin int) {
	beg, end, aboveEnd := int(lv[h]), int(lv[h+1]), int(lv[h+2])
	odd := (end - beg) & 1
	adj := beg + odd
	half := (end - adj) / 2
	if h == 0 {
		sortFloats(buf[adj:end])
	}
	for i := 0; i < half; i++ {
		buf[adj+i] = buf[adj+2*i+coin]
	}
	if aboveEnd == end {
		copy(buf[adj+half:end], buf[adj:adj+half])
	} else {
		// Merge buf[adj:adj+half] and buf[end:aboveEnd] into
		// buf[adj+half:aboveEnd]; the write index never passes an unread
		// item of either run.
		i, j, t := adj, end, adj+half
		for i < adj+half && j < aboveEnd {
			if buf[j] < buf[i] {
				buf[t] = buf[j]
				j++
			} else {
				buf[t] = buf[i]
				i++
			}
			t++
		}
		for i < adj+half {
			buf[t] = buf[i]
			i++
			t++
		}
	}
	lv[h+1] = uint32(adj + half)
	lo := int(lv[0])
	copy(buf[lo+half:adj+half], buf[lo:adj])
	for i := 0; i <= h; i++ {
		lv[i] += uint32(half)
	}
}

// sortFloats sorts a, which holds no NaN, ascending. Level 0 is usually
// compacted at a few dozen items, where insertion sort with a plain
// comparison beats the general sort.
func sortFloats(a []float64) {
	if len(a) > 48 {
		slices.Sort(a)
		return
	}
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i
		for ; j > 0 && v < a[j-1]; j-- {
			a[j] = a[j-1]
		}
		a[j] = v
	}
}

// kllLevelCap returns the capacity of a level at depth levels below the
// top: round(k * (2/3)^depth), at least m. With k = 200 and m = 8 that is
// 200, 133, 89, 59, 40, 26, 18, 12 and then 8 (kllLevelCapFormula).
func kllLevelCap(depth int) uint32 {
	switch depth {
	case 0:
		return 200
	case 1:
		return 133
	case 2:
		return 89
	case 3:
		return 59
	case 4:
		return 40
	case 5:
		return 26
	case 6:
		return 18
	case 7:
		return 12
	}
	return kllM
}

// kllLevelCapFormula computes round(k * (2/3)^depth), at least m, in
// integers; kllLevelCap is its table for k = 200, m = 8.
func kllLevelCapFormula(depth int) uint32 {
	if depth > 20 { // 200 * (2/3)^20 < 1
		return kllM
	}
	num := uint64(2*kllK) << depth
	den := uint64(1)
	for range depth {
		den *= 3
	}
	return max(uint32((num/den+1)>>1), kllM)
}

// kllTotalCap returns the buffer size of a sketch with numLevels levels.
func kllTotalCap(numLevels int) int {
	total := 0
	for d := range numLevels {
		total += int(kllLevelCap(d))
	}
	return total
}
