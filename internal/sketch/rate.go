package sketch

import "math"

// rateMaxGap is the most empty seconds recorded as zeros when event time
// jumps forward.
const rateMaxGap = 3600

// Rate turns event timestamps into per-second rates: events are counted
// per whole second of event time; when time moves to a later second the
// finished second's count (and a 0 for every empty second skipped, at most
// 3600 of them) goes into a Quantile.
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
	count   uint64 // events in the running second
	q       Quantile
	sec     int64  // the running second (Unix seconds)
	live    uint64 // count of the last completed second
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
// running second). The sketch belongs to r: it changes with r.
func (r *Rate) Quantile() *Quantile { return &r.impl.q }

// Merge adds o's quantile into r and, as pktvisor does, copies o's live
// value when it is non-zero. The running seconds are not merged.
func (r *Rate) Merge(o *Rate) {
	r.impl.q.Merge(&o.impl.q)
	if o.impl.live != 0 {
		r.impl.live = o.impl.live
	}
}

// Reset empties r, keeping the quantile's memory.
func (r *Rate) Reset() {
	s := &r.impl
	s.q.Reset()
	s.sec, s.count, s.live, s.running, s.until = 0, 0, 0, false, 0
}

// finish records the running second and the empty seconds before next,
// which is later than the running second.
func (s *rate) finish(next int64) {
	s.q.Update(float64(s.count))
	s.live = s.count
	s.count = 0
	gap := next - s.sec - 1
	if gap <= 0 {
		return
	}
	s.live = 0
	for range min(gap, rateMaxGap) {
		s.q.Update(0)
	}
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
