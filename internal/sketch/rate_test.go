package sketch

import (
	"slices"
	"testing"
)

const sec = int64(1e9)

func TestRate(t *testing.T) {
	type add struct {
		ts int64
		n  uint64
	}
	base := int64(1_700_000_000) * sec
	tests := []struct {
		name      string
		adds      []add
		closeAt   int64 // 0: no Close
		wantLive  uint64
		wantRates []float64 // sorted per-second rates in the quantile
	}{
		{
			name:      "running second excluded",
			adds:      []add{{base, 3}, {base + sec/2, 2}},
			wantRates: nil,
		},
		{
			name:      "consecutive seconds",
			adds:      []add{{base, 5}, {base + sec, 7}, {base + 2*sec + 10, 1}, {base + 3*sec, 1}},
			wantLive:  1,
			wantRates: []float64{1, 5, 7},
		},
		{
			name:      "gap gives zeros",
			adds:      []add{{base, 4}, {base + 3*sec, 2}, {base + 3*sec + 5, 2}, {base + 4*sec, 1}},
			wantLive:  4,
			wantRates: []float64{0, 0, 4, 4},
		},
		{
			name:      "live zero after gap",
			adds:      []add{{base, 4}, {base + 3*sec, 2}},
			wantLive:  0,
			wantRates: []float64{0, 0, 4},
		},
		{
			name:      "late timestamps count in current second",
			adds:      []add{{base + sec, 1}, {base, 1}, {base + sec - 1, 1}, {base + 2*sec, 1}},
			wantLive:  3,
			wantRates: []float64{3},
		},
		{
			name:      "close flushes and fills",
			adds:      []add{{base, 2}, {base + sec, 6}},
			closeAt:   base + 4*sec + sec/2,
			wantLive:  0,
			wantRates: []float64{0, 0, 2, 6},
		},
		{
			name:      "close same second",
			adds:      []add{{base, 2}, {base + sec, 6}},
			closeAt:   base + sec + 1,
			wantLive:  6,
			wantRates: []float64{2, 6},
		},
		{
			name:      "gap capped at 3600",
			adds:      []add{{base, 9}, {base + 10_000*sec, 1}},
			wantRates: append(make([]float64, 3600), 9),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRate()
			for _, a := range tc.adds {
				r.Add(a.ts, a.n)
			}
			if tc.closeAt != 0 {
				r.Close(tc.closeAt)
				r.Close(tc.closeAt + 10*sec) // idempotent
			}
			if got := r.Live(); got != tc.wantLive {
				t.Errorf("live %d, want %d", got, tc.wantLive)
			}
			q := r.Quantile()
			if q.N() != uint64(len(tc.wantRates)) {
				t.Fatalf("%d rates recorded, want %d", q.N(), len(tc.wantRates))
			}
			if len(tc.wantRates) == 0 || len(tc.wantRates) > 200 {
				return
			}
			var got []float64
			for i := range tc.wantRates {
				got = append(got, q.Quantile(float64(i+1)/float64(len(tc.wantRates))))
			}
			if !slices.Equal(got, tc.wantRates) {
				t.Fatalf("rates %v, want %v", got, tc.wantRates)
			}
		})
	}
}

func TestRateCloseThenAdd(t *testing.T) {
	r := NewRate()
	r.Add(10*sec, 3)
	r.Close(10*sec + 1)
	r.Add(100*sec, 4) // new period: no zeros for the time in between
	r.Add(101*sec, 1)
	if got := r.Quantile().Quantiles([]float64{0.5, 1}, nil); !slices.Equal(got, []float64{3, 4}) || r.Quantile().N() != 2 {
		t.Fatalf("rates %v n %d", got, r.Quantile().N())
	}
	if r.Live() != 4 {
		t.Fatalf("live %d", r.Live())
	}
}

func TestRateMergeReset(t *testing.T) {
	// Two workers' shards of the same traffic: the merged rate is the sum
	// of their counts for each second, not a mix of their distributions.
	a, b := NewRate(), NewRate()
	for s := range int64(10) {
		a.Add(s*sec, 10)
		b.Add(s*sec, 20)
	}
	a.Close(10 * sec)
	b.Close(10 * sec)
	a.Merge(NewRate())
	a.Merge(b)
	q := a.Quantile()
	if q.N() != 10 || q.Quantile(0.5) != 30 || q.Quantile(0.99) != 30 || a.Live() != 30 {
		t.Fatalf("shards: n %d p50 %v p99 %v live %d, want 10 seconds of 30, live 30", q.N(), q.Quantile(0.5), q.Quantile(0.99), a.Live())
	}
	// A later period: its seconds join, its live value is the latest.
	c := NewRate()
	for s := int64(10); s < 15; s++ {
		c.Add(s*sec, 5)
	}
	c.Close(15 * sec)
	a.Merge(c)
	q = a.Quantile()
	if q.N() != 15 || q.Quantile(0.2) != 5 || q.Quantile(0.5) != 30 || a.Live() != 5 {
		t.Fatalf("window: n %d p20 %v p50 %v live %d", q.N(), q.Quantile(0.2), q.Quantile(0.5), a.Live())
	}
	// b is unchanged by the merge.
	if b.Quantile().Quantile(0.5) != 20 {
		t.Fatalf("merge changed its argument: %v", b.Quantile().Quantile(0.5))
	}
	a.Reset()
	if a.Live() != 0 || a.Quantile().N() != 0 {
		t.Fatal("reset left state")
	}
}

// TestRateSeriesBound: a Rate keeps at most rateMaxSeries seconds one by
// one; older ones are folded into a sketch and still count.
func TestRateSeriesBound(t *testing.T) {
	r := NewRate()
	n := int64(rateMaxSeries + 1000)
	for s := range n {
		r.Add(s*sec, uint64(s%7))
	}
	r.Close(n * sec)
	if len(r.impl.series) > rateMaxSeries {
		t.Fatalf("series %d", len(r.impl.series))
	}
	if got := r.Quantile().N(); got != uint64(n) {
		t.Fatalf("n %d, want %d", got, n)
	}
}

func BenchmarkRateAdd(b *testing.B) {
	r := NewRate()
	b.ReportAllocs()
	ts := int64(1_700_000_000) * sec
	for b.Loop() {
		ts += 1000 // a million events per second
		r.Add(ts, 1)
	}
}

func BenchmarkMergeRate(b *testing.B) {
	src, dst := NewRate(), NewRate()
	for s := range int64(60) {
		for range 100 {
			src.Add(s*sec, 1)
			dst.Add(s*sec, 2)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		dst.Merge(src)
	}
}
