package reader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/capture/pcapfile"
	_ "github.com/pktvisor-go/pktvisor/internal/handler/all"
	"github.com/pktvisor-go/pktvisor/internal/input"
	_ "github.com/pktvisor-go/pktvisor/internal/input/all"
)

const fixtures = "../../testdata/captures/"

// analyze runs the reader on file with periods 1 and returns the "1m" body.
func analyze(t testing.TB, file, hostSpec string) map[string]any {
	t.Helper()
	var out bytes.Buffer
	_, err := Run(context.Background(), Config{File: file, Periods: 1, HostSpec: hostSpec}, &out,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("run %s: %v", file, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	body, ok := doc["1m"].(map[string]any)
	if !ok {
		t.Fatalf("no \"1m\" key in %s", out.String())
	}
	return body
}

// get walks a dotted path; numeric parts index arrays.
func get(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[p]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

type want struct {
	path string
	val  any // float64 for numbers, string for names; approx for ~
	tol  float64
}

func check(t *testing.T, doc map[string]any, ws []want) {
	t.Helper()
	for _, w := range ws {
		got, ok := get(doc, w.path)
		if !ok {
			t.Errorf("%s: missing", w.path)
			continue
		}
		switch v := w.val.(type) {
		case int:
			g, ok := got.(float64)
			if !ok || math.Abs(g-float64(v)) > w.tol*float64(v) {
				t.Errorf("%s = %v, want %d (tolerance %.0f%%)", w.path, got, v, w.tol*100)
			}
		case string:
			if got != v {
				t.Errorf("%s = %v, want %q", w.path, got, v)
			}
		}
	}
}

// TestFixtureGoldens checks the values pktvisor's own tests assert on its
// fixtures (net v1, dns v1, dhcp and pcap with one period).
func TestFixtureGoldens(t *testing.T) {
	cases := []struct {
		file, hosts string
		want        []want
	}{
		{"dns_ipv4_udp.pcap", "", []want{
			{"packets.events", 140, 0}, {"packets.udp", 140, 0}, {"packets.ipv4", 140, 0}, {"packets.ipv6", 0, 0},
			{"packets.period.length", 6, 0}, {"packets.period.start_ts", 1567706414, 0},
			{"dns.wire_packets.events", 140, 0}, {"dns.wire_packets.udp", 140, 0}, {"dns.wire_packets.ipv4", 140, 0},
			{"dns.wire_packets.queries", 70, 0}, {"dns.wire_packets.replies", 70, 0},
			{"dns.top_qname2.0.name", ".test.com", 0}, {"dns.top_qname2.0.estimate", 140, 0},
			{"pcap.tcp_reassembly_errors", 0, 0},
		}},
		{"dns_ipv4_tcp.pcap", "", []want{
			{"packets.events", 2100, 0}, {"packets.tcp", 2100, 0}, {"packets.protocol.tcp.syn", 420, 0}, {"packets.ipv4", 2100, 0},
			{"dns.wire_packets.events", 420, 0}, {"dns.wire_packets.tcp", 420, 0},
			{"dns.wire_packets.queries", 210, 0}, {"dns.wire_packets.replies", 210, 0},
			{"dns.top_qname2.0.estimate", 420, 0}, {"pcap.tcp_reassembly_errors", 0, 0},
		}},
		{"dns_ipv6_udp.pcap", "", []want{
			{"packets.events", 140, 0}, {"packets.udp", 140, 0}, {"packets.ipv6", 140, 0},
			{"dns.wire_packets.queries", 70, 0}, {"dns.wire_packets.replies", 70, 0}, {"dns.wire_packets.ipv6", 140, 0},
		}},
		{"dns_ipv6_tcp.pcap", "", []want{
			{"packets.events", 1800, 0}, {"packets.tcp", 1800, 0}, {"packets.protocol.tcp.syn", 360, 0},
			{"dns.wire_packets.events", 360, 0}, {"dns.wire_packets.queries", 180, 0}, {"dns.wire_packets.replies", 180, 0},
		}},
		{"dns_udp_tcp_random.pcap", "192.168.0.0/24", []want{
			{"packets.events", 16147, 0}, {"packets.tcp", 13176, 0}, {"packets.protocol.tcp.syn", 2846, 0},
			{"packets.udp", 2971, 0}, {"packets.in", 6648, 0}, {"packets.out", 9499, 0}, {"packets.unknown_dir", 0, 0},
			{"packets.cardinality.src_ips_in", 1, 0}, {"packets.cardinality.dst_ips_out", 1, 0},
			{"packets.top_ipv4.0.name", "8.8.8.8", 0}, {"packets.top_ipv4.0.estimate", 16147, 0},
			{"dns.wire_packets.events", 5851, 0}, {"dns.wire_packets.tcp", 2880, 0}, {"dns.wire_packets.udp", 2971, 0},
			{"dns.wire_packets.queries", 2930, 0}, {"dns.wire_packets.replies", 2921, 0},
			{"dns.xact.counts.total", 2921, 0}, {"dns.xact.in.total", 0, 0}, {"dns.xact.out.total", 2921, 0},
			{"dns.xact.counts.timed_out", 0, 0},
			{"dns.wire_packets.noerror", 2921, 0}, {"dns.wire_packets.nodata", 2254, 0},
			// Truth: 1,999 distinct lower-cased qnames (tshark); pktvisor estimates 2,036.
			{"dns.cardinality.qname", 1999, 0.02},
			{"dns.top_rcode.0.name", "NOERROR", 0}, {"dns.top_rcode.0.estimate", 2921, 0},
			{"dns.top_udp_ports.0.name", "57975", 0}, {"dns.top_udp_ports.0.estimate", 302, 0},
			{"dns.top_qtype.0.name", "AAAA", 0}, {"dns.top_qtype.0.estimate", 1476, 0},
			{"dns.top_qtype.1.name", "CNAME", 0}, {"dns.top_qtype.1.estimate", 825, 0},
			{"dns.top_qtype.2.name", "SOA", 0}, {"dns.top_qtype.2.estimate", 794, 0},
			{"dns.top_qtype.3.name", "MX", 0}, {"dns.top_qtype.3.estimate", 757, 0},
			{"dns.top_qtype.4.name", "A", 0}, {"dns.top_qtype.4.estimate", 717, 0},
			{"dns.top_qtype.5.name", "NS", 0}, {"dns.top_qtype.5.estimate", 662, 0},
			{"dns.top_qtype.6.name", "TXT", 0}, {"dns.top_qtype.6.estimate", 620, 0},
			{"pcap.tcp_reassembly_errors", 0, 0}, {"pcap.os_drops", 0, 0}, {"pcap.if_drops", 0, 0},
		}},
		{"dhcp-flow.pcap", "", []want{
			{"dhcp.wire_packets.events", 8, 0}, {"dhcp.wire_packets.discover", 1, 0}, {"dhcp.wire_packets.offer", 1, 0},
			{"dhcp.wire_packets.request", 3, 0}, {"dhcp.wire_packets.ack", 3, 0},
			{"dhcp.top_clients.0.name", "78:4f:43:78:19:bc/Shannons-MBP/192.168.2.205", 0},
			{"dhcp.top_clients.1.name", "32:47:73:53:0e:3d/Zenfone-8/192.168.2.248", 0},
			{"dhcp.top_servers.0.name", "b8:27:eb:0c:b3:e2/192.168.2.1", 0},
			{"dhcp.period.length", 30, 0},
		}},
		{"dhcpv6.pcap", "", []want{
			{"dhcp.wire_packets.events", 6, 0}, {"dhcp.wire_packets.solicit", 1, 0}, {"dhcp.wire_packets.advertise", 1, 0},
			{"dhcp.wire_packets.request_v6", 1, 0}, {"dhcp.wire_packets.reply", 2, 0},
			{"dhcp.top_servers.0.name", "08:00:27:d4:10:bb/fe80::a00:27ff:fed4:10bb", 0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			doc := analyze(t, fixtures+tc.file, tc.hosts)
			check(t, doc, tc.want)
			if v, ok := get(doc, "packets.payload_size.p50"); tc.file == "dns_udp_tcp_random.pcap" && (!ok || v.(float64) < 66) {
				t.Errorf("payload_size.p50 = %v, want >= 66", v)
			}
		})
	}
}

// TestWindowKey checks the top-level key follows --periods.
func TestWindowKey(t *testing.T) {
	for _, p := range []int{1, 2, 5, 10} {
		var out bytes.Buffer
		_, err := Run(context.Background(), Config{File: fixtures + "dns_ipv4_udp.pcap", Periods: p}, &out,
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]map[string]any
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("%dm", p)
		body, ok := doc[key]
		if !ok || len(doc) != 1 {
			t.Fatalf("periods %d: keys %v, want only %q", p, keys(doc), key)
		}
		for _, s := range []string{"packets", "dns", "dhcp", "pcap"} {
			if _, ok := body[s]; !ok {
				t.Errorf("periods %d: no %q object", p, s)
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestWorkersAgree: the parallel reader (frames spread over workers by
// flow, shards merged) gives the same document as one worker: counters,
// top-N, and per-second rates (shards add their counts per second).
func TestWorkersAgree(t *testing.T) {
	render := func(workers int, noMap bool) map[string]any {
		var out bytes.Buffer
		_, err := Run(context.Background(), Config{File: fixtures + "dns_udp_tcp_random.pcap", Periods: 1,
			HostSpec: "192.168.0.0/24", Workers: workers, noMap: noMap}, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		body := doc["1m"].(map[string]any)
		// Sketch estimates (HyperLogLog cardinality, KLL quantiles of
		// transaction times and size ratios) of one sketch and of a merge
		// of two differ within their error bounds; every counter, rate
		// and top-N list must match exactly.
		dns := body["dns"].(map[string]any)
		delete(dns, "cardinality")
		xact := dns["xact"].(map[string]any)
		delete(xact, "ratio")
		delete(xact["out"].(map[string]any), "quantiles_us")
		return body
	}
	// The mapped file's frames are handed to the workers in place, the
	// read file's copied into batches: both give the same.
	a, _ := json.Marshal(render(1, false))
	for _, v := range []struct {
		workers int
		noMap   bool
	}{{1, true}, {2, false}, {2, true}, {3, false}} {
		b, _ := json.Marshal(render(v.workers, v.noMap))
		if !bytes.Equal(a, b) {
			t.Errorf("1 worker and %d workers (read, not mapped: %v) differ:\n%s\n%s", v.workers, v.noMap, a, b)
		}
	}
}

// TestFileShrinks: when another process truncates the file while it is
// mapped, the reader reports the byte offset where the data went missing,
// with one worker and with several, and still writes what it summarized.
func TestFileShrinks(t *testing.T) {
	src, err := os.ReadFile(fixtures + "dns_udp_tcp_random.pcap")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		keep    int64 // on a page boundary, or inside a page
		workers int
	}{{512 << 10, 1}, {512 << 10, 2}, {512<<10 + 1500, 1}, {512<<10 + 1500, 2}} {
		keep, workers := tc.keep, tc.workers
		t.Run(fmt.Sprint(keep, " bytes, ", workers, " workers"), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shrinks.pcap")
			if err := os.WriteFile(path, src, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := Config{File: path, Periods: 1, Workers: workers}
			if r, err := pcapfile.OpenMapped(path); err != nil {
				t.Fatal(err)
			} else if !r.Mapped() {
				r.Close()
				t.Skip("this platform does not map files")
			} else {
				r.Close()
			}
			// The file shrinks after the input has mapped it, before it reads.
			cfg.open = func(ctx context.Context, typ string, c input.Config) (input.Stream, error) {
				s, err := input.Open(ctx, typ, c)
				if err == nil {
					err = os.Truncate(path, keep)
				}
				return s, err
			}
			var out bytes.Buffer
			res, err := Run(context.Background(), cfg, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
			var fe *pcapfile.FormatError
			if !errors.Is(err, pcapfile.ErrShrunk) || !errors.As(err, &fe) || fe.Offset != keep ||
				!strings.HasPrefix(err.Error(), path+": ") || strings.Count(err.Error(), path) != 1 {
				t.Fatalf("err = %v, want %s: ErrShrunk at byte %d", err, path, keep)
			}
			var doc map[string]any
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("no JSON written: %v", err)
			}
			// A worker stops inside the frame whose bytes are gone: that
			// frame is in the frame count but not in the handlers.
			total, _ := get(doc, "1m.packets.total")
			if n, _ := total.(float64); n < 1000 || uint64(n) > res.Packets || uint64(n)+uint64(workers) < res.Packets {
				t.Errorf("packets.total = %v, %d frames taken; want over 1000 and at most %d fewer", total, res.Packets, workers)
			}
		})
	}
}
