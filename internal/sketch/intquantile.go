package sketch

import "math"

// IntSmall is the bound below which IntQuantile counts values exactly.
const IntSmall = 2048

// IntQuantile summarizes non-negative integers, such as packet sizes, that
// are mostly small: values below IntSmall are counted exactly (one array
// increment per update), larger ones go into a KLL [Quantile]. Every value
// in the KLL part is larger than every counted one, so ranks combine
// exactly and the error is at most the KLL's, on the large values only.
// The counts take 8 KiB once the first small value arrives.
type IntQuantile struct {
	small  *[IntSmall]uint32
	nSmall uint64
	min    uint64
	max    uint64
	big    Quantile
}

// NewIntQuantile returns an empty sketch.
func NewIntQuantile() *IntQuantile { return &IntQuantile{} }

// Update adds v.
func (q *IntQuantile) Update(v uint64) {
	if v < IntSmall && q.small != nil {
		q.small[v]++
		q.nSmall++
		q.minmax(v)
		return
	}
	q.updateSlow(v)
}

func (q *IntQuantile) minmax(v uint64) {
	if q.N() == 1 || v < q.min {
		q.min = v
	}
	if v > q.max {
		q.max = v
	}
}

func (q *IntQuantile) updateSlow(v uint64) {
	if v < IntSmall {
		q.small = new([IntSmall]uint32)
		q.small[v]++
		q.nSmall++
	} else {
		q.big.Update(float64(v))
	}
	q.minmax(v)
}

// N returns the number of values added.
func (q *IntQuantile) N() uint64 { return q.nSmall + q.big.N() }

// Sum returns the sum of the values added (0 when empty): exact for the
// counted values (computed from their counts, so Update does not pay for
// it), as [Quantile.Sum] for the large ones.
func (q *IntQuantile) Sum() float64 {
	var t uint64
	if q.small != nil {
		for v, c := range q.small {
			t += uint64(v) * uint64(c)
		}
	}
	return float64(t) + q.big.Sum()
}

// Min and Max return the exact extremes (0 when empty).
func (q *IntQuantile) Min() float64 { return float64(q.min) }

// Max returns the largest value added.
func (q *IntQuantile) Max() float64 { return float64(q.max) }

// Quantile returns the smallest value whose normalized inclusive rank is
// >= rank (0..1), as [Quantile.Quantile]; 0 when empty.
func (q *IntQuantile) Quantile(rank float64) float64 {
	n := q.N()
	if n == 0 {
		return 0
	}
	if rank <= 0 {
		return float64(q.min)
	}
	if rank >= 1 {
		return float64(q.max)
	}
	target := uint64(math.Ceil(rank * float64(n)))
	if target == 0 {
		target = 1
	}
	if target <= q.nSmall {
		var cum uint64
		for v, c := range q.small {
			cum += uint64(c)
			if cum >= target {
				return float64(v)
			}
		}
	}
	// The rank falls among the large values.
	nb := q.big.N()
	return q.big.Quantile(float64(target-q.nSmall) / float64(nb))
}

// Merge adds o into q; o is unchanged.
func (q *IntQuantile) Merge(o *IntQuantile) {
	if o.N() == 0 {
		return
	}
	if q.N() == 0 || o.min < q.min {
		q.min = o.min
	}
	q.max = max(q.max, o.max)
	if o.small != nil {
		if q.small == nil {
			q.small = new([IntSmall]uint32)
		}
		for i, c := range o.small {
			q.small[i] += c
		}
		q.nSmall += o.nSmall
	}
	q.big.Merge(&o.big)
}

// Reset empties q, keeping its memory.
func (q *IntQuantile) Reset() {
	if q.small != nil {
		*q.small = [IntSmall]uint32{}
	}
	q.nSmall, q.min, q.max = 0, 0, 0
	q.big.Reset()
}
