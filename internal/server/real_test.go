package server

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pktvisor-go/pktvisor/internal/config"
	_ "github.com/pktvisor-go/pktvisor/internal/handler/all"
	_ "github.com/pktvisor-go/pktvisor/internal/input/all"
	"github.com/pktvisor-go/pktvisor/internal/policy"
)

const realDoc = `version: "1.0"
visor:
  taps:
    file:
      input_type: pcap
      config:
        pcap_file: ../../testdata/captures/dns_udp_tcp_random.pcap
        host_spec: 192.168.0.0/24
  policies:
    default:
      kind: collection
      input:
        tap: file
        input_type: pcap
      handlers:
        window_config:
          num_periods: 1
        modules:
          net:
            type: net
          dns:
            type: dns
            metric_groups:
              enable: [all]
          dhcp:
            type: dhcp
          pcap_stats:
            type: pcap
`

// TestRealExposition renders the Prometheus exposition of every handler
// over a real capture: it parses, has one TYPE per family, carries
// pktvisor's names, and promtool finds nothing but pktvisor's naming.
func TestRealExposition(t *testing.T) {
	m := realManager(t)
	s := New(Config{PromInstance: "x"}, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := newServer(t, s)
	_, body := do(t, ts, "GET", "/api/v1/policies/default/metrics/prometheus", "", "")
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	want := map[string]float64{
		"packets_events": 16147, "packets_udp": 2971, "dns_wire_packets_queries": 2930,
		"dns_wire_packets_replies": 2921, "pcap_tcp_reassembly_errors": 0,
	}
	for name, v := range want {
		fam := fams[name]
		if fam == nil || len(fam.Metric) != 1 || fam.Metric[0].GetGauge().GetValue() != v {
			t.Errorf("%s = %v, want %v", name, fam, v)
		}
	}
	for _, name := range []string{"payload_rates_bytes_total", "packets_rates_pps_total", "dns_top_qtype", "dns_xact_out_quantiles_us", "packets_payload_size"} {
		if fams[name] == nil {
			t.Errorf("no family %s", name)
		}
	}
	if q := fams["dns_top_qtype"]; q != nil {
		found := false
		for _, m := range q.Metric {
			for _, l := range m.Label {
				found = found || (l.GetName() == "qtype" && l.GetValue() == "AAAA" && m.GetGauge().GetValue() == 1476)
			}
		}
		if !found {
			t.Errorf("dns_top_qtype{qtype=\"AAAA\"} 1476 missing")
		}
	}
	summaries := 0
	for name, f := range fams {
		for _, m := range f.Metric {
			if s := m.GetSummary(); f.GetType() == dto.MetricType_SUMMARY && s != nil {
				summaries++
				// A true sum: a number, 0 with no values, positive when
				// a quantile is.
				sum, positive := s.GetSampleSum(), false
				for _, q := range s.GetQuantile() {
					positive = positive || q.GetValue() > 0
				}
				if math.IsNaN(sum) || sum < 0 || (s.GetSampleCount() == 0 && sum != 0) || (positive && sum <= 0) {
					t.Errorf("%s: _sum %v with _count %d", name, sum, s.GetSampleCount())
				}
			}
		}
	}
	if summaries == 0 {
		t.Error("no summary series")
	}
	for name := range fams {
		if n := strings.Count(body, "# TYPE "+name+" "); n != 1 {
			t.Errorf("%d TYPE lines for %s", n, name)
		}
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		checkPromtool(t, promtool, body)
	}
}

// realManager runs realDoc's policies over its capture to the end; the
// manager is closed at the test's end.
func realManager(t *testing.T) *policy.Manager {
	t.Helper()
	f, err := config.Parse([]byte(realDoc))
	if err != nil {
		t.Fatal(err)
	}
	m := policy.NewManager(context.Background(), policy.ManagerConfig{Periods: 1, DeepSampleRate: 100,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(m.Close)
	if err := m.AddTaps(f.Taps...); err != nil {
		t.Fatal(err)
	}
	if err := m.AddPolicies(f.Policies...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := m.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}
