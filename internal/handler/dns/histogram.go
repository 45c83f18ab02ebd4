package dns

import (
	"math"
	"slices"
	"strconv"

	"github.com/pktvisor-go/pktvisor/internal/metric"
)

// histBounds returns pktvisor's histogram bucket boundaries for an
// unsigned integer metric (spec §1.1): 18 log-spaced bins per decade,
// 10^(i/18) * 10^e for e in [-9, 18], cast to uint64 and de-duplicated
// (so the small ones collapse to 0, 1, 2, ...), ascending.
func histBounds() []uint64 {
	out := make([]uint64, 0, 28*18)
	for e := -9; e <= 18; e++ {
		for i := range 18 {
			v := math.Pow(10, float64(i)/18) * math.Pow(10, float64(e))
			if v >= math.MaxUint64 {
				continue
			}
			out = append(out, uint64(v))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// histogram counts values into fixed log-spaced bins. Counts are exact
// (pktvisor derives them from a KLL sketch's PMF, which is an estimate);
// bin i holds the values v with bounds[i-1] < v <= bounds[i], and the last
// bin the values above the largest bound. The zero value is unusable; see
// newHistogram. Single-goroutine.
type histogram struct {
	bounds []uint64 // shared, read-only
	counts []uint64 // len(bounds)+1
	n      uint64
}

func newHistogram(bounds []uint64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

// Update counts v. It does not allocate.
func (h *histogram) Update(v uint64) {
	i, _ := slices.BinarySearch(h.bounds, v)
	h.counts[i]++
	h.n++
}

// Merge adds o into h; both must share bounds.
func (h *histogram) Merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// Reset empties h.
func (h *histogram) Reset() {
	clear(h.counts)
	h.n = 0
}

// Metric renders pktvisor's histogram (JSON {"buckets": {"<bound>":
// cumulative count, ..., "+Inf": n}}), with only the bounds whose own bin
// is non-empty, or nil when nothing was counted (the key is then left
// out, as for quantiles).
func (h *histogram) Metric() *metric.Histogram {
	if h.n == 0 {
		return nil
	}
	out := &metric.Histogram{Count: h.n}
	var cum uint64
	for i, bound := range h.bounds {
		if c := h.counts[i]; c > 0 {
			cum += c
			out.Buckets = append(out.Buckets, metric.Bucket{Le: strconv.FormatUint(bound, 10), Cumulative: cum})
		}
	}
	return out
}

// JSON renders the histogram's JSON object, or nil when nothing was
// counted.
func (h *histogram) JSON() map[string]any {
	if m := h.Metric(); m != nil {
		return m.JSON()
	}
	return nil
}
