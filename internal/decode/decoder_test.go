package decode

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// captureDir holds the captures the tests read (see testdata/README.md).
const captureDir = "../../testdata/captures"

// captureCounts are per-file frame counts. The outermost IP header and the
// first transport header after it decide; tshark's filters match inner
// headers too, hence the exclusions in the commands below.
type captureCounts struct {
	file                string
	frames              int
	ipv4, ipv6          int
	tcp, udp            int
	fragments, reasmbld int
}

// tsharkCounts were computed with tshark 4.0.17 (reassembly on, its
// default) for each file F in testdata/captures:
//
//	tshark -r F --disable-protocol sflow -Y 'ip'                       (ipv4)
//	tshark -r F --disable-protocol sflow -Y 'ipv6'                     (ipv6)
//	tshark -r F --disable-protocol sflow -Y 'tcp && !icmp && !icmpv6'  (tcp)
//	tshark -r F --disable-protocol sflow -Y 'udp && !icmp && !icmpv6'  (udp)
//	tshark -r F -Y 'ip.flags.mf == 1 || ip.frag_offset > 0 ||
//	    ipv6.fraghdr.more == 1 || ipv6.fraghdr.offset > 0'             (fragments)
//	tshark -r F -Y 'ip.reassembled.length || ipv6.reassembled.length' (reassembled)
//
// each piped to "wc -l". sFlow is disabled so that the Ethernet/IP headers
// sampled inside sFlow datagrams are not counted; "!icmp" drops ICMP
// errors whose quoted datagram tshark dissects as tcp/udp (the decoder
// counts those frames as ICMP). With reassembly on, tshark labels only the
// fragment that completes a datagram "udp", as the decoder does.
var tsharkCounts = []captureCounts{
	{"akvorado__ipfixprobe-templates+data.pcap", 2, 2, 0, 0, 2, 0, 0},
	{"akvorado__multiplesamplingrates-all.pcap", 4, 4, 0, 0, 4, 0, 0},
	{"akvorado__nfv5.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"akvorado__nfv9-data+templates.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"akvorado__nfv9-mpls.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"akvorado__sflow-data-1140.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"akvorado__sflow-encap-vxlan.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"akvorado__sflow-expanded-sample.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"akvorado__sflow-icmpv6.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"akvorado__sflow-ipv4-data.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"bgp.pcap", 22, 22, 0, 22, 0, 0, 0},
	{"dhcp-flow.pcap", 8, 8, 0, 0, 8, 0, 0},
	{"dhcpv6.pcap", 12, 0, 12, 0, 6, 0, 0},
	{"dns-oarc-dnscap__dns.pcap", 133, 123, 0, 0, 82, 0, 0},
	{"dns-oarc-dnscap__dns6.pcap", 2, 0, 2, 0, 2, 0, 0},
	{"dns-oarc-dnscap__dnso1tcp-bighole.pcap", 200, 200, 0, 200, 0, 0, 0},
	{"dns-oarc-dnscap__dnso1tcp.pcap", 212, 212, 0, 212, 0, 0, 0},
	{"dns-oarc-dnscap__edns.pcap", 14, 14, 0, 0, 14, 0, 0},
	{"dns-oarc-dnscap__frags.pcap", 495, 495, 0, 0, 82, 495, 82},
	{"dns-oarc-dnscap__vlan11.pcap", 133, 123, 0, 0, 82, 0, 0},
	{"dns-oarc-dnsjit__ip6-tcp-padd.pcap", 6, 0, 6, 6, 0, 0, 0},
	{"dns-oarc-dnsjit__pellets.pcap", 91, 0, 91, 0, 91, 0, 0},
	{"dns-oarc-dnsjit__tcp-response-with-trailing-junk.pcap", 28, 28, 0, 10, 18, 0, 0},
	{"dns_ipv4_tcp.pcap", 2100, 2100, 0, 2100, 0, 0, 0},
	{"dns_ipv4_udp.pcap", 140, 140, 0, 0, 140, 0, 0},
	{"dns_ipv6_tcp.pcap", 1800, 0, 1800, 1800, 0, 0, 0},
	{"dns_ipv6_udp.pcap", 140, 0, 140, 0, 140, 0, 0},
	{"dns_udp_mixed_rcode.pcap", 24, 24, 0, 0, 24, 0, 0},
	{"dns_udp_tcp_random.pcap", 16147, 16147, 0, 13176, 2971, 0, 0},
	{"dnssec.pcap", 14, 14, 0, 0, 14, 0, 0},
	{"ecs.pcap", 66, 22, 44, 20, 39, 14, 7},
	{"go-dnscollector__dnsdump_ip6_fragmented+udp.pcap", 3, 0, 3, 0, 2, 2, 1},
	{"go-dnscollector__dnsdump_tcp.pcap", 50, 50, 0, 50, 0, 0, 0},
	{"go-dnscollector__dnsdump_udp.pcap", 33, 33, 0, 0, 33, 0, 0},
	{"go-dnscollector__dnsdump_udp_truncated+tcp_fragmented.pcap", 30, 30, 0, 28, 2, 0, 0},
	{"ipfix.pcap", 43, 43, 0, 0, 43, 0, 0},
	{"ndpi__alexa-app.pcapng", 3103, 3062, 12, 2993, 65, 0, 0},
	{"ndpi__bad-dns-traffic.pcap", 382, 382, 0, 0, 382, 0, 0},
	{"ndpi__dns-google-nsid.pcapng", 14, 6, 8, 0, 14, 0, 0},
	{"ndpi__dns-tunnel-iodine.pcap", 438, 434, 0, 0, 434, 0, 0},
	{"ndpi__dns_fragmented.pcap", 66, 22, 44, 20, 39, 14, 7},
	{"ndpi__malformed_dns.pcap", 6, 6, 0, 0, 6, 0, 0},
	{"ndpi__netflow-fritz.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"ndpi__netflowv9.pcap", 10, 10, 0, 0, 10, 0, 0},
	{"ndpi__sflow.pcap", 9, 9, 0, 0, 9, 0, 0},
	{"nf9.pcap", 5, 5, 0, 0, 5, 0, 0},
	{"pmacct__100-IPFIXv10-CISCO.pcap", 6, 6, 0, 0, 6, 0, 0},
	{"pmacct__101-NFv9-CISCO.pcap", 40, 40, 0, 0, 40, 0, 0},
	{"pmacct__104-IPFIXv10-IPv6-CISCO-sampling_option.pcap", 5, 0, 5, 0, 5, 0, 0},
	{"pmacct__111-NFv9-mix_sources.pcap", 11, 11, 0, 0, 11, 0, 0},
	{"pmacct__112-IPFIXv10-CISCO-options-map.pcap", 21, 0, 21, 0, 21, 0, 0},
	{"tcpdump__dns-badcookie.pcap", 4, 4, 0, 0, 4, 0, 0},
	{"tcpdump__dns-badlabel.pcap", 1, 1, 0, 0, 1, 0, 0},
	{"tcpdump__dns_tcp.pcap", 11, 11, 0, 11, 0, 0, 0},
	{"tcpdump__dnssec.pcap", 6, 6, 0, 0, 6, 0, 0},
	{"tcpdump__edns-opts.pcap", 42, 42, 0, 0, 42, 0, 0},
	{"tcpdump__sflow-print-v6.pcap", 25, 0, 25, 0, 25, 0, 0},
	{"tcpdump__sflow_multiple_counter_30_pdus.pcap", 30, 30, 0, 0, 30, 0, 0},
	{"zeek__dns-corrupt.pcap", 2, 2, 0, 0, 2, 0, 0},
	{"zeek__dns-edns-ecs.pcap", 89, 46, 43, 9, 76, 8, 4},
	{"zeek__dns_extended_rcode.pcap", 2, 2, 0, 0, 2, 0, 0},
	{"zeek__dynamic-update.pcap", 4, 4, 0, 0, 4, 0, 0},
	{"zeek__icmp.pcap", 12, 12, 0, 0, 0, 0, 0},
	{"zeek__ipv6-fragmented-dns.pcap", 8, 0, 8, 0, 5, 4, 1},
	{"zeek__mixed-vlan-mpls.pcap", 47, 47, 0, 47, 0, 0, 0},
	{"zeek__var-services-std-ports.pcap", 263, 253, 6, 184, 75, 0, 0},
	{"zeek__wikipedia.pcap", 136, 121, 5, 78, 48, 0, 0},
}

// countCapture decodes every frame of a capture with a fresh Decoder.
func countCapture(tb testing.TB, path string) (captureCounts, Stats) {
	tb.Helper()
	frames := readCapture(tb, path)
	d := NewDecoder(Config{})
	c := captureCounts{file: filepath.Base(path), frames: len(frames)}
	var p Packet
	for _, f := range frames {
		_ = d.Decode(f.link, f.data, f.ts, f.wireLen, &p)
		switch p.L3 {
		case L3IPv4:
			c.ipv4++
		case L3IPv6:
			c.ipv6++
		}
		switch p.L4 {
		case L4TCP:
			c.tcp++
		case L4UDP:
			c.udp++
		}
		if p.Fragment {
			c.fragments++
		}
		if p.Reassembled {
			c.reasmbld++
		}
	}
	return c, d.Stats()
}

func TestCapturesMatchTshark(t *testing.T) {
	for _, want := range tsharkCounts {
		t.Run(want.file, func(t *testing.T) {
			got, st := countCapture(t, filepath.Join(captureDir, want.file))
			if got != want {
				t.Errorf("counts\n got %+v\nwant %+v", got, want)
			}
			if st.Packets != uint64(want.frames) || st.Fragments != uint64(want.fragments) || st.Reassembled != uint64(want.reasmbld) {
				t.Errorf("stats %+v disagree with %+v", st, want)
			}
			if st.Truncated != 0 || st.Malformed != 0 || st.FragDiscarded != 0 {
				t.Errorf("stats %+v: no frame of these captures is truncated or malformed", st)
			}
		})
	}
}

// TestCapturesMatchTsharkLive recomputes the counts of every capture in
// the directory with tshark, when it is installed. One tshark run per file
// prints the fields whose presence the display filters of [tsharkCounts]
// test ("ip" is the presence of ip.src, "tcp" of tcp.srcport: both need
// the same bytes); the results were checked equal to the filter counts.
func TestCapturesMatchTsharkLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tshark once per capture")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not on PATH")
	}
	files, err := filepath.Glob(filepath.Join(captureDir, "*.pcap*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s: %v", captureDir, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			want := tsharkLive(t, path)
			got, _ := countCapture(t, path)
			if got != want {
				t.Errorf("counts\n got %+v\nwant %+v (tshark)", got, want)
			}
		})
	}
}

// tsharkLive counts one capture with tshark (see [TestCapturesMatchTsharkLive]).
func tsharkLive(tb testing.TB, path string) captureCounts {
	tb.Helper()
	fields := []string{
		"ip.src", "ipv6.src", "tcp.srcport", "udp.srcport", "icmp.type", "icmpv6.type",
		"ip.flags.mf", "ip.frag_offset", "ipv6.fraghdr.more", "ipv6.fraghdr.offset",
		"ip.reassembled.length", "ipv6.reassembled.length",
	}
	args := []string{"-r", path, "--disable-protocol", "sflow", "-T", "fields", "-E", "occurrence=f"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		tb.Fatalf("run tshark: %v", err)
	}
	c := captureCounts{file: filepath.Base(path)}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		v := strings.Split(sc.Text(), "\t")
		if len(v) != len(fields) {
			tb.Fatalf("tshark line %q: want %d fields", sc.Text(), len(fields))
		}
		set := func(i int) bool { return v[i] != "" }
		nonZero := func(i int) bool { return v[i] != "" && v[i] != "0" }
		noICMP := !set(4) && !set(5)
		c.frames++
		if set(0) {
			c.ipv4++
		}
		if set(1) {
			c.ipv6++
		}
		if set(2) && noICMP {
			c.tcp++
		}
		if set(3) && noICMP {
			c.udp++
		}
		if v[6] == "1" || nonZero(7) || v[8] == "1" || nonZero(9) {
			c.fragments++
		}
		if set(10) || set(11) {
			c.reasmbld++
		}
	}
	return c
}
