package handler

import (
	"math"

	"github.com/pktvisor-go/pktvisor/internal/metric"
	"github.com/pktvisor-go/pktvisor/internal/sketch"
	"github.com/pktvisor-go/pktvisor/internal/window"
)

// Set stores v at the nested path of m, creating objects on the way
// (pktvisor nests JSON by metric name parts).
func Set(m map[string]any, v any, path ...string) { metric.Set(m, v, path...) }

// PeriodJSON renders pktvisor's period block: start_ts and length in
// whole seconds.
func PeriodJSON(p window.Period) metric.Period {
	return metric.Period{StartTS: p.StartTS / 1e9, Length: int64(math.Round(float64(p.Length) / 1e9))}
}

// Quantiler is a quantile sketch as the renderers read it
// (*sketch.Quantile, *sketch.IntQuantile).
type Quantiler interface {
	N() uint64
	Sum() float64
	Quantile(rank float64) float64
}

// QuantileJSON renders p50/p90/p95/p99, or nil when the sketch is empty
// (pktvisor omits the key then).
func QuantileJSON(q Quantiler) map[string]any {
	if q == nil || q.N() == 0 {
		return nil
	}
	return map[string]any{
		"p50": number(q.Quantile(0.5)),
		"p90": number(q.Quantile(0.9)),
		"p95": number(q.Quantile(0.95)),
		"p99": number(q.Quantile(0.99)),
	}
}

// zeroQuantiles is the quantile object of a rate that recorded no second.
func zeroQuantiles() map[string]any {
	return map[string]any{"p50": int64(0), "p90": int64(0), "p95": int64(0), "p99": int64(0)}
}

// SetQuantile stores the sketch's quantiles at path as a Summary leaf,
// with the sketch's count and sum, unless the sketch is empty (pktvisor
// omits the key then).
func SetQuantile(m map[string]any, q Quantiler, path ...string) {
	if j := QuantileJSON(q); j != nil {
		Set(m, &Summary{Quantiles: j, Count: q.N(), Sum: q.Sum()}, path...)
	}
}

// SetRate stores a rate's quantiles at path as a Summary leaf (Count: the
// recorded seconds, Sum: their events), plus "live" when the period is
// live and the stream is not recorded (pktvisor's rule). A rate that has
// recorded no second yet (an idle period) renders zeros, as pktvisor's
// timer-driven rates do: its quantiles are 0, and so are Count and Sum.
func SetRate(m map[string]any, r *sketch.Rate, p window.Period, recorded bool, path ...string) {
	SetRatePrefixed(m, r, p, recorded, "", path...)
}

// SetRatePrefixed is SetRate with a Prometheus name prefix other than the
// handler's schema (see [metric.Summary.Prefix]).
func SetRatePrefixed(m map[string]any, r *sketch.Rate, p window.Period, recorded bool, prefix string, path ...string) {
	q := r.Quantile()
	s := &Summary{Quantiles: QuantileJSON(q), Count: q.N(), Sum: q.Sum(), Prefix: prefix}
	if s.Quantiles == nil {
		s.Quantiles = zeroQuantiles()
	}
	if p.Live && !recorded {
		live := r.Live()
		s.Live = &live
	}
	Set(m, s, path...)
}

// Topper is a sketch that reports its heaviest keys: a [sketch.TopN] or a
// [sketch.Counts16].
type Topper interface {
	Top(n int, percentile float64, format func(key []byte) string) []sketch.Named
}

// Top renders a top-N list (JSON: [{"name": ..., "estimate": ...}], always
// an array, empty when nothing was seen); label names the Prometheus label
// of an item's name.
func Top(t Topper, o *Options, label string, format func([]byte) string) *metric.TopN {
	items := t.Top(o.TopNCount, o.TopNPercentile, format)
	out := &metric.TopN{Label: label, Items: make([]metric.Item, len(items))}
	for i, it := range items {
		out.Items[i] = metric.Item{Name: it.Name, Estimate: it.Estimate}
	}
	return out
}

// StringKey formats a top-N key that is already text.
func StringKey(b []byte) string { return string(b) }

// number renders integral floats as integers, as pktvisor's uint64 sketches do.
func number(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}
