package window

import (
	"errors"
	"testing"
)

type cnt struct {
	n      int
	closed int64
}

func (c *cnt) Merge(o *cnt)   { c.n += o.n }
func (c *cnt) Reset()         { *c = cnt{} }
func (c *cnt) Close(ts int64) { c.closed = ts }
func newCnt() *cnt            { return &cnt{} }
func sec(s float64) int64     { return int64(s * 1e9) }
func feed(m *Manager[*cnt], ts ...float64) {
	for _, t := range ts {
		m.Advance(sec(t))
		m.Live().n++
	}
}

func TestSummaryModeNeverShifts(t *testing.T) {
	m := New(Config{Periods: 1, Recorded: true}, newCnt)
	feed(m, 100, 200, 1000, 5000)
	m.End(sec(5001))
	if m.Len() != 1 || m.Live().n != 4 {
		t.Fatalf("len %d n %d, want 1 bucket with 4", m.Len(), m.Live().n)
	}
	_, p, err := m.Bucket(0, 0)
	if err != nil || p.StartTS != sec(100) || p.Length != sec(4901) {
		t.Fatalf("period %+v err %v", p, err)
	}
	w, wp, err := m.Window(1, 0)
	if err != nil || w.n != 4 || wp.Length != sec(4901) {
		t.Fatalf("window %+v %+v %v", w, wp, err)
	}
}

func TestShiftAndWindows(t *testing.T) {
	m := New(Config{Periods: 3, Recorded: true}, newCnt)
	var shifts int
	m.OnShift = func(closed, live *cnt) { shifts++ }
	// bucket A: 0..59.9 (3 events), B: 60..130 (2), C: 130.5.. (1), D: 200 (1)
	feed(m, 0, 10, 59.9, 60, 100, 130.5, 200)
	if shifts != 3 || m.Len() != 3 {
		t.Fatalf("shifts %d len %d", shifts, m.Len())
	}
	tests := []struct {
		n    int
		want int
		len  int64
	}{{0, 1, 0}, {1, 1, sec(200 - 130.5)}, {2, 2, sec(130.5 - 60)}}
	for _, tc := range tests {
		b, p, err := m.Bucket(tc.n, 0)
		if err != nil || b.n != tc.want || p.Length != tc.len {
			t.Errorf("bucket %d: n %d len %d err %v, want %d %d", tc.n, b.n, p.Length, err, tc.want, tc.len)
		}
	}
	if b, _, _ := m.Bucket(1, 0); b.closed != sec(200) {
		t.Errorf("closed bucket was closed at %d", b.closed)
	}
	w, p, err := m.Window(3, 0)
	if err != nil || w.n != 4 || p.StartTS != sec(60) || p.Length != sec(200-60) {
		t.Fatalf("window 3: %d %+v %v", w.n, p, err)
	}
	w, _, _ = m.Window(2, 0)
	if w.n != 2 {
		t.Fatalf("window 2: %d", w.n)
	}
}

func TestPeriodErrors(t *testing.T) {
	m := New(Config{Periods: 5}, newCnt)
	feed(m, 0, 61)
	cases := []struct {
		name     string
		err      error
		msg      string
		tooEarly bool
	}{
		{"bucket out of range", second(m.Bucket(5, 0)), "invalid metrics period, specify [0, 4]", false},
		{"bucket not accumulated", second(m.Bucket(3, 0)), "requested metrics period has not yet accumulated, current range is [0, 1]", true},
		{"window too small", second(m.Window(1, 0)), "invalid metrics period, specify [2, 5]", false},
		{"window too big", second(m.Window(6, 0)), "invalid metrics period, specify [2, 5]", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pe *PeriodError
			if !errors.As(tc.err, &pe) || pe.Msg != tc.msg || pe.TooEarly != tc.tooEarly {
				t.Fatalf("got %v (%+v), want %q", tc.err, pe, tc.msg)
			}
		})
	}
}

func second[A, B any](_ A, _ B, err error) error { return err }

func TestLiveLengthUsesNow(t *testing.T) {
	m := New(Config{Periods: 2}, newCnt)
	feed(m, 10)
	_, p, _ := m.Bucket(0, sec(25))
	if p.Length != sec(15) || !p.Live {
		t.Fatalf("%+v", p)
	}
}

func TestBucketsAreReused(t *testing.T) {
	m := New(Config{Periods: 2}, newCnt)
	feed(m, 0, 60, 120, 180)
	allocs := testing.AllocsPerRun(100, func() {
		m.Advance(m.ring[0].start + PeriodNanos)
	})
	if allocs != 0 {
		t.Fatalf("shift allocates %v", allocs)
	}
}

func TestSamplerRate(t *testing.T) {
	for _, rate := range []int{1, 10, 50, 100} {
		s := NewSampler(rate, 7)
		n := 0
		for range 100000 {
			if s.Deep() {
				n++
			}
		}
		got := float64(n) / 1000
		if got < float64(rate)-1 || got > float64(rate)+1 {
			t.Errorf("rate %d: sampled %.2f%%", rate, got)
		}
	}
}
