package sketch

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
	q       Quantile
	sec     int64  // the running second (Unix seconds)
	count   uint64 // events in the running second
	live    uint64 // count of the last completed second
	running bool   // a second is open
}

// NewRate returns an empty Rate.
func NewRate() *Rate { return &Rate{} }

// Add counts n events at event time ts (Unix nanoseconds). Timestamps
// earlier than the current second are counted in the current second. The
// first Add, and the first after [Rate.Close], opens a second without
// recording the time before it.
func (r *Rate) Add(ts int64, n uint64) {
	s := &r.impl
	sec := unixSecond(ts)
	if !s.running {
		s.running, s.sec, s.count = true, sec, n
		return
	}
	if sec > s.sec {
		s.finish(sec)
		s.sec = sec
	}
	s.count += n
}

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
	s.running = false
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
	s.sec, s.count, s.live, s.running = 0, 0, 0, false
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
