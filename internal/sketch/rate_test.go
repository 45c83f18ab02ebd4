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
	a, b := NewRate(), NewRate()
	for s := range int64(10) {
		a.Add(s*sec, 10)
		b.Add(s*sec, 20)
	}
	b.Close(20 * sec)
	live := a.Live()
	a.Merge(NewRate())
	if a.Live() != live {
		t.Fatal("merging a zero live value replaced it")
	}
	a.Merge(b)
	if a.Live() != 0 {
		// b ended with empty seconds up to 20 s, so its live value is 0
		// and a keeps its own.
		if a.Live() != live {
			t.Fatalf("live %d", a.Live())
		}
	}
	c := NewRate()
	c.Add(0, 7)
	c.Add(sec, 1)
	a.Merge(c)
	if a.Live() != 7 {
		t.Fatalf("live %d, want 7 from the merged rate", a.Live())
	}
	if got := a.Quantile().N(); got != 9+20+1 {
		t.Fatalf("n %d", got)
	}
	a.Reset()
	if a.Live() != 0 || a.Quantile().N() != 0 {
		t.Fatal("reset left state")
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
