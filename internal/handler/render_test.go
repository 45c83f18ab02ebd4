package handler

import (
	"reflect"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/sketch"
	"github.com/pktvisor-go/pktvisor/internal/window"
)

// summaryAt returns the Summary leaf at path of m, or fails.
func summaryAt(tb testing.TB, m map[string]any, path ...string) *Summary {
	tb.Helper()
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			tb.Fatalf("no object %q in %v", p, m)
		}
		m = next
	}
	s, ok := m[path[len(path)-1]].(*Summary)
	if !ok {
		tb.Fatalf("no summary at %v: %v", path, m)
	}
	return s
}

// TestSummarySum checks that a rendered summary's Sum is the sum of the
// values fed, exactly for integer values, also after shards merge.
func TestSummarySum(t *testing.T) {
	const sec = int64(1e9)
	tests := []struct {
		name string
		// render feeds two shards, merges the second into the first and
		// renders the first.
		render  func(m map[string]any)
		count   uint64
		wantSum float64
	}{
		{
			name: "quantile, small",
			render: func(m map[string]any) {
				a, b := sketch.NewQuantile(), sketch.NewQuantile()
				for v := 1; v <= 10; v++ {
					a.Update(float64(v))
					b.Update(float64(10 + v))
				}
				a.Merge(b)
				SetQuantile(m, a, "q")
			},
			count: 20, wantSum: 210,
		},
		{
			name: "quantile, compacted levels",
			render: func(m map[string]any) {
				a, b := sketch.NewQuantile(), sketch.NewQuantile()
				for v := 1; v <= 100000; v++ {
					if v%3 == 0 {
						b.Update(float64(v))
					} else {
						a.Update(float64(v))
					}
				}
				a.Merge(b)
				SetQuantile(m, a, "q")
			},
			count: 100000, wantSum: 100000 * 100001 / 2,
		},
		{
			name: "int quantile, small and large values",
			render: func(m map[string]any) {
				a, b := sketch.NewIntQuantile(), sketch.NewIntQuantile()
				for _, v := range []uint64{0, 60, 1500, 9000} {
					a.Update(v)
				}
				for _, v := range []uint64{64, 65535} {
					b.Update(v)
				}
				a.Merge(b)
				SetQuantile(m, a, "q")
			},
			count: 6, wantSum: 0 + 60 + 1500 + 9000 + 64 + 65535,
		},
		{
			name: "rate, shards of the same seconds",
			render: func(m map[string]any) {
				// Shard a: 3 events in second 100, 5 in 101; shard b: 2 in
				// 101, 7 in 102. Merged seconds: 3, 7, 7.
				a, b := sketch.NewRate(), sketch.NewRate()
				a.Add(100*sec, 3)
				a.Add(101*sec, 5)
				a.Close(102 * sec)
				b.Add(101*sec, 2)
				b.Add(102*sec, 7)
				b.Close(103 * sec)
				a.Merge(b)
				SetRate(m, a, window.Period{}, true, "r")
			},
			count: 3, wantSum: 17,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{}
			tc.render(m)
			s := summaryAt(t, m, m2key(m))
			if s.Count != tc.count || s.Sum != tc.wantSum {
				t.Errorf("count %d sum %v, want count %d sum %v", s.Count, s.Sum, tc.count, tc.wantSum)
			}
		})
	}
}

// m2key returns the only key of m.
func m2key(m map[string]any) string {
	for k := range m {
		return k
	}
	return ""
}

// TestIdleRate checks that a rate that saw no events renders zeros (as
// pktvisor's timer-driven rates do), with "live" only where pktvisor
// renders it.
func TestIdleRate(t *testing.T) {
	zeros := map[string]any{"p50": int64(0), "p90": int64(0), "p95": int64(0), "p99": int64(0)}
	withLive := map[string]any{"p50": int64(0), "p90": int64(0), "p95": int64(0), "p99": int64(0), "live": uint64(0)}
	tests := []struct {
		name     string
		period   window.Period
		recorded bool
		want     map[string]any
	}{
		{"closed period", window.Period{StartTS: 60e9, EndTS: 120e9, Length: 60e9}, false, zeros},
		{"live bucket", window.Period{StartTS: 60e9, EndTS: 90e9, Length: 30e9, Live: true}, false, withLive},
		{"live bucket of a recorded stream", window.Period{StartTS: 60e9, EndTS: 90e9, Length: 30e9, Live: true}, true, zeros},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{}
			SetRate(m, sketch.NewRate(), tc.period, tc.recorded, "rates", "total")
			got := Plain(m)
			want := map[string]any{"rates": map[string]any{"total": tc.want}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			s := summaryAt(t, m, "rates", "total")
			if s.Count != 0 || s.Sum != 0 {
				t.Errorf("count %d sum %v, want 0 0", s.Count, s.Sum)
			}
		})
	}
}
