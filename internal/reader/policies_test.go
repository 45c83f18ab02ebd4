package reader

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

const policyYAML = `version: "1.0"
visor:
  taps:
    wire:
      input_type: pcap
      config:
        iface: eth9
        host_spec: 192.168.0.0/24
  policies:
    dnsonly:
      kind: collection
      input:
        tap: wire
        input_type: pcap
      handlers:
        window_config:
          num_periods: 1
        modules:
          net:
            type: net
          aaaa:
            type: dns
            config:
              only_qtype: [AAAA, TxT]
`

// TestRunPolicies runs a policy file over a capture: the only_qtype row of
// pktvisor's dns v1 acceptance values must hold.
func TestRunPolicies(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(cfgFile, []byte(policyYAML), 0o644)
	var out bytes.Buffer
	err := RunPolicies(context.Background(), Config{File: fixtures + "dns_udp_tcp_random.pcap", Periods: 1}, cfgFile, &out,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	check(t, doc, []want{
		{"dnsonly.dnsonly-wire-aaaa.dns.wire_packets.ipv4", 2096, 0},
		{"dnsonly.dnsonly-wire-aaaa.dns.wire_packets.queries", 1050, 0},
		{"dnsonly.dnsonly-wire-aaaa.dns.wire_packets.replies", 1046, 0},
		{"dnsonly.dnsonly-wire-aaaa.dns.wire_packets.nodata", 737, 0},
		{"dnsonly.dnsonly-wire-aaaa.dns.top_qtype.0.name", "AAAA", 0},
		{"dnsonly.dnsonly-wire-aaaa.dns.top_qtype.0.estimate", 1476, 0},
		{"dnsonly.dnsonly-wire-net.packets.events", 16147, 0},
		{"dnsonly.dnsonly-wire-net.packets.in", 6648, 0},
		{"dnsonly.dnsonly-wire-net.packets.period.length", 31, 0},
	})
	if _, ok := get(doc, "dnsonly.dnsonly-wire-net.packets.rates.pps_total.live"); ok {
		t.Error("a file replay has no live rate")
	}
}
