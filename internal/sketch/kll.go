package sketch

import (
	"cmp"
	"math"
	"math/bits"
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
	// kllBufSize is the capacity of the level-0 insert buffer, max(k, 256)
	// and even: values are appended to it unsorted and, when it is full,
	// sorted once and compacted into level 1 as kllBufSize/2 items of
	// weight 2.
	kllBufSize = max(kllK, 256) &^ 1
	// kllSlack is the free space the level buffer keeps beyond
	// kllTotalCap, so that a full insert buffer always fits into level 1
	// after compacting levels that are at or over their capacity.
	kllSlack = kllBufSize / 2
)

// Quantile is a KLL sketch of float64 values (Karnin, Lang, Liberty,
// "Optimal Quantile Approximation in Streams", FOCS 2016), laid out and
// compacted lazily as DataSketches' kll_sketch does: k = 200 and m = 8 as
// in pktvisor, for p50/p90/p95/p99 with inclusive ranks.
//
// Level 0 (weight 1) is an insert buffer of 256 values: Update only
// appends to it. When it is full it is sorted once (a radix pass on the
// float bits, then small sorts) and compacted: every other value (a coin
// picks odd or even positions) goes into level 1 with weight 2. Levels 1
// and up (weight 2^h, sorted) live in a second buffer, each with the usual
// KLL capacity k*(2/3)^depth (at least m); when level 1 needs room, the
// lowest level holding at least its capacity is compacted into the level
// above, lazily as in DataSketches. A level-0 buffer larger than the KLL
// capacity of level 0 compacts weight-1 items less often, which only
// lowers the error. The level buffer grows by one small level when the top
// level must be compacted, so memory grows only logarithmically with N
// (about 8 KB at N = 10^6). The coin comes from a per-sketch xorshift
// generator with a fixed seed, so results are reproducible.
//
// NaN values are ignored. The zero value is an empty sketch ready to use.
// Methods are not safe for concurrent use.
type Quantile struct{ impl kll }

type kll struct {
	// buf is level 0, the insert buffer: buf[:nbuf]. len(buf) is
	// kllBufSize once the first value arrived (0 before).
	buf  []float64
	nbuf int
	// n, min and max describe the values that left the insert buffer (and
	// the levels merged in): N is n+nbuf, and Min and Max also scan buf.
	// min and max are 0 while n == 0.
	n        uint64
	min, max float64
	// sum is the sum of the values that left the insert buffer (and of
	// the levels merged in): [Quantile.Sum] adds buf[:nbuf].
	sum float64
	// items holds levels 1 and up: level h is items[levels[h]:levels[h+1]].
	// Level 0 of this layout is always empty (levels[0] == levels[1]) and
	// items[:levels[1]] is free.
	items     []float64
	levels    [kllMaxLevels + 1]uint32
	numLevels int // levels including level 0; 0 until the first value arrives
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
//
// Update is inlined into its caller: it stores v in the level-0 buffer;
// one call in 256 sorts and compacts the buffer.
func (q *Quantile) Update(v float64) {
	s := &q.impl
	if i := s.nbuf; i < len(s.buf) && v == v {
		s.buf[i] = v
		s.nbuf = i + 1
	} else {
		s.update(v)
	}
}

// update is the slow path of Update: NaN, the first value, a full buffer.
func (s *kll) update(v float64) {
	if v == v {
		s.push(v)
	}
}

// push appends v to level 0, allocating the sketch or compacting a full
// buffer first. It does not touch n, min or max.
func (s *kll) push(v float64) {
	if s.nbuf == len(s.buf) {
		if s.buf == nil {
			s.init()
		} else {
			s.flush()
		}
	}
	s.buf[s.nbuf] = v
	s.nbuf++
}

// init allocates the insert buffer and, unless Merge already built levels,
// the level buffer.
func (s *kll) init() {
	s.buf = make([]float64, kllBufSize)
	s.nbuf = 0
	if s.numLevels == 0 {
		s.resetLevels()
	}
}

// resetLevels empties levels 1 and up, keeping the level buffer's memory.
func (s *kll) resetLevels() {
	total := kllTotalCap(1) + kllSlack
	if cap(s.items) < total {
		s.items = make([]float64, total, total+8*kllM)
	}
	s.items = s.items[:total]
	s.numLevels = 1
	s.levels[0], s.levels[1] = uint32(total), uint32(total)
}

// flush sorts the full insert buffer (kllBufSize values, an even number)
// and compacts it into level 1.
func (s *kll) flush() {
	b := s.buf[:s.nbuf]
	s.sum += sumFloats(b)
	sortFloats(b)
	s.addRange(b[0], b[len(b)-1], uint64(len(b)))
	coin := s.coin()
	half := len(b) / 2
	for i := range half {
		b[i] = b[2*i+coin]
	}
	s.makeRoom(half)
	s.mergeIntoLevel1(b[:half])
	s.nbuf = 0
}

// addRange adds w values from lo to hi to n, min and max.
func (s *kll) addRange(lo, hi float64, w uint64) {
	if s.n == 0 {
		s.min, s.max = lo, hi
	} else {
		if lo < s.min {
			s.min = lo
		}
		if hi > s.max {
			s.max = hi
		}
	}
	s.n += w
}

// count returns the number of values added.
func (s *kll) count() uint64 { return s.n + uint64(s.nbuf) }

// bounds returns the smallest and largest value added (0, 0 when empty).
func (s *kll) bounds() (lo, hi float64) {
	lo, hi = s.min, s.max
	for i, v := range s.buf[:s.nbuf] {
		if i == 0 && s.n == 0 {
			lo, hi = v, v
		}
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

// makeRoom compacts levels 1 and up, and adds levels, until level 1 can
// grow downward by need items.
func (s *kll) makeRoom(need int) {
	for s.numLevels < 2 || int(s.levels[1]) < need {
		if s.numLevels < 2 {
			s.addTopLevel()
			continue
		}
		h := lowestFullLevel(s.levels[:s.numLevels+1])
		if h == s.numLevels-1 {
			s.addTopLevel()
		}
		compactLevel(s.items, s.levels[:s.numLevels+1], h, s.coin())
	}
}

// mergeIntoLevel1 merges the sorted a into level 1, which grows downward
// into the free space (at least len(a) items of it). The merge runs from
// the smallest item up, so the write index stays below the unread part of
// level 1.
func (s *kll) mergeIntoLevel1(a []float64) {
	items := s.items
	lo, hi := int(s.levels[1]), int(s.levels[2])
	t := lo - len(a)
	s.levels[0], s.levels[1] = uint32(t), uint32(t)
	i, j := 0, lo
	for i < len(a) && j < hi {
		if items[j] < a[i] {
			items[t] = items[j]
			j++
		} else {
			items[t] = a[i]
			i++
		}
		t++
	}
	copy(items[t:], a[i:]) // when level 1 ran out first; else t == j
}

// Merge adds o into q; o is unchanged (q.Merge(q) doubles every weight).
// The result has the error guarantee of a sketch of the concatenated
// streams.
func (q *Quantile) Merge(o *Quantile) {
	s, src := &q.impl, &o.impl
	if src.count() == 0 {
		return
	}
	if s == src {
		c := o.Clone()
		src = &c.impl
	}
	for _, v := range src.level(0) {
		s.push(v)
	}
	if src.numLevels > 1 {
		s.mergeLevels(src)
	}
	if src.n > 0 {
		s.addRange(src.min, src.max, src.n)
	}
	s.sum += src.sum // src's level 0 is summed where it was pushed
	s.rng ^= src.rng
}

// Reset empties q, keeping its memory.
func (q *Quantile) Reset() {
	s := &q.impl
	s.n, s.min, s.max, s.sum = 0, 0, 0, 0
	s.rng = 0
	s.nbuf = 0
	if s.numLevels == 0 {
		return
	}
	s.resetLevels()
}

// Clone returns a deep copy of q.
func (q *Quantile) Clone() *Quantile {
	c := &Quantile{impl: q.impl}
	c.impl.items = slices.Clone(q.impl.items)
	c.impl.buf = slices.Clone(q.impl.buf)
	c.impl.work = nil
	return c
}

// N returns the number of values added.
func (q *Quantile) N() uint64 { return q.impl.count() }

// Empty reports whether no value has been added.
func (q *Quantile) Empty() bool { return q.impl.count() == 0 }

// Sum returns the sum of the values added (0 when empty); merged sketches
// add their sums. It is exact while the values and their partial sums are
// integers below 2^53. Update does not pay for it: the values of the
// insert buffer are added up when it is compacted and by Sum itself.
func (q *Quantile) Sum() float64 {
	s := &q.impl
	return s.sum + sumFloats(s.buf[:s.nbuf])
}

// sumFloats returns the sum of a, in four running sums so that the
// additions do not wait on each other.
func sumFloats(a []float64) float64 {
	var t0, t1, t2, t3 float64
	for len(a) >= 4 {
		t0 += a[0]
		t1 += a[1]
		t2 += a[2]
		t3 += a[3]
		a = a[4:]
	}
	for _, v := range a {
		t0 += v
	}
	return (t0 + t1) + (t2 + t3)
}

// Min returns the exact smallest value added (0 when empty).
func (q *Quantile) Min() float64 {
	lo, _ := q.impl.bounds()
	return lo
}

// Max returns the exact largest value added (0 when empty).
func (q *Quantile) Max() float64 {
	_, hi := q.impl.bounds()
	return hi
}

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
	n := s.count()
	if n == 0 {
		for range ranks {
			dst = append(dst, 0)
		}
		return dst
	}
	view := s.sortedView()
	lo, hi := s.bounds()
	for _, r := range ranks {
		switch {
		case r <= 0:
			dst = append(dst, lo)
		case r >= 1:
			dst = append(dst, hi)
		default:
			w := uint64(math.Ceil(r * float64(n)))
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
	n := s.count()
	if n == 0 {
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
		dst = append(dst, float64(view[i].w)/float64(n))
	}
	return dst
}

// sortedView returns the retained items sorted by value with cumulative
// weights; equal values are collapsed into one entry.
func (s *kll) sortedView() []weighted {
	view := make([]weighted, 0, s.nbuf+int(s.levels[s.numLevels]-s.levels[0]))
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

// level returns the items of level h (empty past the top); level 0 is
// the insert buffer.
func (s *kll) level(h int) []float64 {
	switch {
	case h >= s.numLevels:
		return nil
	case h == 0:
		return s.buf[:s.nbuf]
	}
	return s.items[s.levels[h]:s.levels[h+1]]
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
	work := s.work[:0]
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
	total := kllTotalCap(L) + kllSlack
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
	if h == 0 { // level 0 of the level buffer is empty in practice
		slices.Sort(buf[adj:end])
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

// sortFloats sorts a, which holds no NaN, ascending. Short slices get an
// insertion sort and long ones the general sort. Up to kllBufSize values
// (a full insert buffer) get a radix sort: the values are mapped to
// order-preserving integer keys, sorted by the 16 highest bits that differ
// between them (two counting passes of 8 bits, so the passes spread the
// values whatever their scale), and the runs that share those 16 bits,
// short unless the values cluster far below their spread, are sorted
// by comparison.
func sortFloats(a []float64) {
	switch {
	case len(a) <= 32:
		insertionSort(a)
		return
	case len(a) > kllBufSize:
		slices.Sort(a)
		return
	}
	var keyBuf, tmpBuf [kllBufSize]uint64
	keys, tmp := keyBuf[:len(a)], tmpBuf[:len(a)]
	k0 := floatKey(a[0])
	var diff uint64
	for i, v := range a {
		k := floatKey(v)
		keys[i] = k
		diff |= k ^ k0
	}
	if diff == 0 {
		return // all equal
	}
	shift := max(63-bits.LeadingZeros64(diff)-15, 0)
	var count [2][256]uint32
	for _, k := range keys {
		d := k >> shift
		count[0][uint8(d)]++
		count[1][uint8(d>>8)]++
	}
	for pass := range 2 {
		c := &count[pass]
		sh := shift + 8*pass
		if c[uint8(keys[0]>>sh)] == uint32(len(keys)) {
			continue // one digit value: nothing to do
		}
		var sum uint32
		for d := range c {
			c[d], sum = sum, sum+c[d]
		}
		for _, k := range keys {
			d := uint8(k >> sh)
			tmp[c[d]] = k
			c[d]++
		}
		keys, tmp = tmp, keys
	}
	// Sort the runs of equal 16-bit digits.
	for i := 0; i < len(keys); {
		d := keys[i] >> shift
		j := i + 1
		for j < len(keys) && keys[j]>>shift == d {
			j++
		}
		if run := keys[i:j]; len(run) > 32 {
			slices.Sort(run)
		} else if len(run) > 1 {
			insertionSortKeys(run)
		}
		i = j
	}
	for i, k := range keys {
		a[i] = keyFloat(k)
	}
}

// insertionSortKeys sorts a ascending.
func insertionSortKeys(a []uint64) {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i
		for ; j > 0 && v < a[j-1]; j-- {
			a[j] = a[j-1]
		}
		a[j] = v
	}
}

// insertionSort sorts a, which holds no NaN, ascending.
func insertionSort(a []float64) {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i
		for ; j > 0 && v < a[j-1]; j-- {
			a[j] = a[j-1]
		}
		a[j] = v
	}
}

// floatKey maps a float64 that is not NaN to a uint64 of the same order
// (-0 just below +0): negative values have all bits flipped, others only
// the sign bit.
func floatKey(v float64) uint64 {
	b := math.Float64bits(v)
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}

// keyFloat inverts floatKey.
func keyFloat(k uint64) float64 {
	return math.Float64frombits(k ^ (uint64(int64(^k)>>63) | 1<<63))
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
