package sketch

import "math"

// rateMaxGap is the most empty seconds recorded as zeros when event time
// jumps forward.
const rateMaxGap = 3600

// rateMaxSeries is the most completed seconds a Rate keeps one by one (a
// day); older ones are folded into a KLL sketch, where merges can no longer
// add the counts of equal seconds.
const rateMaxSeries = 86400

// secCount is the count of one completed second.
type secCount struct {
	sec int64
	n   uint64
}

// Rate turns event timestamps into per-second rates: events are counted
// per whole second of event time; when time moves to a later second the
// finished second's count (and a 0 for every empty second skipped, at most
// 3600 of them) is recorded, and [Rate.Quantile] summarizes the recorded
// seconds.
//
// Completed seconds are kept as (second, count) pairs, so that [Rate.Merge]
// adds the counts of the same second: merging the Rates of workers that
// saw parts of the same traffic gives the rates of the whole, and merging
// consecutive periods gives their union.
//
// The zero value is an empty Rate ready to use. Methods are not safe for
// concurrent use.
type Rate struct{ impl rate }

type rate struct {
	// until is the end of the running second (Unix nanoseconds, exclusive)
	// mapped to an unsigned key that keeps the order of int64 (sign bit
	// flipped), and 0 while no second runs, so the fast path of Add is a
	// single comparison: every timestamp before it counts in the running
	// second.
	until   uint64
	count   uint64     // events in the running second
	series  []secCount // completed seconds, ascending
	old     Quantile   // seconds folded out of series (beyond rateMaxSeries)
	q       Quantile   // built from series and old on demand
	qValid  bool
	sec     int64  // the running second (Unix seconds)
	live    uint64 // count of the last completed second
	liveSec int64  // that second
	running bool   // a second is open
}

// NewRate returns an empty Rate.
func NewRate() *Rate { return &Rate{} }

// Add counts n events at event time ts (Unix nanoseconds). Timestamps
// earlier than the current second are counted in the current second. The
// first Add, and the first after [Rate.Close], opens a second without
// recording the time before it.
//
// Add is inlined into its caller; within the running second it costs one
// comparison and one addition.
func (r *Rate) Add(ts int64, n uint64) {
	if uint64(ts)^1<<63 < r.impl.until {
		r.impl.count += n
	} else {
		r.impl.add(ts, n)
	}
}

// add is the slow path of Add: it opens the first second or moves to a
// later one.
//
//go:noinline
func (s *rate) add(ts int64, n uint64) {
	sec := unixSecond(ts)
	if !s.running {
		s.running, s.sec, s.count = true, sec, n
		s.setUntil()
		return
	}
	if sec > s.sec {
		s.finish(sec)
		s.sec = sec
		s.setUntil()
	}
	s.count += n
}

// setUntil sets until to the end of the running second s.sec; at the end
// of the int64 range it saturates, and the slow path keeps counting.
func (s *rate) setUntil() {
	end := int64(math.MaxInt64)
	if s.sec < math.MaxInt64/int64(1e9) {
		end = (s.sec + 1) * 1e9
	}
	s.until = orderKey(end)
}

// orderKey maps ts to a uint64 with the same order; only MinInt64 maps to
// 0, so until = 0 (no running second) is never above a key.
func orderKey(ts int64) uint64 { return uint64(ts) ^ 1<<63 }

// Close ends the running second (its count goes into the quantile) as of
// event time ts: whole empty seconds between the running second and the
// second of ts are recorded as zeros (at most 3600), while the second of ts
// itself is not. Later Adds start a new second. Idempotent; a no-op if no
// second is running.
func (r *Rate) Close(ts int64) {
	s := &r.impl
	if !s.running {
		return
	}
	s.finish(max(unixSecond(ts), s.sec+1))
	s.running, s.until = false, 0
}

// Live returns the count of the last completed second (0 if that second was
// empty or none has completed).
func (r *Rate) Live() uint64 { return r.impl.live }

// Quantile returns the per-second rates seen so far (excluding the
// running second), built from the recorded seconds when they changed; its
// [Quantile.Sum] is the sum of the recorded per-second counts. The sketch
// belongs to r: it is valid until r changes.
func (r *Rate) Quantile() *Quantile {
	s := &r.impl
	if !s.qValid {
		s.q.Reset()
		s.q.Merge(&s.old)
		for _, c := range s.series {
			s.q.Update(float64(c.n))
		}
		s.qValid = true
	}
	return &s.q
}

// Merge adds o into r: the counts of seconds both recorded are added,
// other seconds are taken as they are. The live value becomes the sum of
// the lives of the latest completed second of the two. The running
// seconds are not merged.
func (r *Rate) Merge(o *Rate) {
	s, t := &r.impl, &o.impl
	if len(t.series) > 0 {
		merged := make([]secCount, 0, len(s.series)+len(t.series))
		i, j := 0, 0
		for i < len(s.series) || j < len(t.series) {
			switch {
			case j == len(t.series) || (i < len(s.series) && s.series[i].sec < t.series[j].sec):
				merged = append(merged, s.series[i])
				i++
			case i == len(s.series) || t.series[j].sec < s.series[i].sec:
				merged = append(merged, t.series[j])
				j++
			default:
				merged = append(merged, secCount{s.series[i].sec, s.series[i].n + t.series[j].n})
				i++
				j++
			}
		}
		s.series = merged
		s.trim()
	}
	s.old.Merge(&t.old)
	switch {
	case t.liveSec > s.liveSec:
		s.live, s.liveSec = t.live, t.liveSec
	case t.liveSec == s.liveSec:
		s.live += t.live
	}
	s.qValid = false
}

// Reset empties r, keeping its memory.
func (r *Rate) Reset() {
	s := &r.impl
	s.q.Reset()
	s.old.Reset()
	s.series = s.series[:0]
	s.qValid = false
	s.sec, s.count, s.live, s.liveSec, s.running, s.until = 0, 0, 0, 0, false, 0
}

// trim folds the oldest seconds into old when series is over its bound.
func (s *rate) trim() {
	if len(s.series) <= rateMaxSeries {
		return
	}
	drop := len(s.series) - rateMaxSeries/2
	for _, c := range s.series[:drop] {
		s.old.Update(float64(c.n))
	}
	s.series = append(s.series[:0], s.series[drop:]...)
}

// finish records the running second and the empty seconds before next,
// which is later than the running second.
func (s *rate) finish(next int64) {
	s.record(s.sec, s.count)
	s.live, s.liveSec = s.count, s.sec
	s.count = 0
	gap := next - s.sec - 1
	if gap <= 0 {
		s.trim()
		return
	}
	s.live, s.liveSec = 0, next-1
	// The last min(gap, rateMaxGap) empty seconds before next.
	for sec := next - min(gap, rateMaxGap); sec < next; sec++ {
		s.record(sec, 0)
	}
	s.trim()
}

// record appends a completed second; a second not after the last recorded
// one (time stepped back across a Close) adds to that entry.
func (s *rate) record(sec int64, n uint64) {
	s.qValid = false
	if k := len(s.series); k > 0 && sec <= s.series[k-1].sec {
		s.series[k-1].n += n
		return
	}
	s.series = append(s.series, secCount{sec, n})
}

// unixSecond returns the Unix second holding ts (Unix nanoseconds),
// rounding down for times before 1970.
func unixSecond(ts int64) int64 {
	sec := ts / 1e9
	if ts%1e9 < 0 {
		sec--
	}
	return sec
}
