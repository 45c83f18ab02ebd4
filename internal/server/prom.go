package server

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pktvisor-go/pktvisor/internal/handler"
)

// topLabels names the label that holds a top-N item, per metric (pktvisor's
// names); lists not listed use "name".
var topLabels = map[string]string{
	"top_ipv4": "ipv4", "top_ipv6": "ipv6", "top_geoLoc": "geo_loc", "top_ASN": "asn",
	"top_qname2": "qname", "top_qname3": "qname", "top_nxdomain": "qname", "top_refused": "qname",
	"top_srvfail": "qname", "top_nodata": "qname", "top_noerror": "qname", "top_qname_by_resp_bytes": "qname",
	"top_slow": "qname", "top_udp_ports": "port", "top_rcode": "rcode", "top_qtype": "qtype",
	"top_query_ecs": "ecs", "top_geoLoc_ecs": "geo_loc", "top_asn_ecs": "asn",
	"top_clients": "client", "top_servers": "server",
}

// schemaOf returns the metric prefix of a path: pktvisor names net v1's
// byte rates under the "payload" schema.
func schemaOf(schema string, path []string) string {
	if schema == "packets" && len(path) == 2 && path[0] == "rates" && strings.HasPrefix(path[1], "bytes_") {
		return "payload"
	}
	return schema
}

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
type collector struct {
	trees       []handler.Labeled
	instance    string
	withHandler bool
}

// Describe sends nothing: the metrics depend on what the handlers saw
// (an unchecked collector).
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.trees {
		names := []string{"policy", "tap"}
		values := []string{t.Policy, t.Tap}
		if c.withHandler {
			names = append(names, "handler")
			values = append(values, t.Handler)
		}
		if c.instance != "" {
			names = append(names, "instance")
			values = append(values, c.instance)
		}
		w := &walker{ch: ch, schema: t.Schema, names: names, values: values}
		w.walk(nil, t.Tree)
	}
}

type walker struct {
	ch     chan<- prometheus.Metric
	schema string
	names  []string
	values []string
}

func (w *walker) name(path []string) string {
	return schemaOf(w.schema, path) + "_" + strings.Join(path, "_")
}

func (w *walker) desc(path []string, extra ...string) *prometheus.Desc {
	labels := append(slices.Clone(w.names), extra...)
	return prometheus.NewDesc(w.name(path), w.schema+" "+strings.Join(path, "."), labels, nil)
}

func (w *walker) walk(path []string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if len(path) > 0 && path[len(path)-1] == "period" {
			return
		}
		if b, ok := x["buckets"].(map[string]any); ok && len(x) == 1 {
			w.histogram(path, b)
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if k == "period" {
				continue
			}
			w.walk(append(slices.Clone(path), k), x[k])
		}
	case *handler.Summary:
		w.summary(path, x)
	case []any:
		w.top(path, x)
	default:
		if f, ok := toFloat(v); ok && len(path) > 0 {
			w.ch <- prometheus.MustNewConstMetric(w.desc(path), prometheus.GaugeValue, f, w.values...)
		}
	}
}

func (w *walker) summary(path []string, s *handler.Summary) {
	if s.Quantiles == nil {
		// Only a live value so far (no complete second): a gauge.
		if s.Live != nil {
			w.ch <- prometheus.MustNewConstMetric(w.desc(append(slices.Clone(path), "live")), prometheus.GaugeValue,
				float64(*s.Live), w.values...)
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
	m, err := prometheus.NewConstSummary(w.desc(path), s.Count, s.Sum, q, w.values...)
	if err == nil {
		w.ch <- m
	}
}

func (w *walker) top(path []string, items []any) {
	label := topLabels[path[len(path)-1]]
	if label == "" {
		label = "name"
	}
	d := w.desc(path, label)
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		est, ok := toFloat(m["estimate"])
		if !ok {
			continue
		}
		w.ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, est, append(slices.Clone(w.values), name)...)
	}
}

// histogram renders pktvisor's {"buckets": {"<le>": cumulative, "+Inf": n}}.
func (w *walker) histogram(path []string, b map[string]any) {
	buckets := map[float64]uint64{}
	var count uint64
	for k, v := range b {
		f, ok := toFloat(v)
		if !ok {
			continue
		}
		if k == "+Inf" {
			count = uint64(f)
			continue
		}
		le, err := strconv.ParseFloat(k, 64)
		if err != nil {
			continue
		}
		buckets[le] = uint64(f)
	}
	m, err := prometheus.NewConstHistogram(w.desc(path), count, math.NaN(), buckets, w.values...)
	if err == nil {
		w.ch <- m
	}
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
