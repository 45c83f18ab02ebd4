package policy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture/pcapfile"
	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/input"
	"github.com/pktvisor-go/pktvisor/internal/input/pcap"
)

// A DNS-only input and a handler of packets and DNS, registered for these
// tests only: the engine must wire both from their registrations alone.
const (
	fakeDNSInput = "test_dns_events"
	bothHandler  = "test_packets_and_dns"
)

func init() {
	input.Register(input.Info{Type: fakeDNSInput, Version: "1.0", Produces: []event.Kind{event.KindDNS},
		ConfigKeys: []string{"events"}, Open: openFakeDNS})
	handler.Register(handler.Info{Type: bothHandler, Version: "1.0", Schema: "both",
		Consumes: []event.Kind{event.KindPacket, event.KindDNS},
		New:      func(o handler.Options) (handler.Handler, error) { return &bothCounter{name: o.Name}, nil }})
}

// recorded is a DNS event copied out of the bus (the message by value).
type recorded struct {
	ev  event.DNS
	msg dnsmsg.Message
}

// recorder keeps copies of the DNS events it is given.
type recorder struct{ evs []recorded }

func (r *recorder) Start(int64) {}
func (r *recorder) Tick(int64)  {}
func (r *recorder) End(int64)   {}
func (r *recorder) DNS(ev *event.DNS) {
	c := recorded{ev: *ev, msg: *ev.Msg}
	c.ev.Packet, c.ev.Msg = nil, nil
	r.evs = append(r.evs, c)
}

// dnsEventsOf runs a capture through the pcap input's decoder and returns
// its DNS events, detached from any packet.
func dnsEventsOf(t *testing.T, path, hostSpec string) []recorded {
	t.Helper()
	frames := readFrames(t, path)
	hosts, err := decode.ParseHostSpec(hostSpec)
	if err != nil {
		t.Fatal(err)
	}
	var bus event.Bus
	rec := &recorder{}
	bus.Attach(rec, event.KindDNS)
	d := pcap.NewDecoder(pcap.DecoderConfig{Hosts: hosts}, &bus)
	for _, f := range frames {
		d.Frame(f.link, f.data, f.ts, f.wire)
	}
	d.End(0)
	return rec.evs
}

type frame struct {
	link decode.LinkType
	data []byte
	ts   int64
	wire int
}

// fakeEvents hands the events to openFakeDNS by name (config values are
// YAML scalars).
var fakeEvents sync.Map // string -> []recorded

// fakeDNS is a recorded input of DNS events only: no packet is involved.
type fakeDNS struct{ evs []recorded }

func openFakeDNS(_ context.Context, c input.Config) (input.Stream, error) {
	v, ok := fakeEvents.Load(c.Map["events"])
	if !ok {
		return nil, input.Invalid("no events named %v", c.Map["events"])
	}
	return &fakeDNS{evs: v.([]recorded)}, nil
}

func (f *fakeDNS) Workers() int             { return 1 }
func (f *fakeDNS) Info() map[string]any     { return map[string]any{} }
func (f *fakeDNS) Counters() input.Counters { return input.Counters{Packets: uint64(len(f.evs))} }
func (f *fakeDNS) Recorded() bool           { return true }
func (f *fakeDNS) Close()                   {}

func (f *fakeDNS) Run(_ context.Context, ws []*input.Worker) error {
	w := ws[0]
	w.Lock()
	defer w.Unlock()
	var last int64
	for i := range f.evs {
		ev := f.evs[i].ev
		msg := f.evs[i].msg
		ev.Msg = &msg
		if i == 0 {
			w.Sink.Begin(ev.TS)
		}
		// A tick each second of event time, as the pcap input gives.
		if ev.TS/1e9 != last/1e9 && i > 0 {
			w.Sink.Tick(ev.TS)
		}
		last = max(last, ev.TS)
		w.Sink.DNS(&ev)
	}
	w.Sink.End(last)
	return nil
}

// readFrames reads every frame of a capture file (copied).
func readFrames(t *testing.T, path string) []frame {
	t.Helper()
	r, err := pcapfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []frame
	var rec pcapfile.Record
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, frame{decode.LinkType(rec.LinkType), append([]byte(nil), rec.Data...), rec.TS, rec.WireLen})
	}
}

// TestDNSEventsWithoutPackets: DNS events that carry no packet (as a
// dnstap input gives them) drive the dns v1 handler to the same counts as
// the same messages carried in packets.
func TestDNSEventsWithoutPackets(t *testing.T) {
	const capture = "../../testdata/captures/dns_udp_tcp_random.pcap"
	const hosts = "192.168.0.0/24"
	evs := dnsEventsOf(t, capture, hosts)
	if len(evs) < 5000 {
		t.Fatalf("only %d DNS events in the capture", len(evs))
	}
	fakeEvents.Store("random", evs)
	m := onePeriodManager(t, nil)
	doc := `
visor:
  taps:
    packets:
      input_type: pcap
      config:
        pcap_file: ` + capture + `
        host_spec: ` + hosts + `
    events:
      input_type: ` + fakeDNSInput + `
      config:
        events: random
  policies:
    from_packets:
      kind: collection
      input:
        tap: packets
        input_type: pcap
      handlers:
        window_config:
          num_periods: 1
        modules:
          dns:
            type: dns
    from_events:
      kind: collection
      input:
        tap: events
        input_type: ` + fakeDNSInput + `
      handlers:
        window_config:
          num_periods: 1
        modules:
          dns:
            type: dns
`
	load(t, m, doc)
	if err := m.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	render := func(pol, tap string) string {
		j, err := m.Metrics(pol, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		d := j[pol].(map[string]any)[pol+"-"+tap+"-dns"].(map[string]any)["dns"].(map[string]any)
		// The period follows the input's first and last event: the capture
		// starts and ends with packets that are not DNS.
		delete(d, "period")
		b, _ := json.Marshal(d)
		return string(b)
	}
	a, b := render("from_packets", "packets"), render("from_events", "events")
	if a != b {
		t.Fatalf("dns from packets and from packet-less events differ:\n%s\n%s", a, b)
	}
	t.Logf("%d DNS events, identical dns v1 output (%d bytes)", len(evs), len(a))
	// The pcap input shows its TCP reassembly counters, the byte budget's
	// drops among them.
	pj, err := m.Policy("from_packets")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range pj["from_packets"].Input {
		tr, _ := in.Info["tcp_reassembly"].(map[string]any)
		if tr == nil || tr["over_budget_segments"] != uint64(0) || tr["errors"] != uint64(0) {
			t.Errorf("tcp_reassembly info = %v", in.Info["tcp_reassembly"])
		}
	}
	// The fake input produces only DNS: a net handler cannot attach to it.
	_, err = m.AddPolicy([]byte(`
visor:
  policies:
    net_on_events:
      kind: collection
      input:
        tap: events
        input_type: ` + fakeDNSInput + `
      handlers:
        modules:
          net:
            type: net
`))
	if err == nil || err.Error() != "policy [net_on_events] failed to start: handler type 'net' does not accept input type '"+fakeDNSInput+"'" {
		t.Fatalf("net on a DNS-only input: %v", err)
	}
}

// bothCounter consumes packets and DNS messages.
type bothCounter struct {
	name          string
	mu            sync.Mutex
	packets, dnsN uint64
}

func (b *bothCounter) Name() string   { return b.name }
func (b *bothCounter) Schema() string { return "both" }
func (b *bothCounter) Start(int64)    {}
func (b *bothCounter) Tick(int64)     {}
func (b *bothCounter) End(int64)      {}
func (b *bothCounter) Packet(*event.Packet) {
	b.mu.Lock()
	b.packets++
	b.mu.Unlock()
}
func (b *bothCounter) DNS(*event.DNS) {
	b.mu.Lock()
	b.dnsN++
	b.mu.Unlock()
}
func (b *bothCounter) Bucket(int, int64) (map[string]any, error) { return b.render(), nil }
func (b *bothCounter) Window(int, int64) (map[string]any, error) { return b.render(), nil }
func (b *bothCounter) render() map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return map[string]any{"packets": b.packets, "dns": b.dnsN}
}
func (b *bothCounter) Snapshot(bool, int, int64) (handler.Snap, error) {
	return &bothSnap{b.render()}, nil
}

type bothSnap struct{ m map[string]any }

func (s *bothSnap) Merge(o handler.Snap) {
	for k, v := range o.(*bothSnap).m {
		s.m[k] = s.m[k].(uint64) + v.(uint64)
	}
}
func (s *bothSnap) Render() map[string]any { return s.m }

// TestHandlerOfPacketsAndDNS: a handler that consumes packets and DNS
// events gets both from a pcap input.
func TestHandlerOfPacketsAndDNS(t *testing.T) {
	m := onePeriodManager(t, nil)
	doc := `
visor:
  taps:
    file:
      input_type: pcap
      config:
        pcap_file: ../../testdata/captures/dns_ipv4_udp.pcap
  policies:
    both:
      kind: collection
      input:
        tap: file
        input_type: pcap
      handlers:
        modules:
          b:
            type: ` + bothHandler + `
`
	load(t, m, doc)
	if err := m.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	j, err := m.Metrics("both", false, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := j["both"].(map[string]any)["both-file-b"].(map[string]any)["both"].(map[string]any)
	// dns_ipv4_udp.pcap: 140 packets, every one a DNS message.
	if got["packets"] != uint64(140) || got["dns"] != uint64(140) {
		t.Fatalf("handler of packets and DNS got %v, want 140 packets and 140 DNS messages", got)
	}
}

// TestCheckedBeforeOpen: a policy with a bad handler, a handler that does
// not meet its input, bad handler config or a bad filter is refused before
// any input of it is opened.
func TestCheckedBeforeOpen(t *testing.T) {
	opened := 0
	open := func(ctx context.Context, typ string, c input.Config) (input.Stream, error) {
		opened++
		return nil, errors.New("opened")
	}
	m := onePeriodManager(t, open)
	load(t, m, "visor:\n  taps:\n    wire:\n      input_type: pcap\n      config:\n        iface: eth0\n")
	pol := func(input, modules string) []byte {
		return []byte("visor:\n  policies:\n    p:\n      kind: collection\n      input:\n        tap: wire\n        input_type: pcap\n" +
			input + "      handlers:\n        modules:\n" + modules)
	}
	long := strings.Repeat("port 53 or ", MaxTestFilter)
	for _, tc := range []struct {
		name string
		doc  []byte
		want string
	}{
		{"unknown handler", pol("", "          x:\n            type: nosuch\n"), "requires stream handler type 'nosuch'"},
		{"handler config", pol("", "          d:\n            type: dns\n            config:\n              bogus: 1\n"), "bogus"},
		{"bad filter", pol("        filter:\n          bpf: \"port nonsense and\"\n", "          n:\n            type: net\n"), "bpf"},
		{"filter too long", pol("        filter:\n          bpf: \""+long+"port 53\"\n", "          n:\n            type: net\n"), "limit"},
		{"bad input key", pol("        config:\n          nosuchkey: 1\n", "          n:\n            type: net\n"), "nosuchkey"},
	} {
		_, err := m.AddPolicy(tc.doc)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.want)
		}
		if opened != 0 {
			t.Fatalf("%s: the input was opened before the policy was checked", tc.name)
		}
	}
	// A good policy does reach the opener.
	if _, err := m.AddPolicy(pol("", "          n:\n            type: net\n")); err == nil || !strings.Contains(err.Error(), "opened") || opened != 1 {
		t.Fatalf("good policy: err %v, %d opens", err, opened)
	}
}

// MaxTestFilter repeats a filter term past pcap.MaxFilterLen.
const MaxTestFilter = pcap.MaxFilterLen/len("port 53 or ") + 1

// TestSlowOpenDoesNotBlockReaders: while an input takes long to open, the
// API's readers (metrics, taps, policies) answer at once.
func TestSlowOpenDoesNotBlockReaders(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	open := func(ctx context.Context, typ string, c input.Config) (input.Stream, error) {
		if c.Map["iface"] == "slow0" {
			close(entered)
			<-release
			return nil, errors.New("slow0 gone")
		}
		return input.Open(ctx, typ, c)
	}
	m := onePeriodManager(t, open)
	load(t, m, `
visor:
  taps:
    file:
      input_type: pcap
      config:
        pcap_file: ../../testdata/captures/dns_ipv4_udp.pcap
    slow:
      input_type: pcap
      config:
        iface: slow0
  policies:
    fast:
      kind: collection
      input:
        tap: file
        input_type: pcap
      handlers:
        modules:
          n:
            type: net
`)
	done := make(chan error, 1)
	go func() {
		_, err := m.AddPolicy([]byte("visor:\n  policies:\n    s:\n      kind: collection\n      input:\n        tap: slow\n        input_type: pcap\n      handlers:\n        modules:\n          n:\n            type: net\n"))
		done <- err
	}()
	<-entered
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		if _, err := m.Metrics("fast", false, 0); err != nil {
			t.Errorf("metrics: %v", err)
		}
		if len(m.Taps()) != 2 || len(m.Policies()) != 1 {
			t.Errorf("taps %d policies %d", len(m.Taps()), len(m.Policies()))
		}
	}()
	select {
	case <-answered:
	case <-time.After(5 * time.Second):
		t.Fatal("the API's readers waited for an input that is opening")
	}
	close(release)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "slow0 gone") {
		t.Fatalf("slow policy: %v", err)
	}
}

// TestPcapFilePipeRefused: a pcap_file that is a named pipe would block
// the agent until a writer comes: it is refused at once.
func TestPcapFilePipeRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "cap.fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	m := onePeriodManager(t, nil)
	load(t, m, "visor:\n  taps:\n    f:\n      input_type: pcap\n      config:\n        pcap_file: "+fifo+"\n")
	done := make(chan error, 1)
	go func() {
		_, err := m.AddPolicy([]byte("visor:\n  policies:\n    p:\n      kind: collection\n      input:\n        tap: f\n        input_type: pcap\n      handlers:\n        modules:\n          n:\n            type: net\n"))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "is not a regular file") || !errors.Is(err, ErrInvalid) {
			t.Fatalf("pcap_file on a pipe: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a pcap_file on a named pipe blocked the manager")
	}
}

// stuck is a stream whose Run ignores its context: it ends only when
// Close is called (a read from a pipe that has no data), or never.
type stuck struct {
	closed chan struct{}
	never  bool
}

func (s *stuck) Workers() int             { return 1 }
func (s *stuck) Info() map[string]any     { return map[string]any{} }
func (s *stuck) Counters() input.Counters { return input.Counters{} }
func (s *stuck) Recorded() bool           { return false }
func (s *stuck) Close()                   {}
func (s *stuck) Interrupt() {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
}
func (s *stuck) Run(context.Context, []*input.Worker) error {
	if s.never {
		select {}
	}
	<-s.closed
	return errors.New("closed")
}

// TestStopBounded: stopping an input finishes within seconds whatever its
// stream is doing: one blocked past its context is interrupted, one that
// never returns is left behind.
func TestStopBounded(t *testing.T) {
	for _, never := range []bool{false, true} {
		s := &stuck{closed: make(chan struct{}), never: never}
		in := NewInput(context.Background(), "stuck", s, slog.New(slog.NewTextHandler(io.Discard, nil)))
		in.Run()
		start := time.Now()
		in.Stop()
		in.Stop() // idempotent
		took := time.Since(start)
		if took > 3*stopGrace {
			t.Errorf("never %v: Stop took %v", never, took)
		}
		select {
		case <-s.closed:
		default:
			t.Errorf("never %v: the stream was not interrupted", never)
		}
		t.Logf("never %v: Stop took %v", never, took.Round(time.Millisecond))
	}
}

// onePeriodManager is a manager of one-period policies whose inputs open
// with open (nil: the registry's); it is closed at the test's end.
func onePeriodManager(t *testing.T, open Opener) *Manager {
	t.Helper()
	m := NewManager(context.Background(), ManagerConfig{Periods: 1, DeepSampleRate: 100, Open: open,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(m.Close)
	return m
}
