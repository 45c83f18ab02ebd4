package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/capture/mock"
	"github.com/pktvisor-go/pktvisor/internal/config"
	"github.com/pktvisor-go/pktvisor/internal/decode"
	_ "github.com/pktvisor-go/pktvisor/internal/handler/all"
	"github.com/pktvisor-go/pktvisor/internal/input"
	"github.com/pktvisor-go/pktvisor/internal/input/pcap"
)

// testOpener serves pcap_file taps from files and everything else from one
// shared mock source per call.
func testOpener(mocks *[]*mock.Source) Opener {
	return func(ctx context.Context, typ string, c input.Config) (input.Stream, error) {
		cfg := c.Map
		if _, ok := cfg["pcap_file"].(string); ok {
			return input.Open(ctx, typ, c)
		}
		if cfg["iface"] == "missing0" {
			return nil, errors.New("interface missing0 not found")
		}
		hosts, err := decode.ParseHostSpec(fmt.Sprint(cfg["host_spec"]))
		if cfg["host_spec"] == nil || err != nil {
			hosts = decode.HostSpec{}
		}
		a, b := mock.New(), mock.New()
		*mocks = append(*mocks, a, b)
		return pcap.FromSources([]capture.Source{a, b}, pcap.SourcesConfig{Hosts: hosts, Info: map[string]any{"pcap_source": "mock"}}), nil
	}
}

func newManager(t *testing.T) (*Manager, *[]*mock.Source) {
	t.Helper()
	var mocks []*mock.Source
	m := NewManager(context.Background(), ManagerConfig{Periods: 5, DeepSampleRate: 100, Open: testOpener(&mocks),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(m.Close)
	return m, &mocks
}

const fileDoc = `
visor:
  taps:
    file:
      input_type: pcap
      config:
        pcap_file: ../../testdata/captures/dns_ipv4_tcp.pcap
    wire:
      input_type: pcap
      config:
        iface: eth0
      tags:
        virtual: true
  policies:
    p1:
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
`

func load(t *testing.T, m *Manager, doc string) {
	t.Helper()
	f, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddTaps(f.Taps...); err != nil {
		t.Fatal(err)
	}
	if err := m.AddPolicies(f.Policies...); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFilePolicyMetrics(t *testing.T) {
	m, _ := newManager(t)
	load(t, m, fileDoc)
	waitFor(t, "the file to be read", func() bool {
		j, err := m.Metrics("p1", false, 0)
		if err != nil {
			t.Logf("metrics: %v", err)
			return false
		}
		n, _ := j["p1"].(map[string]any)["p1-file-net"].(map[string]any)["packets"].(map[string]any)["events"].(uint64)
		if n != 2100 {
			t.Logf("events %d", n)
		}
		return n == 2100
	})
	j, err := m.Metrics("p1", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	dns := j["p1"].(map[string]any)["p1-file-dns"].(map[string]any)["dns"].(map[string]any)
	wp := dns["wire_packets"].(map[string]any)
	if wp["queries"] != uint64(210) || wp["replies"] != uint64(210) {
		t.Errorf("dns wire_packets %v", wp)
	}
	trees, err := m.Prometheus("p1")
	if err != nil || len(trees) != 2 || trees[0].Tap != "file" || trees[0].Policy != "p1" {
		t.Errorf("prometheus trees: %v %v", trees, err)
	}
	if _, err := m.Metrics("nope", false, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown policy: %v", err)
	}
	if _, err := m.Metrics("p1", false, 3); err == nil {
		t.Error("bucket 3 of a 1-period policy")
	}
	all, err := m.Metrics("__all", true, 1)
	if err != nil || all["p1"] == nil {
		t.Errorf("__all: %v %v", all, err)
	}
}

const policyDoc = `
visor:
  policies:
    %s:
      kind: collection
      input:
        input_type: pcap
        tap_selector:
          any:
            - virtual: true
      handlers:
        modules:
          dns:
            type: dns
            config:
              only_qname_suffix: [example.com]
`

func TestTransactionalFailure(t *testing.T) {
	m, mocks := newManager(t)
	load(t, m, fileDoc)
	bad := strings.Replace(policyDoc, "only_qname_suffix: [example.com]", "no_such_filter: true", 1)
	_, err := m.AddPolicy([]byte(strings.Replace(bad, "%s", "bad", 1)))
	if err == nil || !strings.Contains(err.Error(), "no_such_filter is an invalid/unsupported config or filter") || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	if _, err := m.Policy("bad"); !errors.Is(err, ErrNotFound) {
		t.Error("failed policy left behind")
	}
	m.mu.Lock()
	n := len(m.inputs)
	m.mu.Unlock()
	if n != 1 { // only p1's file input
		t.Errorf("%d inputs left", n)
	}
	for _, s := range *mocks {
		if _, err := s.ReadBatch(context.Background(), make([]capture.Frame, 1)); err == nil {
			t.Error("the failed policy's input source is still open")
		}
	}
	sel := strings.Replace(policyDoc, "virtual: true", "virtual: false", 1)
	if _, err := m.AddPolicy([]byte(strings.Replace(sel, "%s", "nomatch", 1))); !errors.Is(err, ErrNoTapMatch) {
		t.Errorf("no match: %v", err)
	}
	if _, err := m.AddPolicy([]byte(strings.Replace(policyDoc, "%s", "p1", 1))); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate: %v", err)
	}
	chained := strings.Replace(strings.Replace(policyDoc, "%s", "chain", 1), "          dns:\n            type: dns\n", "          - pcap:\n              type: pcap\n          - dns:\n              type: dns\n", 1)
	chained = strings.Replace(chained, "            config:\n              only_qname_suffix: [example.com]\n", "", 1)
	if _, err := m.AddPolicy([]byte(chained)); err == nil || !strings.Contains(err.Error(), "a chain can only continue after net or dns handlers") {
		t.Errorf("chained after pcap: %v", err)
	}
	unavailable := strings.Replace(policyDoc, "type: dns", "type: bgp", 1)
	_, err = m.AddPolicy([]byte(strings.Replace(unavailable, "%s", "bgp", 1)))
	if err == nil || !strings.Contains(err.Error(), "Policy 'bgp' requires stream handler type 'bgp' and version '1.0' which is not available") {
		t.Errorf("unavailable handler: %v", err)
	}
}

func TestSharedInputs(t *testing.T) {
	m, mocks := newManager(t)
	load(t, m, fileDoc)
	for _, n := range []string{"a", "b"} {
		if _, err := m.AddPolicy([]byte(strings.Replace(policyDoc, "%s", n, 1))); err != nil {
			t.Fatal(err)
		}
	}
	if len(*mocks) != 2 {
		t.Fatalf("two policies with the same input config opened %d mock sources, want one input (2 workers)", len(*mocks))
	}
	if err := m.RemovePolicy("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Metrics("b", false, 0); err != nil {
		t.Errorf("b after removing a: %v", err)
	}
	if err := m.RemoveTap("wire"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Policy("b"); !errors.Is(err, ErrNotFound) {
		t.Error("deleting a tap must remove its policies")
	}
}

// TestAddRemoveUnderTraffic adds and removes a policy 1,000 times while
// frames flow into the shared input; goroutines return to their level.
func TestAddRemoveUnderTraffic(t *testing.T) {
	m, mocks := newManager(t)
	load(t, m, fileDoc)
	if _, err := m.AddPolicy([]byte(strings.Replace(policyDoc, "%s", "keep", 1))); err != nil {
		t.Fatal(err)
	}
	frame := dnsFrame()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts := time.Now().UnixNano()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, s := range *mocks {
				if s.Pending() < 1000 {
					ts += 1000
					s.Push(capture.Frame{Data: frame, TS: ts, WireLen: len(frame)})
				}
			}
			runtime.Gosched()
		}
	}()
	base := runtime.NumGoroutine()
	for i := 0; i < 1000; i++ {
		if _, err := m.AddPolicy([]byte(strings.Replace(policyDoc, "%s", "churn", 1))); err != nil {
			t.Fatal(err)
		}
		if err := m.RemovePolicy("churn"); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-done
	if g := runtime.NumGoroutine(); g > base+2 {
		t.Errorf("goroutines grew from %d to %d", base, g)
	}
	j, err := m.Metrics("keep", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev := j["keep"].(map[string]any)["keep-wire-dns"].(map[string]any)["dns"].(map[string]any)["wire_packets"].(map[string]any)["events"].(uint64)
	if ev == 0 {
		t.Error("the kept policy saw no traffic")
	}
}

// dnsFrame is an Ethernet/IPv4/UDP DNS query for www.example.com.
func dnsFrame() []byte {
	dns := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	udpLen := 8 + len(dns)
	ipLen := 20 + udpLen
	f := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0,
		0x45, 0, byte(ipLen >> 8), byte(ipLen), 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0xc0, 0x00, 0, 53, byte(udpLen >> 8), byte(udpLen), 0, 0}
	return append(f, dns...)
}

const mergeDoc = `
visor:
  taps:
    file:
      input_type: pcap
      config:
        pcap_file: ../../testdata/captures/dns_udp_tcp_random.pcap
        host_spec: 192.168.0.0/24
  policies:
    merged:
      kind: collection
      config:
        merge_like_handlers: true
      input:
        tap: file
        input_type: pcap
      handlers:
        window_config:
          num_periods: 1
        modules:
          a:
            type: dns
            config:
              only_qtype: [AAAA, TxT]
          b:
            type: dns
            config:
              only_qtype: [CNAME]
          n:
            type: net
`

// TestMergeLikeHandlers: dns modules with different filters render as one
// dns_merged whose sketches hold both; a single net module renders as
// net_merged too.
func TestMergeLikeHandlers(t *testing.T) {
	m, _ := newManager(t)
	load(t, m, mergeDoc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := m.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := m.Metrics("merged", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	body := j["merged"].(map[string]any)
	if len(body) != 2 || body["dns_merged"] == nil || body["packets_merged"] == nil {
		t.Fatalf("handlers: %v", keysOf(body))
	}
	dns := body["dns_merged"].(map[string]any)["dns"].(map[string]any)
	got := map[string]uint64{}
	for _, it := range dns["top_qtype"].([]any) {
		e := it.(map[string]any)
		got[e["name"].(string)] = e["estimate"].(uint64)
	}
	if got["AAAA"] != 1476 || got["TXT"] != 620 || got["CNAME"] != 825 || len(got) != 3 {
		t.Errorf("merged top_qtype %v", got)
	}
	trees, err := m.Prometheus("merged")
	if err != nil || len(trees) != 2 || (trees[0].Handler != "dns_merged" && trees[1].Handler != "dns_merged") {
		t.Errorf("prometheus: %v %v", trees, err)
	}
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

const chainDoc = `
visor:
  taps:
    file:
      input_type: pcap
      config:
        pcap_file: ../../testdata/captures/dns_udp_tcp_random.pcap
        host_spec: 192.168.0.0/24
  policies:
    chained:
      kind: collection
      input:
        tap: file
        input_type: pcap
      handlers:
        window_config:
          num_periods: 1
        modules:
          - up:
              type: dns
              config:
                only_qtype: [AAAA, TxT]
          - down:
              type: net
          - all:
              type: dns
`

// TestChainedPolicy: handlers after a dns handler in a chain see only the
// messages that pass its filters: the net handler downstream counts one
// packet per AAAA/TXT message (2,096, pktvisor's figure for that filter),
// and a dns handler downstream sees exactly the upstream's messages.
func TestChainedPolicy(t *testing.T) {
	m, _ := newManager(t)
	load(t, m, chainDoc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := m.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := m.Metrics("chained", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	body := j["chained"].(map[string]any)
	net := body["chained-file-down"].(map[string]any)["packets"].(map[string]any)
	if net["events"] != uint64(2096) {
		t.Errorf("downstream net events = %v, want 2096", net["events"])
	}
	all := body["chained-file-all"].(map[string]any)["dns"].(map[string]any)["wire_packets"].(map[string]any)
	if all["events"] != uint64(2096) || all["queries"] != uint64(1050) || all["replies"] != uint64(1046) {
		t.Errorf("downstream dns %v", all)
	}
	if err := m.RemovePolicy("chained"); err != nil {
		t.Fatal(err)
	}
}

// TestKernelFilteredReachesNet: packets an input's kernel pre-filter kept
// are counted once (not per worker) in net's filtered and events.
func TestKernelFilteredReachesNet(t *testing.T) {
	var mocks []*mock.Source
	var kernel atomic.Uint64
	open := func(ctx context.Context, typ string, c input.Config) (input.Stream, error) {
		a, b := mock.New(), mock.New()
		mocks = append(mocks, a, b)
		return pcap.FromSources([]capture.Source{a, b}, pcap.SourcesConfig{KernelFiltered: kernel.Load}), nil
	}
	m := NewManager(context.Background(), ManagerConfig{Periods: 5, DeepSampleRate: 100, Open: open,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(m.Close)
	doc := strings.Replace(strings.Replace(policyDoc, "%s", "k", 1), "type: dns", "type: net", 1)
	doc = strings.Replace(doc, "            config:\n              only_qname_suffix: [example.com]\n", "", 1)
	load(t, m, fileDoc)
	if _, err := m.AddPolicy([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	f := dnsFrame()
	for _, s := range mocks {
		s.Push(capture.Frame{Data: f, TS: time.Now().UnixNano(), WireLen: len(f)})
	}
	kernel.Store(450)
	waitFor(t, "the kernel count", func() bool {
		j, err := m.Metrics("k", false, 0)
		if err != nil {
			return false
		}
		p := j["k"].(map[string]any)["k-wire-dns"].(map[string]any)["packets"].(map[string]any)
		return p["filtered"] == uint64(450) && p["events"] == uint64(452)
	})
}

// TestLimits: taps and policies beyond the manager's limits are refused
// with ErrInvalid (400 from the API) naming the limit, and leave nothing
// behind; the defaults are DefaultMaxTaps and DefaultMaxPolicies.
func TestLimits(t *testing.T) {
	var mocks []*mock.Source
	m := NewManager(context.Background(), ManagerConfig{Periods: 5, DeepSampleRate: 100, Open: testOpener(&mocks),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxTaps: 3, MaxPolicies: 2})
	t.Cleanup(m.Close)
	load(t, m, fileDoc) // taps file and wire, policy p1
	tap := func(name string) config.Tap {
		return config.Tap{Name: name, InputType: "pcap", Config: map[string]any{"iface": "eth0"}}
	}
	if err := m.AddTaps(tap("t3"), tap("t4")); !errors.Is(err, ErrInvalid) || err.Error() != "tap 't4': the limit of 3 taps is reached" {
		t.Errorf("a 4th tap: err = %v", err)
	}
	if len(m.Taps()) != 2 {
		t.Errorf("a refused batch left %d taps, want 2", len(m.Taps()))
	}
	if err := m.AddTaps(tap("t3")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddPolicy([]byte(strings.Replace(policyDoc, "%s", "a", 1))); err != nil {
		t.Fatal(err)
	}
	_, err := m.AddPolicy([]byte(strings.Replace(policyDoc, "%s", "b", 1)))
	if !errors.Is(err, ErrInvalid) || err.Error() != "policy 'b': the limit of 2 policies is reached" {
		t.Errorf("a 3rd policy: err = %v", err)
	}
	if _, err := m.Policy("b"); !errors.Is(err, ErrNotFound) {
		t.Error("the refused policy runs")
	}
	if err := m.RemovePolicy("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddPolicy([]byte(strings.Replace(policyDoc, "%s", "b", 1))); err != nil {
		t.Errorf("after a removal: %v", err)
	}

	d := NewManager(context.Background(), ManagerConfig{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(d.Close)
	for i := range DefaultMaxTaps {
		if err := d.AddTaps(tap(fmt.Sprint("t", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddTaps(tap("one-more")); !errors.Is(err, ErrInvalid) {
		t.Errorf("tap %d with the default limit: err = %v", DefaultMaxTaps+1, err)
	}
	if DefaultMaxTaps != 256 || DefaultMaxPolicies != 256 {
		t.Errorf("defaults %d taps, %d policies; want 256 each", DefaultMaxTaps, DefaultMaxPolicies)
	}
}
