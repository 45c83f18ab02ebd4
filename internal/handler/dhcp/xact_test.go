package dhcp

import "testing"

// sameSet returns n distinct xids that hash to one set.
func sameSet(tb testing.TB, n int) []uint32 {
	tb.Helper()
	want := setIndex(1)
	out := []uint32{1}
	for x := uint32(2); len(out) < n; x++ {
		if setIndex(x) == want {
			out = append(out, x)
		}
	}
	return out
}

func TestXactTable(t *testing.T) {
	const ttl = int64(5e9)
	xids := sameSet(t, xactWays+1)
	tests := []struct {
		name    string
		times   []int64 // insert time of xids[i]
		takeAt  int64
		matched []bool // take(xids[i]) succeeds
		want    XactStats
	}{
		{
			name:    "full set evicts the oldest",
			times:   []int64{3e9, 1e9, 2e9, 4e9, 5e9},
			takeAt:  5e9,
			matched: []bool{true, false, true, true, true},
			want:    XactStats{Evicted: 1, Matched: 4},
		},
		{
			name:    "expired way is reused before evicting",
			times:   []int64{0, 6e9, 6e9, 6e9, 7e9},
			takeAt:  8e9,
			matched: []bool{false, true, true, true, true},
			want:    XactStats{Expired: 1, Matched: 4},
		},
		{
			name:    "take after the ttl",
			times:   []int64{1e9, 1e9, 1e9, 9e9},
			takeAt:  10e9,
			matched: []bool{false, false, false, true},
			want:    XactStats{Expired: 3, Matched: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := xactTable{ttl: ttl}
			for i, ts := range tc.times {
				tab.insert(xids[i], ts, []byte{byte(i)}, []byte("h"))
			}
			for i, want := range tc.matched {
				x, ok := tab.take(xids[i], tc.takeAt)
				if ok != want {
					t.Fatalf("take xid %d: %v, want %v", i, ok, want)
				}
				if ok && (x.xid != xids[i] || x.chaddr[0] != byte(i) || x.hlen != 1 || string(x.host[:x.hostLen]) != "h") {
					t.Fatalf("take xid %d: entry %+v", i, x)
				}
			}
			if tab.stats != tc.want {
				t.Fatalf("stats %+v, want %+v", tab.stats, tc.want)
			}
		})
	}
}

func TestXactPurge(t *testing.T) {
	tab := xactTable{ttl: 5e9}
	for i := range uint32(100) {
		tab.insert(i, int64(i)*1e8, nil, nil) // 0 .. 9.9 s
	}
	tab.purge(10e9) // drops inserts before 5 s
	if tab.stats != (XactStats{Pending: 50, Expired: 50}) {
		t.Fatalf("stats %+v", tab.stats)
	}
	if _, ok := tab.take(10, 10e9); ok {
		t.Fatal("purged xid matched")
	}
	if x, ok := tab.take(60, 10e9); !ok || x.hostLen != 0 || x.hlen != 0 {
		t.Fatalf("xid 60: %v %+v", ok, x)
	}
}

func TestXactTableIsBounded(t *testing.T) {
	tab := xactTable{ttl: 5e9}
	for i := range uint32(3 * XactCapacity) {
		tab.insert(i*2654435761, 1, nil, nil)
	}
	st := tab.stats
	if st.Pending > XactCapacity || st.Pending+st.Evicted != 3*XactCapacity || len(tab.slots) != XactCapacity {
		t.Fatalf("stats %+v, %d slots", st, len(tab.slots))
	}
}
