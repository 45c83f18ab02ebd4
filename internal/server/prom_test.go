package server

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pktvisor-go/pktvisor/internal/handler"
	_ "github.com/pktvisor-go/pktvisor/internal/handler/all"
	"github.com/pktvisor-go/pktvisor/internal/metric"
	"github.com/pktvisor-go/pktvisor/internal/sketch"
)

// scrape renders trees through the collector as the server does and
// parses the exposition.
func scrape(tb testing.TB, trees ...handler.Labeled) (string, map[string]*dto.MetricFamily) {
	tb.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(&collector{trees: trees, instance: "i"}); err != nil {
		tb.Fatal(err)
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).
		ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		tb.Fatalf("exposition does not parse: %v\n%s", err, body)
	}
	return body, fams
}

// idleTrees renders every registered handler type that saw no event, as
// the server gets them for a closed period (bucket 1 of 2) and for the
// live bucket.
func idleTrees(tb testing.TB, recorded bool) []handler.Labeled {
	tb.Helper()
	var out []handler.Labeled
	for _, info := range handler.Registered() {
		h, err := info.New(handler.Options{Name: "p-t-" + info.Type, Periods: 2, Recorded: recorded})
		if err != nil {
			tb.Fatalf("%s: %v", info.Type, err)
		}
		h.Start(60e9)
		h.Tick(125e9)
		for n := range 2 {
			snap, err := h.(handler.Snapshotter).Snapshot(false, n, 125e9)
			if err != nil {
				tb.Fatalf("%s bucket %d: %v", info.Type, n, err)
			}
			out = append(out, handler.Labeled{Policy: "p", Tap: strings.Repeat("t", n+1), Handler: h.Name(),
				Schema: h.Schema(), Tree: snap.Render()})
		}
	}
	return out
}

// TestSummarySumExposition checks that a summary's _sum is the sum of the
// values fed (pktvisor emits the sketch's maximum; before, NaN), here after
// two shards merged.
func TestSummarySumExposition(t *testing.T) {
	a, b := sketch.NewQuantile(), sketch.NewQuantile()
	for v := 1; v <= 10; v++ {
		a.Update(float64(v))
		b.Update(float64(100 * v))
	}
	a.Merge(b)
	tree := map[string]any{}
	handler.SetQuantile(tree, a, "xact", "in", "quantiles_us")
	_, fams := scrape(t, handler.Labeled{Policy: "p", Tap: "t", Schema: "dns", Tree: tree})
	f := fams["dns_xact_in_quantiles_us"]
	if f == nil {
		t.Fatal("no dns_xact_in_quantiles_us")
	}
	s := f.Metric[0].GetSummary()
	if s.GetSampleSum() != 5555 || s.GetSampleCount() != 20 {
		t.Errorf("_sum %v _count %d, want 5555 20", s.GetSampleSum(), s.GetSampleCount())
	}
}

// TestIdleRatesExposition checks that handlers that saw no event still
// export their rates, as zeros (pktvisor's timer records a 0 every second).
// As in pktvisor, a rate's live value is JSON only.
func TestIdleRatesExposition(t *testing.T) {
	_, fams := scrape(t, idleTrees(t, false)...)
	want := []string{
		"packets_rates_pps_in", "packets_rates_pps_out", "packets_rates_pps_total", "packets_rates_pps_events",
		"payload_rates_bytes_in", "payload_rates_bytes_out", "payload_rates_bytes_total",
		"dns_rates_total", "dns_rates_events", "dhcp_rates_total", "dhcp_rates_events",
	}
	for _, name := range want {
		f := fams[name]
		if f == nil || f.GetType() != dto.MetricType_SUMMARY {
			t.Errorf("no summary %s", name)
			continue
		}
		if len(f.Metric) != 2 {
			t.Errorf("%s: %d series, want 2 (closed and live bucket)", name, len(f.Metric))
		}
		for _, m := range f.Metric {
			s := m.GetSummary()
			if len(s.Quantile) != 4 {
				t.Errorf("%s: %d quantiles, want 4", name, len(s.Quantile))
			}
			for _, q := range s.Quantile {
				if q.GetValue() != 0 {
					t.Errorf("%s{quantile=%v} = %v, want 0", name, q.GetQuantile(), q.GetValue())
				}
			}
		}
	}
}

// TestInvalidLabelValue checks that a top-N item whose name is not UTF-8
// (a DHCP hostname off the wire) neither breaks the exposition nor hides
// the families rendered after it.
func TestInvalidLabelValue(t *testing.T) {
	trees := idleTrees(t, true)
	for i := range trees {
		if trees[i].Schema != "dhcp" {
			continue
		}
		trees[i].Tree["top_clients"] = &metric.TopN{Label: "client", Items: []metric.Item{
			{Name: "\xff\xfehost", Estimate: 3}, {Name: "\xfe\xffhost", Estimate: 2}, {Name: "ok", Estimate: 1},
		}}
	}
	want := map[string]bool{}
	for _, tr := range trees {
		metric.Walk(tr.Tree, func(path []string, v any) {
			if _, ok := v.(metric.Period); ok {
				return
			}
			prefix := tr.Schema
			if s, ok := v.(*metric.Summary); ok && s.Prefix != "" {
				prefix = s.Prefix
			}
			if t, ok := v.(*metric.TopN); ok && len(t.Items) == 0 {
				return // an empty list has no series
			}
			want[prefix+"_"+strings.Join(path, "_")] = true
		})
	}
	body, fams := scrape(t, trees...)
	var missing []string
	for name := range want {
		if fams[name] == nil {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d families missing: %v", len(missing), len(want), missing)
	}
	top := fams["dhcp_top_clients"]
	if top == nil {
		t.Fatal("no dhcp_top_clients")
	}
	got := map[string]float64{}
	for _, m := range top.Metric {
		for _, l := range m.Label {
			if l.GetName() == "client" {
				got[l.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	// Both invalid names become "\ufffd\ufffdhost" (one U+FFFD per invalid
	// byte, as encoding/json writes them): their estimates add up.
	wantTop := map[string]float64{"\ufffd\ufffdhost": 5, "ok": 1}
	if len(got) != len(wantTop) || got["\ufffd\ufffdhost"] != 5 || got["ok"] != 1 {
		t.Errorf("dhcp_top_clients = %v, want %v", got, wantTop)
	}
	if e := fams["pktvisor_collector_errors"]; e == nil || e.Metric[0].GetGauge().GetValue() != 0 {
		t.Errorf("pktvisor_collector_errors = %v, want 0\n%s", e, body)
	}
}

// TestCollectorErrorsCounted checks that a series the client library
// refuses is counted in pktvisor_collector_errors while the others are
// still exported.
func TestCollectorErrorsCounted(t *testing.T) {
	tree := map[string]any{
		// A list whose label is one of the collector's own is refused
		// (duplicate label names).
		"top_taps": &metric.TopN{Label: "tap", Items: []metric.Item{{Name: "x", Estimate: 1}}},
		"good":     metric.Counter(2),
	}
	_, fams := scrape(t, handler.Labeled{Policy: "p", Tap: "t", Schema: "dns", Tree: tree})
	if g := fams["dns_good"]; g == nil || g.Metric[0].GetGauge().GetValue() != 2 {
		t.Errorf("dns_good = %v, want 2", g)
	}
	if e := fams["pktvisor_collector_errors"]; e == nil || e.Metric[0].GetGauge().GetValue() != 1 {
		t.Errorf("pktvisor_collector_errors = %v, want 1", e)
	}
}

// TestLabelValue checks that label values become valid UTF-8 the way
// encoding/json writes the same string in the REST API.
func TestLabelValue(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"valid", "host-1.example", "host-1.example"},
		{"valid multibyte", "h\u00f6st", "h\u00f6st"},
		{"invalid bytes", "\xff\xfehost", "\ufffd\ufffdhost"},
		{"truncated sequence", "a\xe2\x82", "a\ufffd\ufffd"},
		{"surrogate half", "\xed\xa0\x80x", "\ufffd\ufffd\ufffdx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := labelValue(tc.in)
			if got != tc.want {
				t.Errorf("labelValue(%q) = %q, want %q", tc.in, got, tc.want)
			}
			var fromJSON string
			b, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &fromJSON); err != nil || fromJSON != got {
				t.Errorf("JSON writes %q (%v), label %q", fromJSON, err, got)
			}
		})
	}
}
