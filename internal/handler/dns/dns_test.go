package dns

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/window"
)

// wire builds a DNS message: header, one question (none for qname "-")
// and no records; ANCOUNT is set without answers, which a header and
// question parse does not read.
func wire(id uint16, resp bool, rcode uint8, qname string, qtype, ancount uint16) []byte {
	b := make([]byte, 12, 64)
	binary.BigEndian.PutUint16(b[0:], id)
	var flags uint16 = dnsmsg.FlagRD
	if resp {
		flags |= dnsmsg.FlagQR | dnsmsg.FlagRA
	}
	flags |= uint16(rcode & 0xf)
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[6:], ancount)
	if qname == "-" {
		return b
	}
	binary.BigEndian.PutUint16(b[4:], 1)
	for _, l := range strings.Split(strings.TrimSuffix(qname, "."), ".") {
		if l == "" {
			continue
		}
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0, byte(qtype>>8), byte(qtype), 0, 1)
	return b
}

// flow is one client/server pair; the server is at port 53.
type flow struct {
	client, server netip.Addr
	port           uint16
	hostIsServer   bool // the monitored host is the server (xact in)
	unknown        bool // direction unknown
}

var (
	clientFlow = flow{client: netip.MustParseAddr("192.168.0.10"), server: netip.MustParseAddr("8.8.8.8"), port: 40000}
	serverFlow = flow{client: netip.MustParseAddr("203.0.113.7"), server: netip.MustParseAddr("192.168.0.1"), port: 41000, hostIsServer: true}
)

// driver sends hand-built messages to a handler.
type driver struct {
	tb  testing.TB
	h   *V1
	p   decode.Packet
	msg dnsmsg.Message
	ev  event.DNS
}

func newDriver(tb testing.TB, o handler.Options) *driver {
	tb.Helper()
	if o.Config == nil {
		o.Config = map[string]any{}
	}
	h, err := NewV1(o)
	if err != nil {
		tb.Fatalf("NewV1: %v", err)
	}
	return &driver{tb: tb, h: h}
}

// send gives the handler message b travelling on f at ts (nanoseconds);
// queries go client→server, replies back.
func (d *driver) send(f flow, ts int64, b []byte, tcp bool) {
	d.tb.Helper()
	if err := d.msg.Parse(b, dnsmsg.ParseOptions{Records: d.h.WantsDNSRecords()}); err != nil && !errors.Is(err, dnsmsg.ErrNoQuestion) && !errors.Is(err, dnsmsg.ErrRecord) {
		d.tb.Fatalf("parse: %v", err)
	}
	d.p = decode.Packet{TS: ts, L3: decode.L3IPv4, L4: decode.L4UDP}
	if tcp {
		d.p.L4 = decode.L4TCP
	}
	toServer := !d.msg.IsResponse()
	if toServer {
		d.p.SrcIP, d.p.DstIP, d.p.SrcPort, d.p.DstPort = f.client, f.server, f.port, 53
	} else {
		d.p.SrcIP, d.p.DstIP, d.p.SrcPort, d.p.DstPort = f.server, f.client, 53, f.port
	}
	switch {
	case f.unknown:
		d.p.Dir = decode.DirUnknown
	case toServer == f.hostIsServer:
		d.p.Dir = decode.DirToHost
	default:
		d.p.Dir = decode.DirFromHost
	}
	dnsEvent(&d.ev, &d.p, &d.msg, len(b), tcp)
	d.h.DNS(&d.ev)
}

// pair sends a query and its reply dur nanoseconds later.
func (d *driver) pair(f flow, ts, dur int64, id uint16, qname string, qtype uint16, rcode uint8, ancount uint16) {
	d.send(f, ts, wire(id, false, 0, qname, qtype, 0), false)
	d.send(f, ts+dur, wire(id, true, rcode, qname, qtype, ancount), false)
}

func (d *driver) bucket(n int) map[string]any {
	d.tb.Helper()
	j, err := d.h.Bucket(n, 0)
	if err != nil {
		d.tb.Fatalf("bucket %d: %v", n, err)
	}
	return j
}

const sec = int64(1e9)

var t0 = int64(1_700_000_000) * sec

func TestNewV1Errors(t *testing.T) {
	tests := []struct {
		name    string
		config  map[string]any
		enable  []string
		want    string
		wantCfg bool // wraps ErrConfig
	}{
		{name: "unknown key", config: map[string]any{"only_qnames": "x"},
			want: "only_qnames is an invalid/unsupported config or filter. The valid configs/filters are: exclude_noerror, only_rcode, only_queries, only_responses, only_dnssec_response, answer_count, only_qtype, only_qname, only_qname_suffix, geoloc_notfound, asn_notfound, dnstap_msg_type, public_suffix_list, recorded_stream, xact_ttl_ms, xact_ttl_secs, deep_sample_rate, num_periods, topn_count, topn_percentile_threshold"},
		{name: "unknown group", enable: []string{"top_qnamez"},
			want: "top_qnamez is an invalid/unsupported metric group. The valid groups are: all, cardinality, counters, dns_transaction, histograms, quantiles, top_ecs, top_ports, top_qnames, top_qnames_details"},
		{name: "bad rcode name", config: map[string]any{"only_rcode": "nosuch"},
			want: `dns handler config: only_rcode: invalid/unsupported rcode "nosuch"`, wantCfg: true},
		{name: "extended rcode", config: map[string]any{"only_rcode": uint64(16)},
			want: `dns handler config: only_rcode: "16" is an extended rcode; only header rcodes 0-15 can be matched`, wantCfg: true},
		{name: "bad qtype", config: map[string]any{"only_qtype": []string{"AAAA", "AAAAA"}},
			want: `dns handler config: only_qtype: invalid/unsupported qtype "AAAAA"`, wantCfg: true},
		{name: "bool not bool", config: map[string]any{"exclude_noerror": "yes"},
			want: "dns handler config: exclude_noerror: expected true or false, got yes", wantCfg: true},
		{name: "answer_count not int", config: map[string]any{"answer_count": "many"},
			want: "dns handler config: answer_count: expected a non-negative integer, got many", wantCfg: true},
		{name: "answer_count too big", config: map[string]any{"answer_count": uint64(70000)},
			want: "dns handler config: answer_count: 70000 is larger than 65535", wantCfg: true},
		{name: "geoloc", config: map[string]any{"geoloc_notfound": true},
			want: "dns handler config: geoloc_notfound needs GeoIP/ASN databases, which this build does not load yet", wantCfg: true},
		{name: "asn", config: map[string]any{"asn_notfound": true},
			want: "dns handler config: asn_notfound needs GeoIP/ASN databases, which this build does not load yet", wantCfg: true},
		{name: "dnstap type", config: map[string]any{"dnstap_msg_type": "relay"},
			want: `dns handler config: dnstap_msg_type contained an invalid/unsupported type "relay". Valid types: auth, client, forwarder, resolver, stub, tool, update`, wantCfg: true},
		{name: "ttl too long", config: map[string]any{"xact_ttl_ms": uint64(3600001)},
			want: "dns handler config: transaction TTL must be between 1 ms and 1 hour", wantCfg: true},
		{name: "zero ttl", config: map[string]any{"xact_ttl_secs": uint64(0)},
			want: "dns handler config: transaction TTL must be between 1 ms and 1 hour", wantCfg: true},
		{name: "queries and responses", config: map[string]any{"only_queries": true, "only_responses": true},
			want: "dns handler config: only_queries and only_responses exclude each other: nothing would pass", wantCfg: true},
		{name: "empty qname", config: map[string]any{"only_qname": []string{"."}},
			want: "dns handler config: only_qname: empty name", wantCfg: true},
		{name: "empty suffix list", config: map[string]any{"only_qname_suffix": []string{}},
			want: "dns handler config: only_qname_suffix: empty list", wantCfg: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewV1(handler.Options{Config: tt.config, Enable: tt.enable})
			if err == nil {
				t.Fatalf("NewV1: no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %q\nwant %q", err, tt.want)
			}
			if errors.Is(err, ErrConfig) != tt.wantCfg {
				t.Errorf("errors.Is(err, ErrConfig) = %v, want %v", !tt.wantCfg, tt.wantCfg)
			}
		})
	}
}

func TestNewV1Accepts(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		check  func(t *testing.T, h *V1)
	}{
		{name: "rcode list of names and numbers", config: map[string]any{"only_rcode": []any{"NXDOMAIN", uint64(5), "servfail"}},
			check: func(t *testing.T, h *V1) {
				if got := string(h.f.onlyRcode); got != "\x03\x05\x02" {
					t.Errorf("onlyRcode = %v", h.f.onlyRcode)
				}
			}},
		{name: "qtype names case-insensitive and numbers", config: map[string]any{"only_qtype": []string{"aaaa", "TxT", "65", "TYPE99"}},
			check: func(t *testing.T, h *V1) {
				if want := []uint16{28, 16, 65, 99}; !slices.Equal(h.f.onlyQType, want) {
					t.Errorf("onlyQType = %v, want %v", h.f.onlyQType, want)
				}
			}},
		{name: "ttl ms", config: map[string]any{"xact_ttl_ms": uint64(250)},
			check: func(t *testing.T, h *V1) {
				if h.f.xactTTL != 250e6 {
					t.Errorf("ttl = %d", h.f.xactTTL)
				}
			}},
		{name: "ttl ms wins", config: map[string]any{"xact_ttl_ms": uint64(20), "xact_ttl_secs": uint64(1)},
			check: func(t *testing.T, h *V1) {
				if h.f.xactTTL != 20e6 {
					t.Errorf("ttl = %d", h.f.xactTTL)
				}
			}},
		{name: "ttl secs", config: map[string]any{"xact_ttl_secs": "3"},
			check: func(t *testing.T, h *V1) {
				if h.f.xactTTL != 3e9 {
					t.Errorf("ttl = %d", h.f.xactTTL)
				}
			}},
		{name: "default ttl", config: map[string]any{},
			check: func(t *testing.T, h *V1) {
				if h.f.xactTTL != DefaultXactTTLNanos || h.WantsDNSRecords() {
					t.Errorf("ttl = %d, records = %v", h.f.xactTTL, h.WantsDNSRecords())
				}
			}},
		{name: "dnssec wants records", config: map[string]any{"only_dnssec_response": true},
			check: func(t *testing.T, h *V1) {
				if !h.WantsDNSRecords() {
					t.Error("WantsDNSRecords = false")
				}
			}},
		{name: "dnstap type and recorded stream", config: map[string]any{"dnstap_msg_type": "Client", "recorded_stream": true},
			check: func(t *testing.T, h *V1) {
				if h.f.dnstapMsgType != "client" || !h.opt.Recorded {
					t.Errorf("dnstap type %q recorded %v", h.f.dnstapMsgType, h.opt.Recorded)
				}
			}},
		{name: "geoloc false is harmless", config: map[string]any{"geoloc_notfound": false, "asn_notfound": "false"},
			check: func(t *testing.T, h *V1) {}},
		{name: "qname lists lower-cased without trailing dot", config: map[string]any{"only_qname": "WWW.Example.COM.", "only_qname_suffix": []string{"Example.com"}},
			check: func(t *testing.T, h *V1) {
				if string(h.f.onlyQName[0]) != "www.example.com" || string(h.f.onlyQNameSufx[0]) != "example.com" {
					t.Errorf("names %q %q", h.f.onlyQName, h.f.onlyQNameSufx)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewV1(handler.Options{Config: tt.config})
			if err != nil {
				t.Fatalf("NewV1: %v", err)
			}
			tt.check(t, h)
		})
	}
}

func TestGroups(t *testing.T) {
	all := []string{"wire_packets.queries", "wire_packets.query_ecs", "cardinality", "xact", "xact.out.quantiles_us",
		"xact.ratio", "xact.out.histogram_us", "top_udp_ports", "top_query_ecs", "top_geoLoc_ecs", "top_asn_ecs",
		"top_qname2", "top_qname3", "top_nxdomain", "top_refused", "top_srvfail", "top_nodata",
		"top_qname_by_resp_bytes", "top_noerror", "top_rcode", "top_qtype", "rates.total", "rates.events",
		"wire_packets.events", "wire_packets.deep_samples", "period"}
	tests := []struct {
		name             string
		enable, disable  []string
		present, missing []string
	}{
		{name: "defaults",
			present: []string{"wire_packets.queries", "wire_packets.filtered", "cardinality.qname", "xact.counts.total",
				"xact.out.quantiles_us", "xact.ratio.quantiles", "xact.in.top_slow", "top_udp_ports", "top_qname2",
				"top_qname3", "top_nxdomain", "top_refused", "top_srvfail", "top_nodata", "top_rcode", "top_qtype",
				"rates.total", "rates.events", "wire_packets.events", "wire_packets.deep_samples", "period"},
			missing: []string{"wire_packets.query_ecs", "xact.out.histogram_us", "top_query_ecs", "top_geoLoc_ecs",
				"top_asn_ecs", "top_qname_by_resp_bytes", "top_noerror"}},
		{name: "all", enable: []string{"all"}, present: all},
		{name: "no counters", disable: []string{"counters"}, enable: []string{"top_ecs"},
			present: []string{"wire_packets.events", "wire_packets.deep_samples", "top_query_ecs"},
			missing: []string{"wire_packets.queries", "wire_packets.filtered", "wire_packets.query_ecs"}},
		{name: "transactions without quantiles", disable: []string{"quantiles"}, enable: []string{"histograms"},
			present: []string{"xact.counts.total", "xact.out.histogram_us"},
			missing: []string{"xact.out.quantiles_us", "xact.ratio"}},
		{name: "details need top_qnames", disable: []string{"top_qnames"}, enable: []string{"top_qnames_details"},
			present: []string{"top_rcode", "top_qtype"},
			missing: []string{"top_qname2", "top_noerror", "top_qname_by_resp_bytes"}},
		{name: "no transactions", disable: []string{"dns_transaction"}, enable: []string{"histograms"},
			missing: []string{"xact"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, handler.Options{Periods: 1, Recorded: true, Enable: tt.enable, Disable: tt.disable})
			d.pair(clientFlow, t0, 2e6, 7, "www.example.com", 1, 0, 1)
			d.h.End(t0 + sec)
			j := d.bucket(0)
			for _, p := range tt.present {
				if get(t, j, p) == nil {
					t.Errorf("%s missing", p)
				}
			}
			for _, p := range tt.missing {
				if get(t, j, p) != nil {
					t.Errorf("%s present: %v", p, get(t, j, p))
				}
			}
		})
	}

	t.Run("all disabled renders nothing", func(t *testing.T) {
		d := newDriver(t, handler.Options{Periods: 1, Disable: []string{"all"}})
		d.pair(clientFlow, t0, 2e6, 7, "www.example.com", 1, 0, 1)
		if j := d.bucket(0); j != nil {
			t.Errorf("bucket = %v, want nil", j)
		}
	})
	t.Run("Groups", func(t *testing.T) {
		g := Groups()
		if len(g) != 9 {
			t.Fatalf("%d groups, want 9", len(g))
		}
		var on []string
		for _, x := range g {
			if x.Default {
				on = append(on, x.Name)
			}
		}
		if got := strings.Join(on, ","); got != "cardinality,counters,dns_transaction,quantiles,top_ports,top_qnames" {
			t.Errorf("defaults = %s", got)
		}
	})
}

func TestCounters(t *testing.T) {
	d := newDriver(t, handler.Options{Periods: 1, Recorded: true, Enable: []string{"top_qnames_details"}})
	d.pair(clientFlow, t0, 1e6, 1, "a.Example.com", 1, 0, 1)                       // noerror
	d.pair(clientFlow, t0+1e7, 1e6, 2, "b.example.com", 28, 0, 0)                  // nodata
	d.pair(clientFlow, t0+2e7, 1e6, 3, "c.example.com", 1, 3, 0)                   // nxdomain
	d.pair(clientFlow, t0+3e7, 1e6, 4, "d.example.com", 1, 2, 0)                   // srvfail
	d.pair(clientFlow, t0+4e7, 1e6, 5, "e.example.com", 1, 5, 0)                   // refused
	d.pair(clientFlow, t0+5e7, 1e6, 6, "f.example.com", 1, 4, 0)                   // notimp: no counter
	d.send(clientFlow, t0+6e7, wire(9, false, 0, "g.example.com", 65280, 0), true) // tcp query, unnamed qtype
	d.send(clientFlow, t0+7e7, wire(10, true, 0, "-", 0, 0), false)                // reply without question
	j := d.bucket(0)
	check(t, j, expect{
		"wire_packets.events": 14, "wire_packets.total": 14, "wire_packets.queries": 7, "wire_packets.replies": 7,
		"wire_packets.udp": 13, "wire_packets.tcp": 1, "wire_packets.ipv4": 14, "wire_packets.ipv6": 0,
		"wire_packets.noerror": 3, "wire_packets.nodata": 2, "wire_packets.nxdomain": 1, "wire_packets.srvfail": 1,
		"wire_packets.refused": 1, "wire_packets.filtered": 0, "wire_packets.deep_samples": 14,
		"cardinality.qname":           7,
		"top:top_nxdomain":            "c.example.com=1",
		"top:top_srvfail":             "d.example.com=1",
		"top:top_refused":             "e.example.com=1",
		"top:top_nodata":              "b.example.com=1",
		"top:top_noerror":             "a.example.com=1,b.example.com=1",
		"len:top_noerror":             2,
		"top:top_rcode":               "NOERROR=3,NOTIMP=1,NXDOMAIN=1,REFUSED=1,SRVFAIL=1",
		"top:top_qtype":               "A=10,AAAA=2,65280=1",
		"top:top_qname2":              ".example.com=13",
		"top:top_udp_ports":           "40000=14",
		"xact.counts.total":           6,
		"xact.out.total":              6,
		"xact.in.total":               0,
		"top:top_qname_by_resp_bytes": "a.example.com=31",
	})
}

func TestTransactions(t *testing.T) {
	unknown := flow{client: netip.MustParseAddr("10.1.1.1"), server: netip.MustParseAddr("10.2.2.2"), port: 5000, unknown: true}
	d := newDriver(t, handler.Options{Periods: 1, Recorded: true, Enable: []string{"histograms"},
		Config: map[string]any{"xact_ttl_ms": uint64(1000)}})
	d.pair(clientFlow, t0, 2_000_000, 1, "out.example.com", 1, 0, 1)                // 2 ms, host is the client
	d.pair(serverFlow, t0+1e6, 3_000_000, 1, "in.example.com", 1, 0, 1)             // 3 ms, host is the server, same ID
	d.pair(unknown, t0+2e6, 4_000_000, 1, "unknown.example.com", 1, 0, 1)           // counted in total only
	d.pair(clientFlow, t0+3e6, 1_500*1e6, 2, "late.example.com", 1, 0, 1)           // after the 1 s TTL
	d.send(clientFlow, t0+4e6, wire(3, true, 0, "orphan.example.com", 1, 1), false) // no query
	// A retransmitted query replaces the first: the time counts from it.
	d.send(clientFlow, t0+5e6, wire(4, false, 0, "re.example.com", 1, 0), false)
	d.send(clientFlow, t0+6e6, wire(4, false, 0, "re.example.com", 1, 0), false)
	d.send(clientFlow, t0+10e6, wire(4, true, 0, "re.example.com", 1, 1), false) // 4 ms
	// The same ID on TCP is another transaction.
	d.send(clientFlow, t0+11e6, wire(5, false, 0, "tcp.example.com", 1, 0), true)
	d.send(clientFlow, t0+12e6, wire(5, true, 0, "tcp.example.com", 1, 0), false) // UDP reply: no match
	j := d.bucket(0)
	check(t, j, expect{
		"xact.counts.total": 4, "xact.counts.timed_out": 1, "xact.out.total": 2, "xact.in.total": 1,
		"xact.in.quantiles_us.p50": 3000, "xact.out.quantiles_us.p50": 2000, "xact.out.quantiles_us.p99": 4000,
		"xact.ratio.quantiles.p50":           1, // replies are as long as queries here
		"xact.in.histogram_us.buckets.+Inf":  1,
		"xact.out.histogram_us.buckets.2154": 1, // 10^(1/3) * 1000
		"xact.out.histogram_us.buckets.4084": 2, // 10^(11/18) * 1000
		"xact.out.histogram_us.buckets.+Inf": 2,
	})
	if got := d.h.Transactions().Open; got != 1 {
		t.Errorf("open transactions = %d, want 1 (the TCP query)", got)
	}
}

func TestTransactionPurgeAtShift(t *testing.T) {
	d := newDriver(t, handler.Options{Periods: 3, Recorded: true, Config: map[string]any{"xact_ttl_secs": uint64(5)}})
	d.h.Start(t0)
	d.send(clientFlow, t0+1*sec, wire(1, false, 0, "lost.example.com", 1, 0), false)
	d.send(clientFlow, t0+58*sec, wire(2, false, 0, "young.example.com", 1, 0), false)
	d.h.Tick(t0 + 61*sec) // shift: the first query is 60 s old, the second 3 s
	if got := d.h.Transactions().Open; got != 1 {
		t.Fatalf("open after shift = %d, want 1", got)
	}
	check(t, d.bucket(0), expect{"xact.counts.timed_out": 1, "xact.counts.total": 0})
	check(t, d.bucket(1), expect{"xact.counts.timed_out": 0, "wire_packets.queries": 2})
	d.send(clientFlow, t0+62*sec, wire(2, true, 0, "young.example.com", 1, 1), false) // 4 s: valid
	check(t, d.bucket(0), expect{"xact.counts.total": 1, "xact.out.quantiles_us.p50": 4_000_000})
}

func TestSlowTransactions(t *testing.T) {
	d := newDriver(t, handler.Options{Periods: 3, Recorded: true})
	d.h.Start(t0)
	// Period 1: ten transactions of 1..10 ms; p90 = 9 ms.
	for i := range 10 {
		d.pair(clientFlow, t0+int64(i)*sec, int64(i+1)*1e6, uint16(i), "p1.example.com", 1, 0, 1)
		d.pair(serverFlow, t0+int64(i)*sec, int64(i+1)*1e6, uint16(i), "p1in.example.com", 1, 0, 1)
	}
	check(t, d.bucket(0), expect{"len:xact.out.top_slow": 0, "len:xact.in.top_slow": 0})
	// Period 2.
	d.pair(clientFlow, t0+60*sec, 20e6, 100, "Slow.example.com", 1, 0, 1)
	d.pair(clientFlow, t0+61*sec, 1e6, 101, "fast.example.com", 1, 0, 1)
	d.pair(clientFlow, t0+62*sec, 9e6, 102, "edge.example.com", 1, 0, 1)
	d.pair(serverFlow, t0+63*sec, 30e6, 103, "slowin.example.com", 1, 0, 1)
	check(t, d.bucket(0), expect{
		"top:xact.out.top_slow": "edge.example.com=1,slow.example.com=1", "len:xact.out.top_slow": 2,
		"top:xact.in.top_slow": "slowin.example.com=1", "len:xact.in.top_slow": 1,
	})
}

func TestDeepSampling(t *testing.T) {
	d := newDriver(t, handler.Options{Periods: 1, Recorded: true, DeepSampleRate: 50, Seed: 1,
		Config: map[string]any{"only_queries": true}})
	const n = 2000
	for i := range n {
		name := string(rune('a'+i%26)) + ".example.com"
		d.send(clientFlow, t0+int64(i)*1e6, wire(uint16(i), false, 0, name, 1, 0), false)
		d.send(clientFlow, t0+int64(i)*1e6+1, wire(uint16(i), true, 0, name, 1, 1), false) // filtered
	}
	j := d.bucket(0)
	check(t, j, expect{
		"wire_packets.events": 2 * n, "wire_packets.total": n, "wire_packets.queries": n,
		"wire_packets.filtered": n, "wire_packets.udp": n, "cardinality.qname": 26,
	})
	deep := get(t, j, "wire_packets.deep_samples").(uint64)
	if deep < n*45/100 || deep > n*55/100 {
		t.Fatalf("deep_samples = %d, want about %d", deep, n/2)
	}
	// Sketches see the deep samples only; counters see everything.
	check(t, j, expect{"top:top_qtype": "A=" + strconv.FormatUint(deep, 10), "top:top_qname2": ".example.com=" + strconv.FormatUint(deep, 10)})
}

func TestWindowMerge(t *testing.T) {
	d := newDriver(t, handler.Options{Periods: 2, Recorded: true})
	d.h.Start(t0)
	d.pair(clientFlow, t0+1*sec, 2e6, 1, "one.example.com", 1, 0, 1)
	d.pair(clientFlow, t0+10*sec, 2e6, 2, "two.example.com", 28, 3, 0)
	d.pair(clientFlow, t0+70*sec, 4e6, 3, "one.example.com", 1, 0, 0)
	d.h.End(t0 + 80*sec)
	check(t, d.bucket(1), expect{"wire_packets.total": 4, "xact.counts.total": 2, "period.length": 70, "period.start_ts": t0 / sec})
	check(t, d.bucket(0), expect{"wire_packets.total": 2, "xact.counts.total": 1, "period.length": 10})
	w, err := d.h.Window(2, 0)
	if err != nil {
		t.Fatalf("window 2: %v", err)
	}
	check(t, w, expect{
		"wire_packets.events": 6, "wire_packets.total": 6, "wire_packets.queries": 3, "wire_packets.replies": 3,
		"wire_packets.noerror": 2, "wire_packets.nodata": 1, "wire_packets.nxdomain": 1,
		"xact.counts.total": 3, "xact.out.total": 3, "xact.out.quantiles_us.p99": 4000,
		"cardinality.qname": 2, "top:top_qname3": "one.example.com=4,two.example.com=2",
		"top:top_qtype": "A=4,AAAA=2", "top:top_nxdomain": "two.example.com=1",
		"period.length": 80, "period.start_ts": t0 / sec,
	})
	if _, err := d.h.Window(3, 0); err == nil || err.Error() != "invalid metrics period, specify [2, 2]" {
		t.Errorf("window 3: %v", err)
	}
}

func TestLiveRates(t *testing.T) {
	d := newDriver(t, handler.Options{Periods: 2})
	for i := range 5 {
		d.pair(clientFlow, t0+int64(i)*1e8, 1e6, uint16(i), "x.example.com", 1, 0, 1)
	}
	d.send(clientFlow, t0+1*sec+1, wire(99, false, 0, "x.example.com", 1, 0), false) // closes second 0
	j := d.bucket(0)
	check(t, j, expect{"rates.total.live": 10, "rates.events.live": 10, "rates.total.p50": 10})
}

func TestMetricPort(t *testing.T) {
	tests := []struct {
		name         string
		sport, dport uint16
		resp         bool
		want         uint16
	}{
		{name: "query to 53", sport: 40000, dport: 53, want: 40000},
		{name: "reply from 53", sport: 53, dport: 40000, resp: true, want: 40000},
		{name: "reply from 53000", sport: 53000, dport: 57975, resp: true, want: 57975},
		{name: "mdns both ports, query", sport: 5353, dport: 5353, want: 5353},
		{name: "both DNS ports, query", sport: 53, dport: 5355, want: 53},
		{name: "both DNS ports, reply", sport: 5355, dport: 53, resp: true, want: 53},
		{name: "neither", sport: 1000, dport: 2000, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := event.Endpoints{SrcPort: tt.sport, DstPort: tt.dport}
			if got := metricPort(&p, tt.resp); got != tt.want {
				t.Errorf("metricPort = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		f    func([]byte) string
		key  []byte
		want string
	}{
		{"port", FormatPort, []byte{0xe2, 0x77}, "57975"},
		{"rcode name", FormatRcode, []byte{0, 2}, "SRVFAIL"},
		{"rcode number", FormatRcode, []byte{0, 12}, "12"},
		{"qtype name", FormatQType, []byte{0, 65}, "HTTPS"},
		{"qtype number", FormatQType, []byte{0xff, 0x00}, "65280"},
		{"ipv4", FormatAddr, []byte{192, 0, 2, 1}, "192.0.2.1"},
		{"ipv6", FormatAddr, netip.MustParseAddr("2001:470:1f0b:1600::").AsSlice(), "2001:470:1f0b:1600::"},
		{"bad length", FormatPort, []byte{1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(tt.key); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	type msg struct {
		resp    bool
		rcode   uint8
		qname   string
		qtype   uint16
		ancount uint16
	}
	msgs := []msg{
		{false, 0, "www.example.com", 1, 0},
		{true, 0, "www.example.com", 1, 2},
		{true, 0, "mail.Example.org", 28, 0},
		{true, 3, "nx.example.com", 1, 0},
		{true, 5, "refused.test", 16, 0},
		{false, 0, "-", 0, 0},
	}
	tests := []struct {
		name   string
		config map[string]any
		keep   string // one 0/1 per message
	}{
		{"none", nil, "111111"},
		{"exclude_noerror", map[string]any{"exclude_noerror": true}, "000110"},
		{"only_rcode", map[string]any{"only_rcode": []string{"nxdomain", "REFUSED"}}, "000110"},
		{"only_rcode 0", map[string]any{"only_rcode": uint64(0)}, "011000"},
		{"only_queries", map[string]any{"only_queries": true}, "100001"},
		{"only_responses", map[string]any{"only_responses": true}, "011110"},
		{"answer_count", map[string]any{"answer_count": uint64(0)}, "101111"},
		{"only_qtype", map[string]any{"only_qtype": []string{"aaaa", "16"}}, "001010"},
		{"only_qname", map[string]any{"only_qname": []string{"MAIL.example.org"}}, "001000"},
		{"only_qname_suffix", map[string]any{"only_qname_suffix": []string{"example.com"}}, "110100"},
		{"dnstap_msg_type passes pcap", map[string]any{"dnstap_msg_type": "auth"}, "111111"},
		{"combined", map[string]any{"only_responses": true, "only_qname_suffix": "example.com", "answer_count": uint64(0)}, "000100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t, handler.Options{Periods: 1, Config: tt.config})
			for i, m := range msgs {
				before := d.h.win.Live().c.filtered
				d.send(clientFlow, t0+int64(i), wire(uint16(i), m.resp, m.rcode, m.qname, m.qtype, m.ancount), false)
				kept := d.h.win.Live().c.filtered == before
				if kept != (tt.keep[i] == '1') {
					t.Errorf("message %d (%+v): kept = %v, want %v", i, m, kept, !kept)
				}
			}
		})
	}
}

func TestHistogramBounds(t *testing.T) {
	b := histBounds()
	if got := b[:12]; !slices.Equal(got, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12}) {
		t.Errorf("first bounds = %v", got)
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Fatalf("bounds not strictly ascending at %d: %d, %d", i, b[i-1], b[i])
		}
	}
	h := newHistogram(b)
	for _, v := range []uint64{0, 1, 1, 9, 10, 1500, 1 << 63} {
		h.Update(v)
	}
	j := h.JSON()["buckets"].(map[string]any)
	want := map[string]uint64{"0": 1, "1": 3, "10": 5, "1668": 6, "+Inf": 7}
	if len(j) != len(want) {
		t.Errorf("buckets = %v, want %v", j, want)
	}
	for k, v := range want {
		if j[k] != v {
			t.Errorf("bucket %s = %v, want %d (all %v)", k, j[k], v, j)
		}
	}
	if (&histogram{}).JSON() != nil {
		t.Error("empty histogram renders")
	}
}

var _ window.Bucket[*bucket] = (*bucket)(nil)
