package server

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/metric"
)

type promHandler struct {
	b        Backend
	instance string
}

func newPromHandler(b Backend, instance string) *promHandler {
	return &promHandler{b: b, instance: instance}
}

// serve renders a policy's handlers; withHandler adds the "handler" label
// (the per-policy route has it, /metrics does not, as in pktvisor).
func (p *promHandler) serve(pol string, withHandler bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		trees, err := p.b.Prometheus(pol)
		if err != nil {
			fail(w, err)
			return
		}
		reg := prometheus.NewRegistry()
		if err := reg.Register(&collector{trees: trees, instance: p.instance, withHandler: withHandler}); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
	}
}

// collector turns rendered handler trees into constant metrics; one HELP
// and TYPE per family (the registry groups samples by name).
//
// A series the client library refuses (an invalid name, a label value it
// rejects) is skipped and counted; the collector goes on with the others
// and reports the count of its scrape as the gauge
// pktvisor_collector_errors, always present (0 when none). Label values
// that come off the wire are made valid UTF-8 first (see [labelValue]).
type collector struct {
	trees       []handler.Labeled
	instance    string
	withHandler bool
}

// collectorErrorsDesc describes the gauge of refused series.
var collectorErrorsDesc = prometheus.NewDesc("pktvisor_collector_errors",
	"series of this scrape that could not be rendered and were left out", nil, nil)

// Describe sends nothing: the metrics depend on what the handlers saw
// (an unchecked collector).
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	errs := 0
	for _, t := range c.trees {
		names := []string{"policy", "tap"}
		values := []string{labelValue(t.Policy), labelValue(t.Tap)}
		if c.withHandler {
			names = append(names, "handler")
			values = append(values, labelValue(t.Handler))
		}
		if c.instance != "" {
			names = append(names, "instance")
			values = append(values, labelValue(c.instance))
		}
		w := &walker{ch: ch, schema: t.Schema, names: names, values: values}
		w.walk(t.Tree)
		errs += w.errors
	}
	if m, err := prometheus.NewConstMetric(collectorErrorsDesc, prometheus.GaugeValue, float64(errs)); err == nil {
		ch <- m
	}
}

type walker struct {
	ch     chan<- prometheus.Metric
	schema string
	names  []string
	values []string
	errors int // series refused by the client library
}

// send sends m, or counts err.
func (w *walker) send(m prometheus.Metric, err error) {
	if err != nil {
		w.errors++
		return
	}
	w.ch <- m
}

func (w *walker) name(prefix string, path []string) string {
	if prefix == "" {
		prefix = w.schema
	}
	return prefix + "_" + strings.Join(path, "_")
}

func (w *walker) desc(prefix string, path []string, extra ...string) *prometheus.Desc {
	labels := append(slices.Clone(w.names), extra...)
	return prometheus.NewDesc(w.name(prefix, path), w.schema+" "+strings.Join(path, "."), labels, nil)
}

// walk renders every leaf of a handler's metric tree by its kind. pktvisor
// exports counters as gauges (they reset every period).
func (w *walker) walk(tree map[string]any) {
	metric.Walk(tree, func(path []string, v any) {
		switch x := v.(type) {
		case metric.Counter:
			w.send(prometheus.NewConstMetric(w.desc("", path), prometheus.GaugeValue, float64(x), w.values...))
		case metric.Gauge:
			w.send(prometheus.NewConstMetric(w.desc("", path), prometheus.GaugeValue, float64(x), w.values...))
		case *metric.Summary:
			w.summary(path, x)
		case *metric.TopN:
			w.top(path, x)
		case *metric.Histogram:
			w.histogram(path, x)
		case metric.Period:
			// Not a metric: the bucket's time span.
		}
	})
}

func (w *walker) summary(path []string, s *metric.Summary) {
	if s.Quantiles == nil {
		// Only a live value: a gauge.
		if s.Live != nil {
			w.send(prometheus.NewConstMetric(w.desc(s.Prefix, append(slices.Clone(path), "live")), prometheus.GaugeValue,
				float64(*s.Live), w.values...))
		}
		return
	}
	q := map[float64]float64{}
	for k, v := range s.Quantiles {
		f, ok := toFloat(v)
		if !ok || !strings.HasPrefix(k, "p") {
			continue
		}
		pct, err := strconv.ParseFloat(k[1:], 64)
		if err != nil {
			continue
		}
		q[pct/100] = f
	}
	w.send(prometheus.NewConstSummary(w.desc(s.Prefix, path), s.Count, s.Sum, q, w.values...))
}

// top renders one gauge per item, the item's name in the list's label.
// Names made equal by [labelValue] are one series: their estimates add up.
func (w *walker) top(path []string, t *metric.TopN) {
	label := t.Label
	if label == "" {
		label = "name"
	}
	d := w.desc("", path, label)
	names := make([]string, 0, len(t.Items))
	sums := make(map[string]uint64, len(t.Items))
	for _, it := range t.Items {
		n := labelValue(it.Name)
		if _, ok := sums[n]; !ok {
			names = append(names, n)
		}
		sums[n] += it.Estimate
	}
	values := append(slices.Clone(w.values), "")
	for _, n := range names {
		values[len(values)-1] = n
		w.send(prometheus.NewConstMetric(d, prometheus.GaugeValue, float64(sums[n]), values...))
	}
}

// labelValue returns s with every byte that is not part of valid UTF-8
// replaced by U+FFFD, one per byte, as encoding/json writes such a string
// in the REST API's JSON: top-N names come off the wire (a DHCP hostname
// may hold any bytes) and the client library refuses a label value that
// is not UTF-8.
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// histogram renders pktvisor's cumulative buckets and count.
func (w *walker) histogram(path []string, h *metric.Histogram) {
	buckets := map[float64]uint64{}
	for _, b := range h.Buckets {
		le, err := strconv.ParseFloat(b.Le, 64)
		if err != nil {
			continue
		}
		buckets[le] = b.Cumulative
	}
	w.send(prometheus.NewConstHistogram(w.desc("", path), h.Count, math.NaN(), buckets, w.values...))
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case uint64:
		return float64(x), true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	case uint32:
		return float64(x), true
	}
	return 0, false
}
