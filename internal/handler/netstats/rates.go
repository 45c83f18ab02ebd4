package netstats

import "github.com/pktvisor-go/pktvisor/internal/sketch"

// Indexes of the per-second rates of a bucket.
const (
	ratePPSIn = iota
	ratePPSOut
	ratePPSTotal
	ratePPSEvents
	rateBytesIn
	rateBytesOut
	rateBytesTotal
	numRates
)

// rateNames are the JSON keys under "rates", by index.
var rateNames = [numRates]string{"pps_in", "pps_out", "pps_total", "pps_events", "bytes_in", "bytes_out", "bytes_total"}

// rateSet counts a bucket's rates for the running second of event time
// and hands each finished second to the rates' quantiles in one step, so a
// packet costs one comparison and a few additions instead of one
// sketch.Rate.Add per rate.
type rateSet struct {
	sec   int64 // running second (Unix seconds); 0 before the first event
	count [numRates]uint64
	r     [numRates]*sketch.Rate
}

func newRateSet() rateSet {
	var s rateSet
	for i := range s.r {
		s.r[i] = sketch.NewRate()
	}
	return s
}

// at makes ts's second the running one and returns the counters to add to.
func (s *rateSet) at(ts int64) *[numRates]uint64 {
	if sec := ts / 1e9; sec != s.sec {
		s.roll(sec, ts)
	}
	return &s.count
}

// roll hands the running second to the rates and starts sec. An earlier
// timestamp (out of order) is counted in the running second.
func (s *rateSet) roll(sec, ts int64) {
	if s.sec != 0 && sec < s.sec {
		return
	}
	if s.sec != 0 {
		s.flush(ts)
	}
	s.sec = sec
}

// flush gives the running second's counts to the rates and closes that
// second as of ts (later seconds without events count as zero).
func (s *rateSet) flush(ts int64) {
	start := s.sec * 1e9
	for i, r := range s.r {
		r.Add(start, s.count[i])
		r.Close(ts)
		s.count[i] = 0
	}
}

// close ends the running second at event time ts (end of a period).
func (s *rateSet) close(ts int64) {
	if s.sec == 0 {
		return
	}
	if ts < (s.sec+1)*1e9 {
		ts = (s.sec + 1) * 1e9
	}
	s.flush(ts)
	s.sec = 0
}

func (s *rateSet) merge(o *rateSet) {
	for i, r := range s.r {
		r.Merge(o.r[i])
	}
}

func (s *rateSet) reset() {
	for _, r := range s.r {
		r.Reset()
	}
	s.sec = 0
	s.count = [numRates]uint64{}
}
