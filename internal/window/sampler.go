package window

// Sampler decides which events are deep-sampled: those that also update
// the sketches (top-N, cardinality, quantiles), as pktvisor's
// deep_sample_rate / --max-deep-sample. It uses Bob Jenkins' small fast
// 32-bit generator (JSF32), as pktvisor does, seeded per sampler.
type Sampler struct {
	rate       uint32
	a, b, c, d uint32
}

// NewSampler returns a sampler that keeps rate percent of events (clamped
// to 1..100; 100 keeps all without drawing numbers).
func NewSampler(rate int, seed uint32) Sampler {
	rate = min(max(rate, 1), 100)
	s := Sampler{rate: uint32(rate), a: 0xf1ea5eed, b: seed, c: seed, d: seed}
	for range 20 {
		s.next()
	}
	return s
}

// Rate returns the configured percentage.
func (s *Sampler) Rate() int { return int(s.rate) }

func (s *Sampler) next() uint32 {
	rot := func(x uint32, k uint) uint32 { return x<<k | x>>(32-k) }
	e := s.a - rot(s.b, 27)
	s.a = s.b ^ rot(s.c, 17)
	s.b = s.c + s.d
	s.c = s.d + e
	s.d = e + s.a
	return s.d
}

// Deep reports whether the next event is deep-sampled.
func (s *Sampler) Deep() bool {
	if s.rate >= 100 {
		return true
	}
	return s.next()%100 < s.rate
}
