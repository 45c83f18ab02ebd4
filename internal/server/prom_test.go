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
