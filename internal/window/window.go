package window

import (
	"fmt"
)

// PeriodNanos is the length of one bucket: pktvisor's PERIOD_SEC = 60.
const PeriodNanos = int64(60e9)

// Number of periods a manager keeps (pktvisor clamps to this range).
const (
	MinPeriods     = 1
	MaxPeriods     = 10
	DefaultPeriods = 5
)

// Bucket is what a handler keeps per period. B is the bucket's own pointer
// type, so Merge takes the concrete type.
type Bucket[B any] interface {
	// Merge adds o into the receiver; o is unchanged.
	Merge(o B)
	// Reset empties the bucket for reuse.
	Reset()
	// Close is called once when the bucket stops being live, with the
	// event time that ended it (for rates that must flush their last second).
	Close(endTS int64)
}

// Period is the time span of a bucket or of a merged window.
type Period struct {
	StartTS  int64 // Unix nanoseconds of the first event (or of the shift)
	EndTS    int64 // Unix nanoseconds of the end; for a live bucket the last event seen
	Length   int64 // nanoseconds covered; for a window, the sum of its buckets' lengths
	ReadOnly bool  // the bucket is complete
	Live     bool  // the live bucket (0) is part of it
}

// PeriodError is returned for a bucket or window that cannot be given.
// Status is the HTTP status pktvisor answers with (425 or 400-class).
type PeriodError struct {
	Msg      string
	TooEarly bool // the period has not yet accumulated (HTTP 425)
}

func (e *PeriodError) Error() string { return e.Msg }

// Config configures a [Manager].
type Config struct {
	// Periods is the number of buckets kept (clamped to 1..10; 0 means 5).
	Periods int
	// Recorded marks a replayed stream (a file): the live bucket's length
	// is its last event minus its start, not "now" minus its start.
	Recorded bool
}

type entry[B any] struct {
	b        B
	start    int64
	end      int64
	readOnly bool
}

// Manager is the bucket ring of one handler (shard).
type Manager[B Bucket[B]] struct {
	periods  int
	recorded bool
	newB     func() B
	ring     []entry[B] // ring[0] is live
	started  bool
	spare    []B // buckets popped off the end, reused for new live buckets
	// OnShift, when set, is called after a shift with the bucket that was
	// just closed (now bucket 1) and the new live bucket.
	OnShift func(closed, live B)
}

// New returns a Manager with one empty live bucket made by newB.
func New[B Bucket[B]](cfg Config, newB func() B) *Manager[B] {
	p := cfg.Periods
	if p == 0 {
		p = DefaultPeriods
	}
	p = min(max(p, MinPeriods), MaxPeriods)
	m := &Manager[B]{periods: p, recorded: cfg.Recorded, newB: newB}
	m.ring = make([]entry[B], 1, p+1)
	m.ring[0] = entry[B]{b: newB()}
	return m
}

// Periods returns the configured number of periods.
func (m *Manager[B]) Periods() int { return m.periods }

// Len returns how many buckets exist now (1..Periods).
func (m *Manager[B]) Len() int { return len(m.ring) }

// Live returns the live bucket. It changes after a shift.
func (m *Manager[B]) Live() B { return m.ring[0].b }

// Start sets the live bucket's start when no event has been seen yet (a
// file's first packet, or the agent's start). Later calls do nothing.
func (m *Manager[B]) Start(ts int64) {
	if m.started {
		return
	}
	m.started = true
	m.ring[0].start = ts
	m.ring[0].end = ts
}

// Advance moves event time to ts, shifting to a new live bucket when ts is
// at least one period after the live bucket's start (never in summary mode,
// Periods == 1). It reports whether a shift happened. Call it before
// updating Live with an event at ts. Time never moves backwards: an earlier
// ts counts in the live bucket.
func (m *Manager[B]) Advance(ts int64) bool {
	if !m.started {
		m.Start(ts)
		return false
	}
	live := &m.ring[0]
	if ts > live.end {
		live.end = ts
	}
	if m.periods == 1 || ts < live.start+PeriodNanos {
		return false
	}
	m.shift(ts)
	return true
}

func (m *Manager[B]) shift(ts int64) {
	closed := &m.ring[0]
	closed.end = ts
	closed.readOnly = true
	closed.b.Close(ts)

	var nb B
	if n := len(m.spare); n > 0 {
		nb = m.spare[n-1]
		m.spare = m.spare[:n-1]
		nb.Reset()
	} else {
		nb = m.newB()
	}
	if len(m.ring) == m.periods {
		m.spare = append(m.spare, m.ring[len(m.ring)-1].b)
		m.ring = m.ring[:len(m.ring)-1]
	}
	m.ring = append(m.ring, entry[B]{})
	copy(m.ring[1:], m.ring[:len(m.ring)-1])
	m.ring[0] = entry[B]{b: nb, start: ts, end: ts}
	if m.OnShift != nil {
		m.OnShift(m.ring[1].b, nb)
	}
}

// End marks the end of a recorded stream at event time ts: the live
// bucket's end becomes ts (if later) and its running state is flushed
// (rates close their last second). The bucket stays live and readable.
func (m *Manager[B]) End(ts int64) {
	live := &m.ring[0]
	if !m.started {
		m.Start(ts)
	}
	if ts > live.end {
		live.end = ts
	}
	live.b.Close(live.end)
}

func (m *Manager[B]) period(i int, now int64) Period {
	e := m.ring[i]
	p := Period{StartTS: e.start, EndTS: e.end, ReadOnly: e.readOnly, Live: i == 0}
	switch {
	case e.readOnly || m.recorded:
		p.Length = e.end - e.start
	default:
		p.Length = now - e.start
		if p.Length < 0 {
			p.Length = 0
		}
	}
	return p
}

// Bucket returns bucket n (0 = live) and its period. now (Unix
// nanoseconds) gives the live bucket's length when the stream is not
// recorded. The bucket must not be modified.
func (m *Manager[B]) Bucket(n int, now int64) (B, Period, error) {
	var zero B
	if n < 0 || n >= m.periods {
		return zero, Period{}, &PeriodError{Msg: fmt.Sprintf("invalid metrics period, specify [0, %d]", m.periods-1)}
	}
	if n >= len(m.ring) {
		return zero, Period{}, &PeriodError{TooEarly: true,
			Msg: fmt.Sprintf("requested metrics period has not yet accumulated, current range is [0, %d]", len(m.ring)-1)}
	}
	return m.ring[n].b, m.period(n, now), nil
}

// Window merges the n most recent buckets, the live one included, into a
// fresh bucket (n in [2, Periods]; with one period, n == 1 gives the
// single bucket merged). Fewer buckets are merged while fewer exist.
// Period.StartTS is the earliest start and Length the sum of lengths.
func (m *Manager[B]) Window(n int, now int64) (B, Period, error) {
	var zero B
	lo := 2
	if m.periods == 1 {
		lo = 1
	}
	if n < lo || n > m.periods {
		return zero, Period{}, &PeriodError{Msg: fmt.Sprintf("invalid metrics period, specify [%d, %d]", lo, m.periods)}
	}
	out := m.newB()
	var p Period
	for i := 0; i < n && i < len(m.ring); i++ {
		out.Merge(m.ring[i].b)
		bp := m.period(i, now)
		if i == 0 || bp.StartTS < p.StartTS {
			p.StartTS = bp.StartTS
		}
		if bp.EndTS > p.EndTS {
			p.EndTS = bp.EndTS
		}
		p.Length += bp.Length
		p.Live = p.Live || bp.Live
	}
	return out, p, nil
}
