package pcap

import (
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/capture/mock"
	"github.com/pktvisor-go/pktvisor/internal/input"
)

// TestFailedAttemptLeavesNoTrace: under pcap_source auto, an AF_XDP
// attempt that got as far as attaching its program (info, kernel
// counters, a cleanup) and then failed leaves nothing in the winning
// backend's info or counters, and is cleaned up.
func TestFailedAttemptLeavesNoTrace(t *testing.T) {
	cleaned := 0
	src := mock.New()
	chain := []attempt{
		{"af_xdp", nil, func(p *params) (*backend, error) {
			b := &backend{name: "af_xdp", info: map[string]any{"xdp_mode": "native", "prefilter_drop": true},
				cleanup:        func() { cleaned++ },
				kernel:         func() map[string]any { return map[string]any{"xdp": map[string]uint64{"rx": 7}} },
				kernelFiltered: func() uint64 { return 99 }}
			b.close() // what openAFXDP's fail path does
			return nil, errors.New("set XDP port pre-filter: no space left")
		}},
		{"af_packet", nil, func(p *params) (*backend, error) {
			return &backend{name: "af_packet", sources: []capture.Source{src}, info: map[string]any{}}, nil
		}},
	}
	p := &params{iface: "cap0", source: "auto"}
	b, fallbacks, err := openBackend(p, chain)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	if cleaned != 1 {
		t.Errorf("failed attempt cleaned up %d times, want 1", cleaned)
	}
	s := newLive(p, b, liveInfo(p, b, fallbacks))
	info := s.Info()
	for _, k := range []string{"xdp_mode", "prefilter_drop", "kernel", "af_xdp_queues", "zero_copy"} {
		if v, ok := info[k]; ok {
			t.Errorf("info[%q] = %v after af_xdp lost to af_packet", k, v)
		}
	}
	if info["pcap_source"] != "af_packet" {
		t.Errorf("pcap_source = %v, want af_packet", info["pcap_source"])
	}
	if want := []string{"af_xdp: set XDP port pre-filter: no space left"}; !slices.Equal(info["fallbacks"].([]string), want) {
		t.Errorf("fallbacks = %v, want %v", info["fallbacks"], want)
	}
	if b.kernelFiltered != nil {
		t.Error("the winning backend carries the lost attempt's kernel pre-filter counter")
	}
}

// TestBadFilterNamesTheFilter: a bad bpf expression under auto is the
// filter's error, not a capture failure after the fallback chain.
func TestBadFilterNamesTheFilter(t *testing.T) {
	chain := []attempt{
		{"af_xdp", nil, func(p *params) (*backend, error) { return nil, errors.New("no AF_XDP here") }},
		{"ebpf", nil, func(p *params) (*backend, error) { return nil, input.Invalid("bpf %q: syntax error", p.expr) }},
		{"af_packet", nil, func(p *params) (*backend, error) { t.Fatal("tried af_packet after a bad filter"); return nil, nil }},
	}
	_, _, err := openBackend(&params{iface: "cap0", source: "auto", expr: "port x"}, chain)
	if !errors.Is(err, input.ErrInvalid) || err.Error() != `bpf "port x": syntax error` {
		t.Fatalf("err = %v", err)
	}
}

// TestWorkers: workers above MaxWorkers or not a number is an error; a
// live input runs at most one worker per CPU.
func TestWorkers(t *testing.T) {
	cases := []struct {
		name    string
		v       any
		want    int
		wantErr string
	}{
		{"default", nil, 0, ""},
		{"one", uint64(1), 1, ""},
		{"at the limit", uint64(MaxWorkers), MaxWorkers, ""},
		{"above the limit", uint64(MaxWorkers + 1), 0, "workers: 65 is above the limit of 64"},
		{"huge", uint64(1 << 40), 0, "workers: 1099511627776 is above the limit of 64"},
		{"negative", "-1", 0, `workers: "-1" is not a number of workers (1 to 64)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]any{"iface": "eth0"}
			if tc.v != nil {
				cfg["workers"] = tc.v
			}
			p, err := parseParams(cfg)
			if tc.wantErr != "" {
				if !errors.Is(err, input.ErrInvalid) || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q (ErrInvalid)", err, tc.wantErr)
				}
				return
			}
			if err != nil || p.workers != tc.want {
				t.Fatalf("workers %d, err %v; want %d", p.workers, err, tc.want)
			}
		})
	}
	for _, n := range []int{0, 1, 48, MaxWorkers} {
		want := min(n, runtime.NumCPU())
		if n == 0 {
			want = runtime.NumCPU()
		}
		if got := liveWorkers(n); got != want {
			t.Errorf("liveWorkers(%d) = %d, want %d (%d CPUs)", n, got, want, runtime.NumCPU())
		}
	}
}
