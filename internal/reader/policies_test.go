package reader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/config"
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

const twoPoliciesYAML = `version: "1.0"
visor:
  taps:
    wire:
      input_type: pcap
      config:
        iface: eth9
  policies:
    one:
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
    three:
      kind: collection
      input:
        tap: wire
        input_type: pcap
      handlers:
        window_config:
          num_periods: 3
        modules:
          net:
            type: net
    byflag:
      kind: collection
      input:
        tap: wire
        input_type: pcap
      handlers:
        modules:
          net:
            type: net
`

// TestRunPoliciesOwnPeriods: without --periods, each policy is rendered by
// its own window_config (bucket 0 with one period, else the window of its
// periods); --periods is the default of policies without window_config.
func TestRunPoliciesOwnPeriods(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one.yaml")
	os.WriteFile(one, []byte(policyYAML), 0o644)
	two := filepath.Join(dir, "two.yaml")
	os.WriteFile(two, []byte(twoPoliciesYAML), 0o644)
	cases := []struct {
		name    string
		file    string
		periods int
		want    []want
	}{
		{"one period, no --periods", one, 0, []want{
			{"dnsonly.dnsonly-wire-net.packets.events", 16147, 0},
			{"dnsonly.dnsonly-wire-aaaa.dns.wire_packets.queries", 1050, 0},
		}},
		{"one period, --periods 4", one, 4, []want{
			{"dnsonly.dnsonly-wire-net.packets.events", 16147, 0},
		}},
		{"policies differ", two, 0, []want{
			{"one.one-wire-net.packets.events", 16147, 0},
			{"three.three-wire-net.packets.events", 16147, 0},
			{"byflag.byflag-wire-net.packets.events", 16147, 0},
		}},
		{"policies differ, --periods 2", two, 2, []want{
			{"one.one-wire-net.packets.events", 16147, 0},
			{"three.three-wire-net.packets.events", 16147, 0},
			{"byflag.byflag-wire-net.packets.events", 16147, 0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := RunPolicies(context.Background(), Config{File: fixtures + "dns_udp_tcp_random.pcap", Periods: tc.periods},
				tc.file, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			check(t, doc, tc.want)
		})
	}
}

// TestNothingSummarized: a capture without packets is an error, with or
// without policies, and nothing is written.
func TestNothingSummarized(t *testing.T) {
	dir := t.TempDir()
	whole, err := os.ReadFile(fixtures + "dns_ipv4_udp.pcap")
	if err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, whole[:24], 0o644) // the file header alone
	cfgFile := filepath.Join(dir, "p.yaml")
	os.WriteFile(cfgFile, []byte(policyYAML), 0o644)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	var out bytes.Buffer
	_, err = Run(context.Background(), Config{File: empty}, &out, log)
	if !errors.Is(err, ErrNothing) || !strings.Contains(err.Error(), empty+": no packets") {
		t.Errorf("Run: err = %v, want %v naming the file", err, ErrNothing)
	}
	if out.Len() != 0 {
		t.Errorf("Run wrote %q", out.String())
	}
	out.Reset()
	err = RunPolicies(context.Background(), Config{File: empty}, cfgFile, &out, log)
	if !errors.Is(err, ErrNothing) {
		t.Errorf("RunPolicies: err = %v, want %v", err, ErrNothing)
	}
	if out.Len() != 0 {
		t.Errorf("RunPolicies wrote %q", out.String())
	}
}

// TestPolicyPeriods: a policy's periods come from its window_config,
// merged into its modules; handlers that differ give the smallest.
func TestPolicyPeriods(t *testing.T) {
	mods := func(ns ...any) []config.Module {
		var out []config.Module
		for _, n := range ns {
			c := map[string]any{}
			if n != nil {
				c["num_periods"] = n
			}
			out = append(out, config.Module{Config: c})
		}
		return out
	}
	cases := []struct {
		name string
		p    config.Policy
		want int
	}{
		{"no window_config", config.Policy{Modules: mods(uint64(1))}, 4},
		{"window_config", config.Policy{WindowConfig: map[string]any{"num_periods": uint64(1)}, Modules: mods(uint64(1), uint64(1))}, 1},
		{"handlers differ", config.Policy{WindowConfig: map[string]any{"deep_sample_rate": uint64(50)}, Modules: mods(uint64(3), uint64(2))}, 2},
		{"a handler without num_periods", config.Policy{WindowConfig: map[string]any{}, Modules: mods(uint64(7), nil)}, 4},
		{"no modules", config.Policy{WindowConfig: map[string]any{}}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := policyPeriods(tc.p, 4); got != tc.want {
				t.Errorf("policyPeriods = %d, want %d", got, tc.want)
			}
		})
	}
}
