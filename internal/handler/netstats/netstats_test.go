package netstats

import (
	"maps"
	"net/netip"
	"reflect"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

func pkt(ts int64, dir decode.Direction, l4 decode.L4, src, dst string, size int) *decode.Packet {
	return &decode.Packet{TS: ts, WireLen: size, L3: decode.L3IPv4, L4: l4, Dir: dir,
		SrcIP: netip.MustParseAddr(src), DstIP: netip.MustParseAddr(dst)}
}

func newV1(t *testing.T, o handler.Options) *V1 {
	t.Helper()
	h, err := NewV1(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCountersAndRates(t *testing.T) {
	h := newV1(t, handler.Options{Name: "n", Periods: 1, Recorded: true})
	// Seconds 100..104 carry 1, 2, 3, 4, 5 packets; second 103 is empty
	// and counts as 0; 5 packets in 105.
	sec := int64(1e9)
	for _, sc := range []struct{ s, c int64 }{{100, 1}, {101, 2}, {102, 3}, {104, 4}, {105, 5}} {
		for i := int64(0); i < sc.c; i++ {
			dir := decode.DirToHost
			if i%2 == 1 {
				dir = decode.DirFromHost
			}
			h.Packet(pkt(sc.s*sec+i*1000, dir, decode.L4UDP, "10.0.0.1", "10.0.0.2", 100))
		}
	}
	h.End(105*sec + 500)
	j, err := h.Bucket(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]uint64{"events": 15, "total": 15, "udp": 15, "in": 9, "out": 6, "unknown_dir": 0, "ipv4": 15} {
		if j[k] != want {
			t.Errorf("%s = %v, want %d", k, j[k], want)
		}
	}
	rates := j["rates"].(map[string]any)
	// Per-second totals: 1 2 3 0 4 5 -> sorted 0..5: p50 (inclusive rank, 3/6) = 2, p99 = 5.
	pt := rates["pps_total"].(map[string]any)
	if pt["p50"] != int64(2) || pt["p99"] != int64(5) {
		t.Errorf("pps_total = %v", pt)
	}
	if _, ok := pt["live"]; ok {
		t.Errorf("recorded stream has a live rate: %v", pt)
	}
	bt := rates["bytes_total"].(map[string]any)
	if bt["p99"] != int64(500) {
		t.Errorf("bytes_total = %v", bt)
	}
	card := j["cardinality"].(map[string]any)
	if card["src_ips_in"] != uint64(1) || card["dst_ips_out"] != uint64(1) {
		t.Errorf("cardinality = %v", card)
	}
	top := j["top_ipv4"].([]any)
	if len(top) != 2 || top[0].(map[string]any)["name"] != "10.0.0.1" || top[0].(map[string]any)["estimate"] != uint64(9) {
		t.Errorf("top_ipv4 = %v", top)
	}
}

func TestLiveRate(t *testing.T) {
	h := newV1(t, handler.Options{Name: "n", Periods: 2})
	for s := int64(10); s < 13; s++ {
		for i := int64(0); i < s; i++ {
			h.Packet(pkt(s*1e9+i, decode.DirUnknown, decode.L4TCP, "10.0.0.1", "10.0.0.2", 60))
		}
	}
	j, _ := h.Bucket(0, 13e9)
	live := j["rates"].(map[string]any)["pps_total"].(map[string]any)["live"]
	if live != uint64(11) {
		t.Errorf("live = %v, want 11 (the last complete second)", live)
	}
}

func TestGroupsAndDeepSampling(t *testing.T) {
	h := newV1(t, handler.Options{Name: "n", Periods: 1, DeepSampleRate: 50, Disable: []string{"top_ips", "top_geo"}})
	for i := int64(0); i < 10000; i++ {
		p := pkt(1e9+i, decode.DirToHost, decode.L4TCP, "10.0.0.1", "10.0.0.2", 60)
		p.TCPFlags = decode.TCPSyn
		h.Packet(p)
	}
	j, _ := h.Bucket(0, 0)
	if _, ok := j["top_ipv4"]; ok {
		t.Error("top_ipv4 rendered with top_ips disabled")
	}
	ds := j["deep_samples"].(uint64)
	if ds < 4700 || ds > 5300 {
		t.Errorf("deep_samples = %d of 10000 at 50%%", ds)
	}
	if j["tcp"] != uint64(10000) {
		t.Errorf("counters must count every packet: tcp = %v", j["tcp"])
	}
	syn := j["protocol"].(map[string]any)["tcp"].(map[string]any)["syn"]
	if syn != ds {
		t.Errorf("syn = %v, want deep samples %d", syn, ds)
	}
	none := newV1(t, handler.Options{Name: "n", Disable: []string{"all"}})
	none.Packet(pkt(1e9, decode.DirToHost, decode.L4TCP, "10.0.0.1", "10.0.0.2", 60))
	if j, _ := none.Bucket(0, 0); j != nil {
		t.Errorf("all groups disabled must render nothing, got %v", j)
	}
}

func TestWindowMerge(t *testing.T) {
	h := newV1(t, handler.Options{Name: "n", Periods: 3, Recorded: true})
	for s := int64(0); s < 150; s++ {
		h.Packet(pkt((1000+s)*1e9, decode.DirFromHost, decode.L4UDP, "10.0.0.2", "10.9.0.1", 80))
	}
	w, err := h.Window(3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if w["events"] != uint64(150) || w["out"] != uint64(150) {
		t.Errorf("window: events %v out %v", w["events"], w["out"])
	}
	b1, _ := h.Bucket(1, 0)
	if b1["events"] != uint64(60) {
		t.Errorf("bucket 1 events = %v, want 60", b1["events"])
	}
	per := w["period"].(map[string]any)
	if per["start_ts"] != int64(1000) || per["length"] != int64(149) {
		t.Errorf("period = %v", per)
	}
}

func TestRejectsGeoFilters(t *testing.T) {
	for _, k := range geoKeys {
		if _, err := NewV1(handler.Options{Config: map[string]any{k: true}}); err == nil {
			t.Errorf("%s accepted without a GeoIP database", k)
		}
	}
	if _, err := NewV1(handler.Options{Config: map[string]any{"bogus": 1}}); err == nil {
		t.Error("unknown key accepted")
	}
}

func BenchmarkNetV1(b *testing.B) {
	h, _ := NewV1(handler.Options{Name: "n", Periods: 5})
	ps := make([]*decode.Packet, 1024)
	for i := range ps {
		ps[i] = pkt(0, decode.Direction(1+i%2), decode.L4UDP, "10.0.0.1", netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}).String(), 60+i%200)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p := ps[i&1023]
		p.TS = int64(i) * 5000 // 200k packets per second of event time
		h.Packet(p)
	}
}

func TestShardSnapshotsMerge(t *testing.T) {
	a := newV1(t, handler.Options{Name: "n", Periods: 2})
	b := newV1(t, handler.Options{Name: "n", Periods: 2})
	for i := int64(0); i < 100; i++ {
		a.Packet(pkt(10e9+i, decode.DirToHost, decode.L4UDP, "10.0.0.1", "10.0.0.2", 100))
		b.Packet(pkt(10e9+i, decode.DirToHost, decode.L4TCP, "10.0.0.3", "10.0.0.2", 100))
	}
	sa, err := a.Snapshot(false, 0, 11e9)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := b.Snapshot(false, 0, 11e9)
	sa.Merge(sb)
	j := handler.Plain(sa.Render())
	if j["events"] != uint64(200) || j["udp"] != uint64(100) || j["tcp"] != uint64(100) {
		t.Fatalf("merged: %v", j)
	}
	if j["cardinality"].(map[string]any)["src_ips_in"] != uint64(2) {
		t.Errorf("cardinality %v", j["cardinality"])
	}
	if per := j["period"].(map[string]any); per["length"] != int64(1) {
		t.Errorf("shard periods must not add up: %v", per)
	}
	// The shards themselves are unchanged.
	if ja, _ := a.Bucket(0, 11e9); ja["events"] != uint64(100) {
		t.Errorf("snapshot changed the shard: %v", ja["events"])
	}
	w, err := a.Snapshot(true, 2, 11e9)
	if err != nil || handler.Plain(w.Render())["events"] != uint64(100) {
		t.Errorf("window snapshot: %v %v", err, w)
	}
}

func TestKernelFiltered(t *testing.T) {
	h := newV1(t, handler.Options{Name: "n", Periods: 1, Recorded: true})
	h.Packet(pkt(1e9, decode.DirToHost, decode.L4UDP, "10.0.0.1", "10.0.0.2", 60))
	h.InputStats(&event.InputStats{TS: 2e9, KernelFiltered: 450})
	j, _ := h.Bucket(0, 0)
	if j["events"] != uint64(451) || j["filtered"] != uint64(450) || j["total"] != uint64(1) || j["udp"] != uint64(1) {
		t.Fatalf("events %v filtered %v total %v udp %v", j["events"], j["filtered"], j["total"], j["udp"])
	}
}

// TestIdleRates checks that a handler that saw no packet renders its
// rates as zeros, as pktvisor does, with "live" only in the live bucket.
func TestIdleRates(t *testing.T) {
	h := newV1(t, handler.Options{Name: "n", Periods: 2})
	h.Start(60e9)
	h.Tick(125e9) // bucket 1 is 60..120 s, the live bucket 120..125 s
	zeros := map[string]any{"p50": int64(0), "p90": int64(0), "p95": int64(0), "p99": int64(0)}
	for n, wantLive := range []bool{true, false} {
		j, err := h.Bucket(n, 125e9)
		if err != nil {
			t.Fatal(err)
		}
		rates, _ := j["rates"].(map[string]any)
		for _, name := range rateNames {
			want := maps.Clone(zeros)
			if wantLive {
				want["live"] = uint64(0)
			}
			if got := rates[name]; !reflect.DeepEqual(got, want) {
				t.Errorf("bucket %d: rates.%s = %v, want %v", n, name, got, want)
			}
		}
	}
}
