package reader

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
)

var update = flag.Bool("update", false, "regenerate testdata/crosscheck/tshark.json with tshark")

const (
	captures  = "../../testdata/captures/"
	crossFile = "../../testdata/crosscheck/tshark.json"
)

// crossCaptures are the real-world captures (DNS and mixed traffic) whose
// exact counters must equal tshark's.
var crossCaptures = []string{
	"dns-oarc-dnscap__dns.pcap", "dns-oarc-dnscap__dns6.pcap", "dns-oarc-dnscap__dnso1tcp-bighole.pcap",
	"dns-oarc-dnscap__dnso1tcp.pcap", "dns-oarc-dnscap__edns.pcap", "dns-oarc-dnscap__frags.pcap",
	"dns-oarc-dnscap__vlan11.pcap", "dns-oarc-dnsjit__ip6-tcp-padd.pcap", "dns-oarc-dnsjit__pellets.pcap",
	"dns-oarc-dnsjit__tcp-response-with-trailing-junk.pcap", "go-dnscollector__dnsdump_ip6_fragmented+udp.pcap",
	"go-dnscollector__dnsdump_tcp.pcap", "go-dnscollector__dnsdump_udp.pcap",
	"go-dnscollector__dnsdump_udp_truncated+tcp_fragmented.pcap", "ndpi__bad-dns-traffic.pcap",
	"ndpi__dns-google-nsid.pcapng", "ndpi__dns-tunnel-iodine.pcap", "ndpi__dns_fragmented.pcap",
	"ndpi__malformed_dns.pcap", "tcpdump__dns-badcookie.pcap", "tcpdump__dns-badlabel.pcap",
	"tcpdump__dns_tcp.pcap", "tcpdump__dnssec.pcap", "tcpdump__edns-opts.pcap", "zeek__dns-corrupt.pcap",
	"zeek__dns-edns-ecs.pcap", "zeek__dns_extended_rcode.pcap", "zeek__dynamic-update.pcap",
	"zeek__ipv6-fragmented-dns.pcap",
	"ndpi__1kxun.pcap", "ndpi__alexa-app.pcapng", "zeek__icmp.pcap", "zeek__mixed-vlan-mpls.pcap",
	"zeek__var-services-std-ports.pcap", "zeek__wikipedia.pcap",
}

// counts are the exact counters compared with tshark. Definitions, where
// they could differ:
//   - IPv4/IPv6: the frame's first (outer) IP header; tshark's "ip" filter
//     would also match headers quoted inside ICMP errors and tunnels, so
//     the tshark side reads the first ip/ipv6 of frame.protocols instead.
//   - TCP/UDP: the protocol right after that IP header (IPv6 extension
//     headers skipped). An IP fragment that does not complete its datagram
//     has no transport (tshark, with its default reassembly, shows "data";
//     we count it in other_l4); the fragment that completes it counts as
//     UDP/TCP in both.
//   - DNS queries/replies/rcodes: every DNS message on ports 53, 5353, 5355
//     and 53000 (tshark is told to decode 53000 as DNS), including each
//     message of a TCP segment carrying several, by the QR bit; rcodes are
//     the header's 4-bit RCODE of replies.
type counts struct {
	IPv4    uint64            `json:"ipv4"`
	IPv6    uint64            `json:"ipv6"`
	TCP     uint64            `json:"tcp"`
	UDP     uint64            `json:"udp"`
	Queries uint64            `json:"queries"`
	Replies uint64            `json:"replies"`
	Rcodes  map[string]uint64 `json:"rcodes"`
}

func tsharkCounts(t *testing.T, file string) counts {
	t.Helper()
	out, err := exec.Command("tshark", "-n", "-r", file,
		"-d", "udp.port==53000,dns", "-d", "tcp.port==53000,dns",
		"-T", "fields", "-e", "frame.protocols", "-e", "dns.flags.response", "-e", "dns.flags.rcode",
		"-E", "occurrence=a", "-E", "separator=/t").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	c := counts{Rcodes: map[string]uint64{}}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		protos := strings.Split(f[0], ":")
		i := slices.IndexFunc(protos, func(p string) bool { return p == "ip" || p == "ipv6" })
		if i < 0 {
			continue
		}
		if protos[i] == "ip" {
			c.IPv4++
		} else {
			c.IPv6++
		}
		rest := slices.DeleteFunc(slices.Clone(protos[i+1:]), func(p string) bool { return strings.HasPrefix(p, "ipv6.") })
		if len(rest) > 0 {
			switch rest[0] {
			case "tcp":
				c.TCP++
			case "udp":
				c.UDP++
			}
		}
		if len(f) < 3 || f[1] == "" {
			continue
		}
		rcs := strings.Split(f[2], ",")
		for j, r := range strings.Split(f[1], ",") {
			if r == "1" || r == "True" {
				c.Replies++
				if j < len(rcs) {
					c.Rcodes[rcs[j]]++
				}
			} else {
				c.Queries++
			}
		}
	}
	return c
}

func ourCounts(t *testing.T, file string) counts {
	t.Helper()
	doc := analyze(t, file, "")
	num := func(path string) uint64 {
		v, ok := get(doc, path)
		if !ok {
			t.Fatalf("%s: no %s", file, path)
		}
		return uint64(v.(float64))
	}
	c := counts{
		IPv4: num("packets.ipv4"), IPv6: num("packets.ipv6"), TCP: num("packets.tcp"), UDP: num("packets.udp"),
		Queries: num("dns.wire_packets.queries"), Replies: num("dns.wire_packets.replies"),
		Rcodes: map[string]uint64{},
	}
	if total := num("packets.total"); total != c.IPv4+c.IPv6 {
		t.Errorf("%s: packets.total %d != ipv4 %d + ipv6 %d", file, total, c.IPv4, c.IPv6)
	}
	top, _ := get(doc, "dns.top_rcode")
	for _, it := range top.([]any) {
		m := it.(map[string]any)
		name := m["name"].(string)
		code, ok := dnsmsg.RcodeFromName(name)
		if !ok {
			t.Fatalf("%s: top_rcode name %q is not an rcode", file, name)
		}
		c.Rcodes[strconv.Itoa(int(code))] = uint64(m["estimate"].(float64))
	}
	return c
}

func loadCross(t *testing.T) map[string]counts {
	t.Helper()
	b, err := os.ReadFile(crossFile)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/reader -run CrossCheck -update with tshark installed)", err)
	}
	var m map[string]counts
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCrossCheckTshark compares the exact counters of every real capture
// with what tshark counts (stored in testdata/crosscheck/tshark.json;
// -update regenerates it, and when tshark is installed the stored values
// are also checked against a live run).
func TestCrossCheckTshark(t *testing.T) {
	_, haveTshark := exec.LookPath("tshark")
	if *update {
		if haveTshark != nil {
			t.Fatal("-update needs tshark")
		}
		m := map[string]counts{}
		for _, f := range crossCaptures {
			m[f] = tsharkCounts(t, captures+f)
		}
		b, _ := json.MarshalIndent(m, "", "  ")
		if err := os.MkdirAll(filepath.Dir(crossFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crossFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := loadCross(t)
	for _, f := range crossCaptures {
		t.Run(f, func(t *testing.T) {
			w, ok := want[f]
			if !ok {
				t.Fatalf("no stored tshark counts for %s", f)
			}
			if haveTshark == nil && !testing.Short() {
				if live := tsharkCounts(t, captures+f); !equalCounts(live, w) {
					t.Fatalf("stored tshark counts are stale: live %+v, stored %+v", live, w)
				}
			}
			got := ourCounts(t, captures+f)
			if !equalCounts(got, w) {
				t.Errorf("\ngot    %+v\ntshark %+v", got, w)
			}
		})
	}
}

func equalCounts(a, b counts) bool {
	if a.IPv4 != b.IPv4 || a.IPv6 != b.IPv6 || a.TCP != b.TCP || a.UDP != b.UDP ||
		a.Queries != b.Queries || a.Replies != b.Replies || len(a.Rcodes) != len(b.Rcodes) {
		return false
	}
	for k, v := range a.Rcodes {
		if b.Rcodes[k] != v {
			return false
		}
	}
	return true
}
