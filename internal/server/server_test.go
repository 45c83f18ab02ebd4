package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/metric"
	"github.com/pktvisor-go/pktvisor/internal/policy"
	"github.com/pktvisor-go/pktvisor/internal/window"
	"github.com/pktvisor-go/pktvisor/pkg/api"
)

// fake is a Backend with one policy "default" of one dns-like handler.
type fake struct {
	taps     map[string]api.Tap
	policies map[string]api.Policy
	stopped  chan struct{}
}

func newFake() *fake {
	return &fake{
		taps:     map[string]api.Tap{"default": {InputType: "pcap"}},
		policies: map[string]api.Policy{"default": {}},
		stopped:  make(chan struct{}, 1),
	}
}

func (f *fake) Taps() map[string]api.Tap { return f.taps }
func (f *fake) Tap(n string) (map[string]api.Tap, error) {
	if t, ok := f.taps[n]; ok {
		return map[string]api.Tap{n: t}, nil
	}
	return nil, policy.ErrNotFound
}
func (f *fake) AddTap(doc []byte) (map[string]api.Tap, error) {
	if bytes.Contains(doc, []byte("default")) {
		return nil, fmt.Errorf("tap default: %w", policy.ErrExists)
	}
	if bytes.Contains(doc, []byte("bad")) {
		return nil, fmt.Errorf("line 3: input_type: %w", policy.ErrInvalid)
	}
	f.taps["t2"] = api.Tap{}
	return map[string]api.Tap{"t2": {}}, nil
}
func (f *fake) DeleteTap(n string) error {
	if _, ok := f.taps[n]; !ok {
		return policy.ErrNotFound
	}
	delete(f.taps, n)
	return nil
}
func (f *fake) Policies() map[string]api.Policy { return f.policies }
func (f *fake) Policy(n string) (map[string]api.Policy, error) {
	if p, ok := f.policies[n]; ok {
		return map[string]api.Policy{n: p}, nil
	}
	return nil, policy.ErrNotFound
}
func (f *fake) AddPolicy(doc []byte) (map[string]api.Policy, error) {
	if bytes.Contains(doc, []byte("selector")) {
		return nil, policy.ErrNoTapMatch
	}
	return map[string]api.Policy{"p2": {}}, nil
}
func (f *fake) DeletePolicy(n string) error { return nil }

func (f *fake) tree() map[string]any {
	return map[string]any{
		"wire_packets": map[string]any{"queries": metric.Counter(7), "replies": metric.Counter(5)},
		"rates":        map[string]any{"total": &handler.Summary{Quantiles: map[string]any{"p50": int64(3), "p90": int64(4), "p95": int64(5), "p99": int64(6)}, Count: 9, Sum: 6}},
		"top_qname2":   &metric.TopN{Label: "qname", Items: []metric.Item{{Name: ".example.com", Estimate: 12}, {Name: `.we"ird\.com`, Estimate: 1}}},
		"xact":         map[string]any{"out": map[string]any{"histogram_us": &metric.Histogram{Buckets: []metric.Bucket{{Le: "10", Cumulative: 1}, {Le: "100", Cumulative: 3}}, Count: 4}}},
		"period":       metric.Period{StartTS: 1, Length: 60},
	}
}

func (f *fake) Metrics(p string, win bool, n int) (map[string]any, error) {
	if p != "default" && p != "__all" {
		return nil, policy.ErrNotFound
	}
	if n > 4 {
		return nil, &window.PeriodError{Msg: "invalid metrics period, specify [0, 4]"}
	}
	return map[string]any{"default": map[string]any{"default-default-dns": map[string]any{"dns": handler.Plain(f.tree())}}}, nil
}

func (f *fake) Prometheus(p string) ([]handler.Labeled, error) {
	if p != "default" && p != "__all" {
		return nil, policy.ErrNotFound
	}
	return []handler.Labeled{
		{Policy: "default", Handler: "default-default-dns", Tap: "default", Schema: "dns", Tree: f.tree()},
		{Policy: "default", Handler: "default-default-dns2", Tap: "default", Schema: "dns", Tree: f.tree()},
	}, nil
}

func newTest(t *testing.T, cfg Config) (*fake, *httptest.Server) {
	t.Helper()
	f := newFake()
	cfg.Version = "test"
	cfg.Stop = func() { f.stopped <- struct{}{} }
	s := New(cfg, f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f, newServer(t, s)
}

func newServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func do(t *testing.T, ts *httptest.Server, method, path, ct, body string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRoutes(t *testing.T) {
	_, ts := newTest(t, Config{AdminAPI: true})
	yaml := "application/x-yaml"
	cases := []struct {
		method, path, ct, body string
		status                 int
		has                    string
	}{
		{"GET", "/api/v1/metrics/app", "", "", 200, `"version":"test"`},
		{"GET", "/api/v1/metrics/rates", "", "", 200, "deprecated"},
		{"GET", "/api/v1/metrics/bucket/0", "", "", 200, `{"1m":{"dns":`},
		{"GET", "/api/v1/metrics/window/5", "", "", 425, `{"error":"invalid metrics period, specify [0, 4]"}`},
		{"GET", "/api/v1/metrics/window/3", "", "", 200, `{"3m":{"dns":`},
		{"GET", "/api/v1/metrics/bucket/x", "", "", 400, "non-negative integer"},
		{"GET", "/api/v1/taps", "", "", 200, `"default"`},
		{"GET", "/api/v1/taps/default", "", "", 200, `"input_type":"pcap"`},
		{"GET", "/api/v1/taps/nope", "", "", 404, `{"error":"tap does not exists"}`},
		{"GET", "/api/v1/policies", "", "", 200, `"default"`},
		{"GET", "/api/v1/policies/nope", "", "", 404, `"error"`},
		{"GET", "/api/v1/policies/default/metrics/bucket/1", "", "", 200, `"default-default-dns":{"dns":`},
		{"GET", "/api/v1/policies/__all/metrics/window/2", "", "", 200, `"default"`},
		{"GET", "/api/v1/policies/nope/metrics/window/2", "", "", 404, `"error"`},
		{"GET", "/api/v1/policies/default/metrics/bucket/9", "", "", 425, `"error"`},
		{"POST", "/api/v1/taps", "text/plain", "x", 400, "Content-Type"},
		{"POST", "/api/v1/taps", yaml, "", 400, "empty data"},
		{"POST", "/api/v1/taps", yaml, "visor: {taps: {default: {}}}", 409, "already exists"},
		{"POST", "/api/v1/taps", yaml, "visor: {taps: {bad: {}}}", 400, "line 3"},
		{"POST", "/api/v1/taps", "application/json", `{"visor":{"taps":{"t2":{}}}}`, 201, `"t2"`},
		{"DELETE", "/api/v1/taps/t2", "", "", 200, "{}"},
		{"DELETE", "/api/v1/taps/t2", "", "", 404, `"error"`},
		{"POST", "/api/v1/policies", yaml, "tap_selector", 422, "no tap match"},
		{"POST", "/api/v1/policies", yaml + "; charset=utf-8", "visor: {}", 201, `"p2"`},
		{"DELETE", "/api/v1/policies/p2", "", "", 200, "{}"},
		{"GET", "/nope", "", "", 404, `{"error":"not found"}`},
		{"PUT", "/api/v1/taps", "", "", 405, `"error"`},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			st, body := do(t, ts, tc.method, tc.path, tc.ct, tc.body)
			if st != tc.status || !strings.Contains(body, tc.has) {
				t.Errorf("%d %s, want %d containing %q", st, body, tc.status, tc.has)
			}
		})
	}
}

func TestAdminRoutesAbsentWithoutAdminAPI(t *testing.T) {
	_, ts := newTest(t, Config{})
	for _, r := range [][2]string{{"POST", "/api/v1/taps"}, {"DELETE", "/api/v1/taps/default"},
		{"POST", "/api/v1/policies"}, {"DELETE", "/api/v1/policies/default"}, {"DELETE", "/api/v1/server"}} {
		if st, _ := do(t, ts, r[0], r[1], "application/x-yaml", "visor: {}"); st != 404 && st != 405 {
			t.Errorf("%s %s = %d without --admin-api, want 404", r[0], r[1], st)
		}
	}
}

func TestAdminToken(t *testing.T) {
	f, ts := newTest(t, Config{AdminAPI: true, AdminToken: "s3cret"})
	if st, _ := do(t, ts, "DELETE", "/api/v1/taps/default", "", ""); st != 401 {
		t.Errorf("no token: %d", st)
	}
	if st, _ := do(t, ts, "DELETE", "/api/v1/taps/default", "", "", "Authorization", "Bearer wrong"); st != 401 {
		t.Errorf("wrong token: %d", st)
	}
	if st, _ := do(t, ts, "GET", "/api/v1/taps", "", ""); st != 200 {
		t.Errorf("read routes need no token: %d", st)
	}
	if st, _ := do(t, ts, "DELETE", "/api/v1/server", "", "", "Authorization", "Bearer s3cret"); st != 200 {
		t.Errorf("good token: %d", st)
	}
	<-f.stopped
}

func TestPrometheus(t *testing.T) {
	_, ts := newTest(t, Config{PromInstance: "i1"})
	st, body := do(t, ts, "GET", "/api/v1/policies/default/metrics/prometheus", "", "")
	if st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, body)
	}
	if n := strings.Count(body, "# TYPE dns_wire_packets_queries "); n != 1 {
		t.Errorf("TYPE of dns_wire_packets_queries appears %d times", n)
	}
	q := fams["dns_wire_packets_queries"]
	if q == nil || len(q.Metric) != 2 || q.Metric[0].GetGauge().GetValue() != 7 {
		t.Fatalf("dns_wire_packets_queries: %v", q)
	}
	labels := map[string]string{}
	for _, l := range q.Metric[0].Label {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["policy"] != "default" || labels["tap"] != "default" || labels["instance"] != "i1" || labels["handler"] != "default-default-dns" {
		t.Errorf("labels %v", labels)
	}
	if s := fams["dns_rates_total"]; s == nil || s.Metric[0].GetSummary().GetSampleCount() != 9 || len(s.Metric[0].GetSummary().Quantile) != 4 {
		t.Errorf("summary: %v", s)
	}
	top := fams["dns_top_qname2"]
	if top == nil || len(top.Metric) != 4 {
		t.Fatalf("top: %v", top)
	}
	if h := fams["dns_xact_out_histogram_us"]; h == nil || h.Metric[0].GetHistogram().GetSampleCount() != 4 {
		t.Errorf("histogram: %v", h)
	}
	for name := range fams {
		if !model.LegacyValidation.IsValidMetricName(name) {
			t.Errorf("invalid metric name %q", name)
		}
	}
	// /metrics is the default policy without the handler label.
	_, body = do(t, ts, "GET", "/metrics", "", "")
	if strings.Contains(body, "handler=") || !strings.Contains(body, "dns_wire_packets_replies") {
		t.Errorf("/metrics:\n%s", body)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		checkPromtool(t, promtool, body)
	}
}

// namingLint are the promtool findings pktvisor's metric names cause (kept
// for drop-in compatibility, see docs/compat.md): they are conventions, not
// validity problems.
var namingLint = []string{
	`non-counter metrics should not have "_total" suffix`,
	"metric name should not include type",
	"metric names should not contain abbreviated units",
	"counter metrics should have \"_total\" suffix",
}

// checkPromtool runs promtool check metrics: exit 1 (an invalid exposition)
// fails; exit 3 (lint findings) passes only when every finding is one of
// namingLint.
func checkPromtool(t *testing.T, promtool, body string) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ok := false
		for _, l := range namingLint {
			ok = ok || strings.Contains(line, l)
		}
		if !ok {
			t.Errorf("promtool finding beyond pktvisor's naming: %s", line)
		}
	}
}

// TestOpenAPICoversRoutes checks every registered route is documented, and
// docs/openapi.json is the served document.
func TestOpenAPICoversRoutes(t *testing.T) {
	s := New(Config{AdminAPI: true}, newFake(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := chi.Walk(s.router.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		n++
		ops, ok := doc.Paths[route]
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", method, route)
			return nil
		}
		if _, ok := ops[strings.ToLower(method)]; !ok {
			t.Errorf("method %s of %s is not in openapi.json", method, route)
		}
		return nil
	})
	if err != nil || n < 17 {
		t.Fatalf("walked %d routes: %v", n, err)
	}
	docs, err := os.ReadFile("../../docs/openapi.json")
	if err != nil || !bytes.Equal(docs, openAPI) {
		t.Errorf("docs/openapi.json differs from the served document (%v)", err)
	}
}
