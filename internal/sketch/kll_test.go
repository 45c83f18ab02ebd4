package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

var testRanks = []float64{0.5, 0.9, 0.95, 0.99}

// rankError returns |true inclusive rank of q - rank| over sorted data.
func rankError(sorted []float64, q, rank float64) float64 {
	le := sort.Search(len(sorted), func(i int) bool { return sorted[i] > q })
	return math.Abs(float64(le)/float64(len(sorted)) - rank)
}

// checkKLLInvariants asserts that the retained weights sum to N and that
// levels above 0 are sorted.
func checkKLLInvariants(tb testing.TB, q *Quantile) {
	tb.Helper()
	s := &q.impl
	var w uint64
	for h := range s.numLevels {
		lv := s.level(h)
		w += uint64(len(lv)) << h
		if h > 0 && !slices.IsSorted(lv) {
			tb.Fatalf("level %d not sorted", h)
		}
	}
	if w != q.N() {
		tb.Fatalf("retained weight %d, n %d", w, q.N())
	}
	if s.numLevels > 0 && int(s.levels[s.numLevels]) != kllTotalCap(s.numLevels)+kllSlack {
		tb.Fatalf("buffer end %d, capacity %d", s.levels[s.numLevels], kllTotalCap(s.numLevels)+kllSlack)
	}
	if s.levels[0] != s.levels[1] {
		tb.Fatalf("level 0 of the level buffer holds %d items", s.levels[1]-s.levels[0])
	}
}

// checkRanks asserts the rank error of q's p50/p90/p95/p99 against data.
func checkRanks(tb testing.TB, q *Quantile, data []float64, limit float64) float64 {
	tb.Helper()
	checkKLLInvariants(tb, q)
	sorted := slices.Sorted(slices.Values(data))
	if q.N() != uint64(len(data)) || q.Min() != sorted[0] || q.Max() != sorted[len(sorted)-1] {
		tb.Fatalf("n %d min %v max %v, want %d %v %v", q.N(), q.Min(), q.Max(), len(data), sorted[0], sorted[len(sorted)-1])
	}
	worst := 0.0
	for i, v := range q.Quantiles(testRanks, nil) {
		e := rankError(sorted, v, testRanks[i])
		if e > limit {
			tb.Errorf("p%v: value %v has rank error %.4f > %.4f", testRanks[i]*100, v, e, limit)
		}
		worst = max(worst, e)
	}
	return worst
}

func kllStream(kind string, n int) []float64 {
	r := rand.New(rand.NewPCG(11, uint64(len(kind))))
	data := make([]float64, n)
	for i := range data {
		switch kind {
		case "uniform":
			data[i] = r.Float64() * 1000
		case "normal":
			data[i] = r.NormFloat64()*50 + 300
		case "sorted":
			data[i] = float64(i)
		case "reverse":
			data[i] = float64(n - i)
		case "dupes":
			data[i] = float64(r.IntN(20))
		}
	}
	return data
}

func TestQuantileAccuracy(t *testing.T) {
	for _, kind := range []string{"uniform", "normal", "sorted", "reverse"} {
		t.Run(kind, func(t *testing.T) {
			data := kllStream(kind, 1_000_000)
			q := NewQuantile()
			for _, v := range data {
				q.Update(v)
			}
			worst := checkRanks(t, q, data, 0.015)
			t.Logf("worst rank error %.4f%%, retained %d items in %d levels", 100*worst,
				q.impl.levels[q.impl.numLevels]-q.impl.levels[0], q.impl.numLevels)
		})
	}
}

func TestQuantileExactSmall(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		ranks  []float64
		want   []float64
	}{
		{"1..10", []float64{3, 1, 4, 10, 5, 9, 2, 6, 8, 7}, []float64{0, 0.1, 0.5, 0.9, 0.95, 0.99, 1}, []float64{1, 1, 5, 9, 10, 10, 10}},
		{"single", []float64{42}, []float64{0, 0.5, 1}, []float64{42, 42, 42}},
		{"dupes", []float64{2, 2, 2, 7}, []float64{0.5, 0.75, 0.76}, []float64{2, 2, 7}},
		{"empty", nil, []float64{0.5}, []float64{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQuantile()
			for _, v := range tc.values {
				q.Update(v)
			}
			q.Update(math.NaN())
			if got := q.Quantiles(tc.ranks, nil); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("200 values", func(t *testing.T) {
		q := NewQuantile()
		for i := 200; i >= 1; i-- {
			q.Update(float64(i))
		}
		if got := q.Quantiles(testRanks, nil); !slices.Equal(got, []float64{100, 180, 190, 198}) {
			t.Fatalf("got %v", got)
		}
	})
}

func TestKLLLevelCap(t *testing.T) {
	for d := range 40 {
		if got, want := kllLevelCap(d), kllLevelCapFormula(d); got != want {
			t.Fatalf("depth %d: %d, want %d", d, got, want)
		}
	}
	if got := kllTotalCap(13); got != 617 {
		t.Fatalf("capacity of 13 levels %d, want 617", got)
	}
}

func TestSortFloats(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, kind := range []string{"uniform", "normal", "sorted", "reverse", "dupes", "mixed"} {
		for _, n := range []int{0, 1, 2, 17, 32, 33, 48, 49, 255, 256, 300, 4096} {
			a := kllStream(kind, n)
			if kind == "mixed" {
				// Signs, zeros, infinities, subnormals, an outlier and
				// packet sizes.
				special := []float64{math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1), 5e-324, -5e-324, 1e300, -1e-300}
				for i := range a {
					if i%7 == 0 {
						a[i] = special[r.IntN(len(special))]
					} else {
						a[i] = float64(40 + r.IntN(1460))
					}
				}
			}
			want := slices.Clone(a)
			slices.Sort(want)
			sortFloats(a)
			if !slices.IsSorted(a) {
				t.Fatalf("%s n=%d not sorted", kind, n)
			}
			for i := range a {
				if a[i] != want[i] || math.Signbit(a[i]) != math.Signbit(want[i]) && a[i] != 0 {
					t.Fatalf("%s n=%d: element %d is %v, want %v", kind, n, i, a[i], want[i])
				}
			}
		}
	}
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), math.MaxFloat64, -5e-324} {
		if got := keyFloat(floatKey(v)); math.Float64bits(got) != math.Float64bits(v) {
			t.Fatalf("keyFloat(floatKey(%v)) = %v", v, got)
		}
	}
}

func TestQuantileCDF(t *testing.T) {
	q := NewQuantile()
	for i := 1; i <= 10; i++ {
		q.Update(float64(i))
	}
	got := q.CDF([]float64{0, 1, 2.5, 10, 11}, nil)
	if want := []float64{0, 0.1, 0.2, 1, 1}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestQuantileMerge(t *testing.T) {
	tests := []struct {
		name   string
		parts  int
		perN   int
		stream string
	}{
		{"many small", 1000, 150, "uniform"},
		{"100 large", 100, 10_000, "normal"},
		{"few huge", 4, 250_000, "sorted"},
		{"dupes", 10, 10_000, "dupes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := kllStream(tc.stream, tc.parts*tc.perN)
			all := NewQuantile()
			for p := range tc.parts {
				part := NewQuantile()
				for _, v := range data[p*tc.perN : (p+1)*tc.perN] {
					part.Update(v)
				}
				all.Merge(part)
			}
			limit := 0.015
			if tc.stream == "dupes" {
				limit = 0.051 // rank jumps of 1/20 at each value
			}
			checkRanks(t, all, data, limit)
		})
	}
	t.Run("self", func(t *testing.T) {
		q := NewQuantile()
		for i := range 1000 {
			q.Update(float64(i))
		}
		q.Merge(q)
		if q.N() != 2000 {
			t.Fatalf("n %d", q.N())
		}
		if v := q.Quantile(0.5); math.Abs(v-500) > 15 {
			t.Fatalf("p50 %v", v)
		}
	})
	t.Run("into empty", func(t *testing.T) {
		a, b := NewQuantile(), NewQuantile()
		for i := 1; i <= 10; i++ {
			b.Update(float64(i))
		}
		a.Merge(b)
		a.Merge(NewQuantile())
		if a.N() != 10 || a.Min() != 1 || a.Max() != 10 || a.Quantile(0.5) != 5 {
			t.Fatalf("n %d min %v max %v p50 %v", a.N(), a.Min(), a.Max(), a.Quantile(0.5))
		}
	})
}

func TestQuantileResetReuse(t *testing.T) {
	q := NewQuantile()
	for round := range 3 {
		data := kllStream("uniform", 100_000)
		for _, v := range data {
			q.Update(v + float64(round))
		}
		if round == 2 {
			for i := range data {
				data[i] += 2
			}
			checkRanks(t, q, data, 0.015)
		}
		q.Reset()
		if !q.Empty() || q.Quantile(0.5) != 0 {
			t.Fatal("reset left state")
		}
		if round < 2 {
			continue
		}
	}
	allocs := testing.AllocsPerRun(5, func() {
		for i := range 100_000 {
			q.Update(float64(i))
		}
		q.Reset()
	})
	if allocs != 0 {
		t.Fatalf("reused sketch allocated %v times", allocs)
	}
}

func BenchmarkQuantileUpdate(b *testing.B) {
	data := kllStream("normal", 1<<16)
	q := NewQuantile()
	for _, v := range data {
		q.Update(v)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q.Update(data[i&(1<<16-1)])
	}
}

func BenchmarkQuantileUpdateInts(b *testing.B) {
	// Packet sizes and microsecond latencies: small non-negative integers.
	r := rand.New(rand.NewPCG(5, 6))
	data := make([]float64, 1<<16)
	for i := range data {
		data[i] = float64(40 + r.IntN(1460))
	}
	q := NewQuantile()
	for _, v := range data {
		q.Update(v)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q.Update(data[i&(1<<16-1)])
	}
}

func BenchmarkSortFloats(b *testing.B) {
	for _, kind := range []string{"normal", "uniform", "dupes"} {
		b.Run(kind, func(b *testing.B) {
			src := kllStream(kind, kllBufSize)
			a := make([]float64, len(src))
			b.ReportAllocs()
			for b.Loop() {
				copy(a, src)
				sortFloats(a)
			}
		})
	}
}

func BenchmarkMergeQuantile(b *testing.B) {
	src := NewQuantile()
	for _, v := range kllStream("normal", 100_000) {
		src.Update(v)
	}
	dst := src.Clone()
	dst.Merge(src)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dst.Merge(src)
	}
}

func BenchmarkQuantileQuantiles(b *testing.B) {
	q := NewQuantile()
	for _, v := range kllStream("normal", 100_000) {
		q.Update(v)
	}
	dst := make([]float64, 0, 4)
	b.ReportAllocs()
	for b.Loop() {
		dst = q.Quantiles(testRanks, dst[:0])
	}
}
