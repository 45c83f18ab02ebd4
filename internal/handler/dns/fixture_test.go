package dns

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/handler"
)

// get returns the value at a dotted path of a rendered bucket.
func get(tb testing.TB, j map[string]any, path string) any {
	tb.Helper()
	var cur any = j
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			tb.Fatalf("%s: %q is not an object", path, p)
		}
		if cur, ok = m[p]; !ok {
			return nil
		}
	}
	return cur
}

// top returns a rendered top-N list as "name=estimate" strings.
func top(tb testing.TB, j map[string]any, path string) []string {
	tb.Helper()
	v := get(tb, j, path)
	l, ok := v.([]any)
	if !ok {
		tb.Fatalf("%s: not a list but %T", path, v)
	}
	out := make([]string, len(l))
	for i, e := range l {
		m := e.(map[string]any)
		out[i] = fmt.Sprintf("%v=%v", m["name"], m["estimate"])
	}
	return out
}

// expect is one expected value: a number at a path, "top:<path>" for the
// leading entries of a top-N list (joined by ","), or "len:<path>".
type expect map[string]any

func check(tb testing.TB, j map[string]any, want expect) {
	tb.Helper()
	for path, w := range want {
		switch {
		case strings.HasPrefix(path, "top:"):
			got := top(tb, j, path[4:])
			ws := w.(string)
			n := len(strings.Split(ws, ","))
			if ws == "" {
				n = 0
			}
			if len(got) < n || strings.Join(got[:n], ",") != ws {
				tb.Errorf("%s = %v, want leading %s", path[4:], got, ws)
			}
		case strings.HasPrefix(path, "len:"):
			if got := len(top(tb, j, path[4:])); got != w.(int) {
				tb.Errorf("len(%s) = %d, want %d", path[4:], got, w)
			}
		case strings.HasPrefix(path, "approx:"):
			var got float64
			ok := true
			switch v := get(tb, j, path[7:]).(type) {
			case uint64:
				got = float64(v)
			case int64:
				got = float64(v)
			case float64:
				got = v
			default:
				ok = false
			}
			wf := float64(w.(int))
			if !ok || math.Abs(got-wf)/wf > 0.02 {
				tb.Errorf("%s = %v, want %v ± 2%%", path[7:], get(tb, j, path[7:]), w)
			}
		default:
			got := get(tb, j, path)
			if fmt.Sprint(got) != fmt.Sprint(w) {
				tb.Errorf("%s = %v, want %v", path, got, w)
			}
		}
	}
}

// TestFixtures checks the dns v1 acceptance values of spec §7.1 on
// pktvisor's own captures, fed through a test-only pipeline (feeder_test.go).
// Where this handler intentionally differs from pktvisor (filtered counts
// under only_rcode/only_qname, IP fragment reassembly) the comment says
// what pktvisor reports.
func TestFixtures(t *testing.T) {
	const h = "192.168.0.0/24"
	tests := []struct {
		name    string
		file    string
		hosts   string
		config  map[string]any
		enable  []string
		noFrags bool // drop reassembled IP datagrams, as pktvisor does
		want    expect
	}{
		{name: "ipv4_udp", file: "dns_ipv4_udp.pcap", want: expect{
			"wire_packets.events": 140, "wire_packets.udp": 140, "wire_packets.ipv4": 140, "wire_packets.ipv6": 0,
			"wire_packets.queries": 70, "wire_packets.replies": 70, "top:top_qname2": ".test.com=140",
			"xact.counts.total": 70, "xact.counts.timed_out": 0, "cardinality.qname": 70,
		}},
		{name: "ipv4_tcp", file: "dns_ipv4_tcp.pcap", want: expect{
			"wire_packets.events": 420, "wire_packets.tcp": 420, "wire_packets.udp": 0, "wire_packets.ipv4": 420,
			"wire_packets.queries": 210, "wire_packets.replies": 210, "top:top_qname2": ".test.com=420",
			"xact.counts.total": 210,
		}},
		{name: "ipv6_udp", file: "dns_ipv6_udp.pcap", want: expect{
			"wire_packets.events": 140, "wire_packets.udp": 140, "wire_packets.ipv6": 140,
			"wire_packets.queries": 70, "wire_packets.replies": 70, "xact.counts.total": 70,
		}},
		{name: "ipv6_tcp", file: "dns_ipv6_tcp.pcap", want: expect{
			"wire_packets.events": 360, "wire_packets.tcp": 360, "wire_packets.ipv6": 360,
			"wire_packets.queries": 180, "wire_packets.replies": 180, "xact.counts.total": 180,
		}},
		{name: "udp_tcp_random", file: "dns_udp_tcp_random.pcap", hosts: h, enable: []string{"top_qnames_details"}, want: expect{
			"wire_packets.events": 5851, "wire_packets.tcp": 2880, "wire_packets.udp": 2971,
			"wire_packets.queries": 2930, "wire_packets.replies": 2921, "wire_packets.noerror": 2921,
			"wire_packets.nodata": 2254, "wire_packets.filtered": 0,
			"xact.counts.total": 2921, "xact.in.total": 0, "xact.out.total": 2921, "xact.counts.timed_out": 0,
			// 1,999 distinct lower-cased qnames (tshark -Y dns -e dns.qry.name, sort -u);
			// pktvisor's CPC estimate is 2,036.
			"approx:cardinality.qname":    1999,
			"top:top_rcode":               "NOERROR=2921",
			"top:top_udp_ports":           "57975=302",
			"top:top_qname_by_resp_bytes": "82gdxvz5vp.mmyv7ma0jn.rxst40swe.tcbgtnfa.test.com=290",
			"top:top_qtype":               "AAAA=1476,CNAME=825,SOA=794,MX=757,A=717,NS=662,TXT=620",
			// pktvisor reports 325152 µs; sketches differ slightly.
			"approx:xact.out.quantiles_us.p99": 325152,
			"top:top_qname2":                   ".test.com=5851",
		}},
		{name: "udp_tcp_random_only_qtype", file: "dns_udp_tcp_random.pcap", hosts: h,
			config: map[string]any{"only_qtype": []string{"AAAA", "TxT"}}, want: expect{
				"wire_packets.ipv4": 2096, "wire_packets.queries": 1050, "wire_packets.replies": 1046,
				"wire_packets.nodata": 737, "wire_packets.filtered": 5851 - 2096,
				"top:top_qtype": "AAAA=1476,TXT=620", "len:top_qtype": 2,
			}},
		{name: "udp_tcp_random_topn_count", file: "dns_udp_tcp_random.pcap", hosts: h,
			config: map[string]any{"topn_count": uint64(3)}, want: expect{
				"len:top_qtype": 3, "top:top_qtype": "AAAA=1476,CNAME=825,SOA=794",
			}},
		{name: "mixed_rcode_exclude_noerror", file: "dns_udp_mixed_rcode.pcap", hosts: h,
			config: map[string]any{"exclude_noerror": true}, want: expect{
				"wire_packets.refused": 1, "wire_packets.nxdomain": 1, "wire_packets.filtered": 22,
				"wire_packets.noerror": 0, "wire_packets.events": 24,
				"top:top_nxdomain": "nonexistent.google.com=1", "top:top_refused": "refused.com=1",
			}},
		// pktvisor: filtered 0 and events 1 (its UDP predicate path never
		// shows the handler the other 23 messages).
		{name: "mixed_rcode_only_rcode_3", file: "dns_udp_mixed_rcode.pcap", hosts: h,
			config: map[string]any{"only_rcode": uint64(3)}, want: expect{
				"wire_packets.nxdomain": 1, "wire_packets.total": 1, "wire_packets.filtered": 23,
				"wire_packets.events": 24,
			}},
		{name: "mixed_rcode_only_rcode_name", file: "dns_udp_mixed_rcode.pcap", hosts: h,
			config: map[string]any{"only_rcode": []string{"nxdomain", "5"}}, want: expect{
				"wire_packets.nxdomain": 1, "wire_packets.refused": 1, "wire_packets.total": 2,
			}},
		// pktvisor: filtered 0 (predicate path).
		{name: "mixed_rcode_only_qname", file: "dns_udp_mixed_rcode.pcap", hosts: h,
			config: map[string]any{"only_qname": []string{"play.GooGle.com", "nonexistent.google.com"}}, want: expect{
				"wire_packets.udp": 6, "wire_packets.noerror": 2, "wire_packets.nxdomain": 1,
				"wire_packets.nodata": 2, "wire_packets.total": 6, "wire_packets.filtered": 18,
				"top:top_qname2": ".google.com=6", "top:top_qname3": "play.google.com=4,nonexistent.google.com=2",
			}},
		{name: "mixed_rcode_only_qname_suffix", file: "dns_udp_mixed_rcode.pcap", hosts: h,
			config: map[string]any{"only_qname_suffix": []string{"GooGle.com"}}, want: expect{
				"wire_packets.udp": 10, "wire_packets.noerror": 4, "wire_packets.nxdomain": 1,
				"wire_packets.nodata": 2, "wire_packets.filtered": 14, "len:top_qname3": 0,
			}},
		// pktvisor: filtered 6 (the 14 queries and non-NOERROR replies never
		// reach the handler on its predicate path).
		{name: "mixed_rcode_only_rcode_0_answer_count_0", file: "dns_udp_mixed_rcode.pcap", hosts: h,
			config: map[string]any{"only_rcode": uint64(0), "answer_count": uint64(0)}, want: expect{
				"wire_packets.udp": 4, "wire_packets.noerror": 4, "wire_packets.nodata": 4, "wire_packets.filtered": 20,
			}},
		{name: "mixed_rcode_public_suffix_list", file: "dns_udp_mixed_rcode.pcap", hosts: h,
			config: map[string]any{"public_suffix_list": true}, want: expect{
				"wire_packets.udp": 24, "wire_packets.noerror": 10, "wire_packets.filtered": 0,
				"top:top_qname2": ".mwbsys.com=8", "top:top_qname3": "sirius.mwbsys.com=8",
			}},
		{name: "mixed_rcode_only_queries", file: "dns_udp_mixed_rcode.pcap", hosts: h,
			config: map[string]any{"only_queries": true}, want: expect{
				"wire_packets.udp": 12, "wire_packets.noerror": 0, "wire_packets.filtered": 12,
				"top:top_qname2": ".mwbsys.com=4", "top:top_qname3": "sirius.mwbsys.com=4",
				"xact.counts.total": 0,
			}},
		{name: "mixed_rcode_only_responses", file: "dns_udp_mixed_rcode.pcap", hosts: h,
			config: map[string]any{"only_responses": true}, want: expect{
				"wire_packets.udp": 12, "wire_packets.noerror": 10, "wire_packets.filtered": 12,
				"top:top_qname2": ".mwbsys.com=4", "top:top_qname3": "sirius.mwbsys.com=4",
			}},
		{name: "mixed_rcode_transactions", file: "dns_udp_mixed_rcode.pcap", hosts: h, want: expect{
			"xact.counts.total": 12, "xact.out.total": 12, "xact.in.total": 0, "xact.counts.timed_out": 0,
		}},
		{name: "dnssec_only_dnssec_response", file: "dnssec.pcap", hosts: h,
			config: map[string]any{"only_dnssec_response": true}, want: expect{
				"wire_packets.events": 14, "wire_packets.udp": 6, "wire_packets.replies": 6,
				"wire_packets.noerror": 6, "wire_packets.filtered": 8, "cardinality.qname": 3,
				"top:top_qtype": "DNSKEY=3,DS=2,A=1",
			}},
		// pktvisor drops the 7 IP-fragmented replies; with them dropped the
		// values are pktvisor's exactly.
		{name: "ecs_like_pktvisor", file: "ecs.pcap", hosts: h, enable: []string{"top_ecs"}, noFrags: true, want: expect{
			"wire_packets.events": 36, "wire_packets.tcp": 4, "wire_packets.udp": 32,
			"wire_packets.ipv4": 6, "wire_packets.ipv6": 30, "wire_packets.queries": 22,
			"wire_packets.replies": 14, "wire_packets.query_ecs": 5, "cardinality.qname": 9,
			"top:top_query_ecs": "2001:470:1f0b:1600::=5", "len:top_geoLoc_ecs": 0, "len:top_asn_ecs": 0,
		}},
		// This handler is given the reassembled datagrams: 4 IPv4 and 3 IPv6
		// replies more (tshark -Y dns shows 43 messages).
		{name: "ecs", file: "ecs.pcap", hosts: h, enable: []string{"top_ecs"}, want: expect{
			"wire_packets.events": 43, "wire_packets.tcp": 4, "wire_packets.udp": 39,
			"wire_packets.ipv4": 10, "wire_packets.ipv6": 33, "wire_packets.queries": 22,
			"wire_packets.replies": 21, "wire_packets.query_ecs": 5, "cardinality.qname": 9,
			"top:top_query_ecs": "2001:470:1f0b:1600::=5",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.config
			if cfg == nil {
				cfg = map[string]any{}
			}
			h, err := NewV1(handler.Options{Periods: 1, Recorded: true, Config: cfg, Enable: tt.enable})
			if err != nil {
				t.Fatalf("NewV1: %v", err)
			}
			f := newFeeder(t, tt.hosts, h)
			f.noFrags = tt.noFrags
			f.run(fixturePath(tt.file))
			j, err := h.Bucket(0, 0)
			if err != nil {
				t.Fatalf("bucket 0: %v", err)
			}
			check(t, j, tt.want)
		})
	}
}
