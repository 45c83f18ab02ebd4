package dhcp

import (
	"errors"
	"reflect"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dhcpmsg"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/window"
)

// TestFixtures checks pktvisor's acceptance values (spec 7.1) on its own
// captures, with one period, full deep sampling and a recorded stream.
func TestFixtures(t *testing.T) {
	tests := []struct {
		file    string
		start   int64
		length  int64
		wire    map[string]uint64
		clients []named
		servers []named
		// rate p50/p99 of rates.total (per-second counts over event time)
		totalP50, totalP99 float64
	}{
		{
			file: "dhcp-flow.pcap", start: 1634851620, length: 30,
			wire: wire(map[string]uint64{"events": 8, "deep_samples": 8, "total": 8,
				"discover": 1, "offer": 1, "request": 3, "ack": 3}),
			clients: []named{
				{"78:4f:43:78:19:bc/Shannons-MBP/192.168.2.205", 2},
				{"32:47:73:53:0e:3d/Zenfone-8/192.168.2.248", 1},
			},
			servers:  []named{{"b8:27:eb:0c:b3:e2/192.168.2.1", 1}},
			totalP50: 0, totalP99: 2,
		},
		{
			// pktvisor leaves total at 0 here (spec 9.10); we count DHCPv6.
			file: "dhcpv6.pcap", start: 1420235556, length: 13,
			wire: wire(map[string]uint64{"events": 6, "deep_samples": 6, "total": 6,
				"solicit": 1, "advertise": 1, "request_v6": 1, "reply": 2}),
			clients:  []named{},
			servers:  []named{{"08:00:27:d4:10:bb/fe80::a00:27ff:fed4:10bb", 3}},
			totalP50: 0, totalP99: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			h := newHandler(t, handler.Options{Name: "test", Periods: 1, Recorded: true})
			replay(t, h, tc.file)
			m, err := h.Bucket(0, 0)
			if err != nil {
				t.Fatal(err)
			}
			r := decodeJSON(t, m)
			if r.Period.StartTS != tc.start || r.Period.Length != tc.length {
				t.Errorf("period %+v, want start %d length %d", r.Period, tc.start, tc.length)
			}
			if !reflect.DeepEqual(r.WirePackets, tc.wire) {
				t.Errorf("wire_packets\n got %v\nwant %v", r.WirePackets, tc.wire)
			}
			if !reflect.DeepEqual(r.TopClients, tc.clients) {
				t.Errorf("top_clients %v, want %v", r.TopClients, tc.clients)
			}
			if !reflect.DeepEqual(r.TopServers, tc.servers) {
				t.Errorf("top_servers %v, want %v", r.TopServers, tc.servers)
			}
			for _, k := range []string{"total", "events"} {
				q := r.Rates[k]
				if _, live := q["live"]; live || q["p50"] != tc.totalP50 || q["p99"] != tc.totalP99 {
					t.Errorf("rates.%s %v, want p50 %v p99 %v and no live", k, q, tc.totalP50, tc.totalP99)
				}
			}
			if w, _ := h.Window(1, 0); !reflect.DeepEqual(decodeJSON(t, w), r) {
				t.Errorf("window 1 differs from bucket 0 in summary mode")
			}
		})
	}
}

// TestXactTTL checks REQUEST→ACK matching against the transaction TTL.
func TestXactTTL(t *testing.T) {
	const client = "02:00:00:00:00:01/laptop/10.0.0.7"
	tests := []struct {
		name    string
		config  map[string]any
		ackAt   float64 // seconds after the REQUEST
		matched bool
	}{
		{"default ttl, in time", nil, 4.9, true},
		{"default ttl, at the limit", nil, 5, true},
		{"default ttl, late", nil, 5.1, false},
		{"xact_ttl_secs 10", map[string]any{"xact_ttl_secs": uint64(10)}, 9, true},
		{"xact_ttl_ms 100, in time", map[string]any{"xact_ttl_ms": uint64(100)}, 0.05, true},
		{"xact_ttl_ms 100, late", map[string]any{"xact_ttl_ms": uint64(100)}, 0.2, false},
		{"xact_ttl_ms wins", map[string]any{"xact_ttl_ms": uint64(100), "xact_ttl_secs": uint64(10)}, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, handler.Options{Periods: 1, Recorded: true, Config: tc.config})
			h.Packet(v4Packet(sec(100), dhcpmsg.Request, 77, "", "laptop"))
			h.Packet(v4Packet(sec(100+tc.ackAt), dhcpmsg.Ack, 77, "10.0.0.7", ""))
			r := live(t, h)
			var want []named
			if tc.matched {
				want = []named{{client, 1}}
			} else {
				want = []named{}
			}
			if !reflect.DeepEqual(r.TopClients, want) {
				t.Fatalf("top_clients %v, want %v", r.TopClients, want)
			}
			st := h.Transactions()
			wantSt := XactStats{Matched: 1}
			if !tc.matched {
				wantSt = XactStats{Expired: 1}
			}
			if st != wantSt {
				t.Fatalf("stats %+v, want %+v", st, wantSt)
			}
		})
	}
}

func TestClientKeyVariants(t *testing.T) {
	tests := []struct {
		name string
		reqs []*decode.Packet
		ack  *decode.Packet
		want []named
	}{
		{
			name: "no hostname",
			reqs: []*decode.Packet{v4Packet(sec(1), dhcpmsg.Request, 5, "", "")},
			ack:  v4Packet(sec(2), dhcpmsg.Ack, 5, "10.0.0.5", ""),
			want: []named{{"02:00:00:00:00:01/Unknown/10.0.0.5", 1}},
		},
		{
			name: "retransmitted request keeps the last hostname",
			reqs: []*decode.Packet{v4Packet(sec(1), dhcpmsg.Request, 5, "", "a"), v4Packet(sec(2), dhcpmsg.Request, 5, "", "b")},
			ack:  v4Packet(sec(3), dhcpmsg.Ack, 5, "10.0.0.5", ""),
			want: []named{{"02:00:00:00:00:01/b/10.0.0.5", 1}},
		},
		{
			name: "ack without request",
			ack:  v4Packet(sec(3), dhcpmsg.Ack, 5, "10.0.0.5", ""),
			want: []named{},
		},
		{
			name: "other xid",
			reqs: []*decode.Packet{v4Packet(sec(1), dhcpmsg.Request, 6, "", "a")},
			ack:  v4Packet(sec(3), dhcpmsg.Ack, 5, "10.0.0.5", ""),
			want: []named{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, handler.Options{Periods: 1, Recorded: true})
			for _, p := range tc.reqs {
				h.Packet(p)
			}
			h.Packet(tc.ack)
			if r := live(t, h); !reflect.DeepEqual(r.TopClients, tc.want) {
				t.Fatalf("top_clients %v, want %v", r.TopClients, tc.want)
			}
		})
	}
}

// TestPurgeAtPeriodShift checks that a period shift drops transactions
// past their TTL, so a late ACK does not match.
func TestPurgeAtPeriodShift(t *testing.T) {
	h := newHandler(t, handler.Options{Periods: 2, Recorded: true})
	h.Start(sec(0))
	h.Packet(v4Packet(sec(1), dhcpmsg.Request, 9, "", "x"))
	if st := h.Transactions(); st.Pending != 1 {
		t.Fatalf("stats %+v, want 1 pending", st)
	}
	h.Tick(sec(61))
	if st := h.Transactions(); st != (XactStats{Expired: 1}) {
		t.Fatalf("stats after shift %+v, want 1 expired", st)
	}
}

// TestMerge checks buckets and the 2-period window.
func TestMerge(t *testing.T) {
	h := newHandler(t, handler.Options{Periods: 2, Recorded: true})
	h.Start(sec(0))
	// Period 1: a v4 exchange and a v6 advertise.
	h.Packet(v4Packet(sec(1), dhcpmsg.Discover, 1, "", "pc"))
	h.Packet(v4Packet(sec(1.1), dhcpmsg.Offer, 1, "10.0.0.7", ""))
	h.Packet(v4Packet(sec(2), dhcpmsg.Request, 1, "", "pc"))
	h.Packet(v4Packet(sec(2.1), dhcpmsg.Ack, 1, "10.0.0.7", ""))
	h.Packet(v6Packet(sec(3), dhcpmsg.Advertise, true))
	// Period 2: a renewal, a v6 reply, and a malformed datagram.
	h.Packet(v4Packet(sec(61), dhcpmsg.Request, 2, "", "pc"))
	h.Packet(v4Packet(sec(61.5), dhcpmsg.Ack, 2, "10.0.0.7", ""))
	h.Packet(v6Packet(sec(62), dhcpmsg.Reply, true))
	bad := v4Packet(sec(63), dhcpmsg.Request, 3, "", "")
	bad.Payload = bad.Payload[:100]
	h.Packet(bad)
	h.End(sec(70))

	const client = "02:00:00:00:00:01/pc/10.0.0.7"
	const v4srv, v6srv = "02:00:00:00:00:99/10.0.0.1", "02:00:00:00:00:99/fe80::99"
	tests := []struct {
		name    string
		get     func() (map[string]any, error)
		start   int64
		length  int64
		wire    map[string]uint64
		clients []named
		servers []named
	}{
		{
			name: "bucket 1", get: func() (map[string]any, error) { return h.Bucket(1, 0) },
			start: 0, length: 61,
			wire: wire(map[string]uint64{"events": 5, "deep_samples": 5, "total": 5,
				"discover": 1, "offer": 1, "request": 1, "ack": 1, "advertise": 1}),
			clients: []named{{client, 1}}, servers: []named{{v4srv, 1}, {v6srv, 1}},
		},
		{
			name: "bucket 0", get: func() (map[string]any, error) { return h.Bucket(0, 0) },
			start: 61, length: 9,
			wire:    wire(map[string]uint64{"events": 4, "deep_samples": 4, "total": 3, "request": 1, "ack": 1, "reply": 1}),
			clients: []named{{client, 1}}, servers: []named{{v6srv, 1}},
		},
		{
			name: "window 2", get: func() (map[string]any, error) { return h.Window(2, 0) },
			start: 0, length: 70,
			wire: wire(map[string]uint64{"events": 9, "deep_samples": 9, "total": 8,
				"discover": 1, "offer": 1, "request": 2, "ack": 2, "advertise": 1, "reply": 1}),
			clients: []named{{client, 2}}, servers: []named{{v6srv, 2}, {v4srv, 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			r := decodeJSON(t, m)
			if r.Period.StartTS != tc.start || r.Period.Length != tc.length {
				t.Errorf("period %+v, want start %d length %d", r.Period, tc.start, tc.length)
			}
			if !reflect.DeepEqual(r.WirePackets, tc.wire) {
				t.Errorf("wire_packets\n got %v\nwant %v", r.WirePackets, tc.wire)
			}
			if !reflect.DeepEqual(r.TopClients, tc.clients) || !reflect.DeepEqual(r.TopServers, tc.servers) {
				t.Errorf("top_clients %v top_servers %v, want %v %v", r.TopClients, r.TopServers, tc.clients, tc.servers)
			}
		})
	}
	var pe *window.PeriodError
	if _, err := h.Window(3, 0); !errors.As(err, &pe) {
		t.Errorf("window 3 of 2 periods: %v, want a PeriodError", err)
	}
}

// TestIgnoredPackets checks that non-DHCP packets leave no trace and that
// DHCP datagrams that do not parse count as events only.
func TestIgnoredPackets(t *testing.T) {
	tcp := v4Packet(sec(1), dhcpmsg.Discover, 1, "", "")
	tcp.L4 = decode.L4TCP
	dns := v4Packet(sec(1), dhcpmsg.Discover, 1, "", "")
	dns.SrcPort, dns.DstPort = 5353, 53
	short := v6Packet(sec(1), dhcpmsg.Solicit, false)
	short.Payload = short.Payload[:3]
	bootp := v4Packet(sec(1), dhcpmsg.Discover, 1, "", "")
	bootp.Payload = bootp.Payload[:240]
	bootp.Payload[236] = 0 // no magic cookie
	v6other := v6Packet(sec(1), dhcpmsg.InformationRequest, false)
	tests := []struct {
		name string
		p    *decode.Packet
		wire map[string]uint64
	}{
		{"tcp on port 67", tcp, wire(nil)},
		{"udp on other ports", dns, wire(nil)},
		{"truncated dhcpv6", short, wire(map[string]uint64{"events": 1, "deep_samples": 1})},
		{"bootp without cookie", bootp, wire(map[string]uint64{"events": 1, "deep_samples": 1})},
		{"other dhcpv6 type", v6other, wire(map[string]uint64{"events": 1, "deep_samples": 1, "total": 1})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, handler.Options{Periods: 1, Recorded: true})
			h.Packet(tc.p)
			if r := live(t, h); !reflect.DeepEqual(r.WirePackets, tc.wire) {
				t.Fatalf("wire_packets %v, want %v", r.WirePackets, tc.wire)
			}
		})
	}
}

func TestDeepSampling(t *testing.T) {
	h := newHandler(t, handler.Options{Periods: 1, Recorded: true, DeepSampleRate: 1, Seed: 7})
	for i := range 200 {
		h.Packet(v6Packet(sec(float64(i)), dhcpmsg.Reply, true))
	}
	r := live(t, h)
	ds := r.WirePackets["deep_samples"]
	if r.WirePackets["events"] != 200 || r.WirePackets["reply"] != 200 || ds >= 20 {
		t.Fatalf("wire_packets %v, want 200 events and few deep samples", r.WirePackets)
	}
	var est uint64
	if len(r.TopServers) > 0 {
		est = r.TopServers[0].Estimate
	}
	if est != ds {
		t.Fatalf("top_servers estimate %d, want deep samples %d", est, ds)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		opt     handler.Options
		wantErr string
	}{
		{name: "empty"},
		{name: "ttl ms", opt: handler.Options{Config: map[string]any{"xact_ttl_ms": uint64(250)}}},
		{name: "ttl secs", opt: handler.Options{Config: map[string]any{"xact_ttl_secs": "7"}}},
		{name: "recorded", opt: handler.Options{Config: map[string]any{"recorded_stream": true}}},
		{name: "window keys", opt: handler.Options{Config: map[string]any{"num_periods": uint64(3), "topn_count": uint64(5)}}},
		{name: "filter key", opt: handler.Options{Config: map[string]any{"only_qname": "x"}},
			wantErr: "only_qname is an invalid/unsupported config or filter. The valid configs/filters are: xact_ttl_ms, xact_ttl_secs, recorded_stream, deep_sample_rate, num_periods, topn_count, topn_percentile_threshold"},
		{name: "ttl not a number", opt: handler.Options{Config: map[string]any{"xact_ttl_ms": "soon"}},
			wantErr: "xact_ttl_ms: expected a non-negative integer, got soon"},
		{name: "ttl zero", opt: handler.Options{Config: map[string]any{"xact_ttl_secs": uint64(0)}},
			wantErr: "xact_ttl_secs must be in [1, 86400]"},
		{name: "ttl too long", opt: handler.Options{Config: map[string]any{"xact_ttl_ms": uint64(86400001)}},
			wantErr: "xact_ttl_ms must be in [1, 86400000]"},
		{name: "recorded not bool", opt: handler.Options{Config: map[string]any{"recorded_stream": "maybe"}},
			wantErr: "recorded_stream: expected true or false, got maybe"},
		{name: "metric group", opt: handler.Options{Enable: []string{"top_clients"}},
			wantErr: "top_clients is an invalid/unsupported metric group. The valid groups are: all"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := NewV1(tc.opt)
			if tc.wantErr == "" {
				if err != nil || h == nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestConfiguredTTL(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		want   int64
	}{
		{"default", nil, 5e9},
		{"secs", map[string]any{"xact_ttl_secs": uint64(2)}, 2e9},
		{"ms", map[string]any{"xact_ttl_ms": uint64(1500)}, 1.5e9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, handler.Options{Config: tc.config})
			if h.xacts.ttl != tc.want {
				t.Fatalf("ttl %d, want %d", h.xacts.ttl, tc.want)
			}
		})
	}
}

func TestHandlerIdentity(t *testing.T) {
	h := newHandler(t, handler.Options{Name: "default-default-dhcp"})
	if h.Name() != "default-default-dhcp" || h.Schema() != "dhcp" {
		t.Fatalf("name %q schema %q", h.Name(), h.Schema())
	}
}

// live renders bucket 0 or fails the test.
func live(tb testing.TB, h *V1) result {
	tb.Helper()
	m, err := h.Bucket(0, 0)
	if err != nil {
		tb.Fatalf("bucket 0: %v", err)
	}
	return decodeJSON(tb, m)
}

// BenchmarkDHCP replays the messages of both fixtures through one handler.
func BenchmarkDHCP(b *testing.B) {
	var pkts []decode.Packet
	for _, name := range []string{"dhcp-flow.pcap", "dhcpv6.pcap"} {
		lt, frames := readPcap(b, name)
		dec := decode.NewDecoder(decode.Config{})
		for _, f := range frames {
			var p decode.Packet
			if dec.Decode(lt, f.data, f.ts, f.orig, &p) == nil && p.L4 == decode.L4UDP {
				p.Payload = append([]byte(nil), p.Payload...)
				pkts = append(pkts, p)
			}
		}
	}
	h := newHandler(b, handler.Options{Periods: 1, Recorded: true})
	ts := sec(1e9)
	h.Start(ts)
	for i := range pkts { // warm up: the transaction table and sketches allocate once
		ts += 1e6
		pkts[i].TS = ts
		h.Packet(&pkts[i])
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := &pkts[i%len(pkts)]
		ts += 1e6
		p.TS = ts
		h.Packet(p)
	}
	if h.Transactions().Matched == 0 {
		b.Fatal("no transaction matched")
	}
}
