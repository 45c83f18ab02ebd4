package server

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pktvisor-go/pktvisor/internal/handler"
	_ "github.com/pktvisor-go/pktvisor/internal/handler/all"
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
