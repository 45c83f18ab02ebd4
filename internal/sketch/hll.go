package sketch

import (
	"math"
	"math/bits"
)

const (
	// hllP is the number of index bits: 2^14 registers.
	hllP = 14
	hllM = 1 << hllP
	// hllQ is the number of hash bits left for the register value; values
	// run from 0 to hllQ+1.
	hllQ = 64 - hllP
	// hllSetMaxSlots is the largest exact hash set (16 KB, the size of the registers); it turns into
	// registers when it holds more than 3/4 of that many hashes.
	hllSetMaxSlots = 2048
	hllSetMinSlots = 16
)

// Cardinality estimates the number of distinct keys (HyperLogLog with
// 2^14 one-byte registers and a 64-bit hash, ~0.8 % standard error).
//
// Small sketches are exact: up to 1,536 distinct hashes are kept in a small
// hash set that grows with use, so the thousands of sketches that only ever
// see a few keys stay small. Beyond that the registers are allocated (16
// KB) and the estimate is Ertl's improved raw estimator ("New cardinality
// estimation algorithms for HyperLogLog sketches", 2017, section 3.3),
// which needs no bias tables and stays unbiased from tiny counts to far
// beyond 10^9.
//
// The zero value is an empty estimator ready to use. Methods are not safe
// for concurrent use.
type Cardinality struct{ impl hll }

type hll struct {
	regs    *[hllM]uint8 // non-nil once dense
	spare   *[hllM]uint8 // registers kept by Reset
	set     []uint64     // open addressing, 0 = empty slot; nil once dense
	count   int          // hashes in set
	hasZero bool         // the hash 0 was inserted while sparse
}

// NewCardinality returns an empty estimator; it allocates nothing until
// the first key.
func NewCardinality() *Cardinality { return &Cardinality{} }

// Insert adds key, hashed with [Hash]. Once the registers exist it costs
// the hash and one register update.
func (c *Cardinality) Insert(key []byte) {
	h := Hash(key)
	if r := c.impl.regs; r != nil {
		raise(r, h)
	} else {
		c.impl.insertSparse(h)
	}
}

// InsertHash adds a key by its 64-bit hash (from [Hash], [HashUint64] or
// another hash whose high bits are uniformly distributed). It allocates
// only while the exact set grows and once when the registers replace it.
func (c *Cardinality) InsertHash(h uint64) {
	if r := c.impl.regs; r != nil {
		raise(r, h)
	} else {
		c.impl.insertSparse(h)
	}
}

// Merge adds o into c (the union of the key sets); o is unchanged.
func (c *Cardinality) Merge(o *Cardinality) {
	s, src := &c.impl, &o.impl
	if s == src {
		return
	}
	if src.regs == nil {
		for _, h := range src.set {
			if h != 0 {
				c.InsertHash(h)
			}
		}
		if src.hasZero {
			c.InsertHash(0)
		}
		return
	}
	if s.regs == nil {
		s.densify()
	}
	for i, v := range src.regs {
		s.regs[i] = max(s.regs[i], v)
	}
}

// Reset empties c, keeping the registers' memory for reuse.
func (c *Cardinality) Reset() {
	s := &c.impl
	if s.regs != nil {
		clear(s.regs[:])
		s.spare, s.regs = s.regs, nil
	}
	clear(s.set)
	s.count = 0
	s.hasZero = false
}

// Clone returns a deep copy of c.
func (c *Cardinality) Clone() *Cardinality {
	s := &c.impl
	d := &Cardinality{}
	if s.regs != nil {
		r := *s.regs
		d.impl.regs = &r
		return d
	}
	if s.set != nil {
		d.impl.set = append([]uint64(nil), s.set...)
	}
	d.impl.count = s.count
	d.impl.hasZero = s.hasZero
	return d
}

// Estimate returns the rounded distinct-count estimate; it is exact while
// at most 1,536 distinct hashes were seen.
func (c *Cardinality) Estimate() uint64 {
	s := &c.impl
	if s.regs == nil {
		n := uint64(s.count)
		if s.hasZero {
			n++
		}
		return n
	}
	return uint64(math.Round(ertlEstimate(s.regs)))
}

// insertSparse adds h to the exact set, growing it or switching to
// registers when it is 3/4 full.
func (s *hll) insertSparse(h uint64) {
	if h == 0 {
		s.hasZero = true
		return
	}
	if len(s.set) == 0 {
		s.set = make([]uint64, hllSetMinSlots)
	}
	mask := uint64(len(s.set) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.set[i] {
		case h:
			return
		case 0:
			s.set[i] = h
			s.count++
			if 4*s.count > 3*len(s.set) {
				s.growSet()
			}
			return
		}
	}
}

// growSet doubles the set, or replaces it by registers at its maximum size.
func (s *hll) growSet() {
	if len(s.set) >= hllSetMaxSlots {
		s.densify()
		return
	}
	old := s.set
	s.set = make([]uint64, 2*len(old))
	mask := uint64(len(s.set) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.set[i] != 0 {
			i = (i + 1) & mask
		}
		s.set[i] = h
	}
}

// densify moves the exact set into registers.
func (s *hll) densify() {
	if s.spare != nil {
		s.regs, s.spare = s.spare, nil
	} else {
		s.regs = new([hllM]uint8)
	}
	set, zero := s.set, s.hasZero
	s.set, s.count, s.hasZero = nil, 0, false
	for _, h := range set {
		if h != 0 {
			s.insertDense(h)
		}
	}
	if zero {
		s.insertDense(0)
	}
}

// insertDense raises the register of h.
func (s *hll) insertDense(h uint64) { raise(s.regs, h) }

// raise raises the register of h without a branch. The index is the top
// hllP bits; the value is 1 + the number of leading zeros of the remaining
// hllQ bits (hllQ+1 when they are all zero).
func raise(r *[hllM]uint8, h uint64) {
	v := uint8(bits.LeadingZeros64(h<<hllP|1<<(hllP-1))) + 1
	p := &r[h>>hllQ]
	*p = max(*p, v)
}

// ertlEstimate is Ertl's improved raw estimator over the register-value
// histogram C: alpha_inf * m^2 / (m*sigma(C_0/m) + sum_{k=1..q} C_k 2^-k +
// m*tau(1 - C_{q+1}/m) 2^-q), with alpha_inf = 1/(2 ln 2).
func ertlEstimate(regs *[hllM]uint8) float64 {
	var hist [hllQ + 2]int
	for _, v := range regs {
		hist[v]++
	}
	const m = float64(hllM)
	z := m * ertlTau(1-float64(hist[hllQ+1])/m)
	for k := hllQ; k >= 1; k-- {
		z = 0.5 * (z + float64(hist[k]))
	}
	z += m * ertlSigma(float64(hist[0])/m)
	return m * m / (2 * math.Ln2) / z
}

// ertlSigma is sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), summed until it
// stops changing (+Inf at x = 1).
func ertlSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += x * y
		y += y
		if z == prev {
			return z
		}
	}
}

// ertlTau is tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3,
// summed until it stops changing (0 at x = 0 and x = 1).
func ertlTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		d := 1 - x
		z -= d * d * y
		if z == prev {
			return z / 3
		}
	}
}
