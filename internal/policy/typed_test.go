package policy

import (
	"context"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/metric"
)

// TestTreesAreTyped: every leaf every built-in handler renders, with every
// metric group on, is a typed metric (no renderer has to guess a kind).
func TestTreesAreTyped(t *testing.T) {
	m := onePeriodManager(t, nil)
	load(t, m, `
visor:
  taps:
    dns:
      input_type: pcap
      config:
        pcap_file: ../../testdata/captures/dns_udp_tcp_random.pcap
        host_spec: 192.168.0.0/24
      tags:
        all: true
    dhcp:
      input_type: pcap
      config:
        pcap_file: ../../testdata/captures/dhcp-flow.pcap
      tags:
        all: true
  policies:
    a:
      kind: collection
      input:
        tap_selector:
          any:
            - all: true
        input_type: pcap
      handlers:
        modules:
          net:
            type: net
          dns:
            type: dns
            metric_groups:
              enable: [all]
          dhcp:
            type: dhcp
          pcap:
            type: pcap
`)
	if err := m.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	trees, err := m.Prometheus("__all")
	if err != nil {
		t.Fatal(err)
	}
	if len(trees) < 8 {
		t.Fatalf("%d trees, want 4 handlers on 2 taps", len(trees))
	}
	leaves := 0
	for _, tr := range trees {
		metric.Walk(tr.Tree, func(path []string, v any) {
			leaves++
			switch v.(type) {
			case metric.Counter, metric.Gauge, *metric.Summary, *metric.Histogram, *metric.TopN, metric.Period:
			default:
				t.Errorf("%s %v: untyped leaf %T", tr.Handler, path, v)
			}
		})
	}
	t.Logf("%d typed leaves", leaves)
}
