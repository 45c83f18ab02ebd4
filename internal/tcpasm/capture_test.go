package tcpasm

import (
	"encoding/binary"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

const capturesDir = "../../testdata/captures"

// captureCase is one real capture with the DNS-over-TCP message count that
// tshark reports for it.
type captureCase struct {
	file     string
	decodeAs string // extra tshark -d argument for non-standard DNS ports
	messages int    // tshark count (see tsharkCount)
	queries  int    // of which QR=0
	errors   uint64 // tcp_reassembly_errors expected from us
	retrans  uint64
	outOfOrd uint64
	fromCli  int // messages from the client side
}

// The expected numbers were computed once with
//
//	tshark -r F [-d tcp.port==53000,dns] -Y "dns && tcp" -T fields \
//	    -e dns.id -E occurrence=a -E aggregator=, | tr , '\n' | grep -c .
//
// and the same with -e dns.flags.response for the query/response split
// (tshark 4.x, Debian 12). tshark counts every DNS PDU its TCP reassembly
// dissects, once per PDU even when one frame carries several: the same
// definition as our one emit per length-prefixed message.
var captureCases = []captureCase{
	{file: "dns_ipv4_tcp.pcap", decodeAs: "tcp.port==53000,dns", messages: 420, queries: 210, fromCli: 210},
	{file: "dns_ipv6_tcp.pcap", decodeAs: "tcp.port==53000,dns", messages: 360, queries: 180, fromCli: 180},
	{file: "dns-oarc-dnscap__dnso1tcp.pcap", messages: 82, queries: 41, fromCli: 41},
	// The client writes each length prefix and each message in separate
	// segments, so resync after the client's hole lands mid-message and its
	// later queries are lost, as in tshark; the server's responses after
	// the hole start at segment boundaries and are all recovered. Errors:
	// the client's hole (hold list overflow), what the client left (a
	// mis-framed partial message) at its FIN, the server's hole at its FIN.
	{file: "dns-oarc-dnscap__dnso1tcp-bighole.pcap", messages: 41, queries: 3, fromCli: 3, errors: 3, outOfOrd: 87},
	{file: "tcpdump__dns_tcp.pcap", messages: 2, queries: 1, fromCli: 1},
	{file: "go-dnscollector__dnsdump_tcp.pcap", messages: 10, queries: 5, fromCli: 5},
	{file: "dns-oarc-dnsjit__tcp-response-with-trailing-junk.pcap", messages: 2, queries: 1, fromCli: 1},
	// Two retransmitted segments (one spurious) are dropped.
	{file: "go-dnscollector__dnsdump_udp_truncated+tcp_fragmented.pcap", messages: 2, queries: 1, fromCli: 1, retrans: 2},
}

// captureResult is what the assembler made of a capture.
type captureResult struct {
	messages, queries, fromCli int
	badHeader                  int
	stats                      Stats
}

// assembleCapture feeds every TCP segment of path to a DNS assembler and
// closes all flows at the end, as pktvisor does at the end of a file.
func assembleCapture(tb testing.TB, path string) captureResult {
	tb.Helper()
	var r captureResult
	emit := func(p *decode.Packet, fromClient bool, msg []byte) {
		r.messages++
		if fromClient {
			r.fromCli++
		}
		// A sane DNS header: 12 bytes, QDCOUNT == 1 in these captures.
		if len(msg) < 12 || binary.BigEndian.Uint16(msg[4:]) != 1 {
			r.badHeader++
			return
		}
		if msg[2]&0x80 == 0 {
			r.queries++
		}
	}
	a := New(Config{StripPrefix: DNSPrefixLen}, DNSFramer, emit)
	pkts := readCapture(tb, path)
	for i := range pkts {
		a.Packet(&pkts[i])
	}
	a.CloseAll()
	r.stats = a.Stats()
	return r
}

func TestCaptures(t *testing.T) {
	for _, tc := range captureCases {
		t.Run(tc.file, func(t *testing.T) {
			r := assembleCapture(t, filepath.Join(capturesDir, tc.file))
			t.Logf("stats %+v", r.stats)
			if r.messages != tc.messages || r.queries != tc.queries || r.fromCli != tc.fromCli {
				t.Errorf("messages %d (queries %d, from client %d), want %d (%d, %d)",
					r.messages, r.queries, r.fromCli, tc.messages, tc.queries, tc.fromCli)
			}
			if r.badHeader != 0 {
				t.Errorf("%d messages without a sane DNS header", r.badHeader)
			}
			if r.stats.Messages != uint64(r.messages) {
				t.Errorf("Stats.Messages = %d, emitted %d", r.stats.Messages, r.messages)
			}
			if r.stats.Errors != tc.errors || r.stats.Retransmits != tc.retrans || r.stats.OutOfOrder != tc.outOfOrd {
				t.Errorf("Stats errors/retransmits/out-of-order = %d/%d/%d, want %d/%d/%d",
					r.stats.Errors, r.stats.Retransmits, r.stats.OutOfOrder, tc.errors, tc.retrans, tc.outOfOrd)
			}
			if r.stats.Flows != 0 {
				t.Errorf("Stats.Flows after CloseAll = %d, want 0", r.stats.Flows)
			}
		})
	}
}

// TestCapturesTshark recomputes the expected counts with tshark when it is
// installed, so the table above cannot drift from what tshark says.
func TestCapturesTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not on PATH")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	for _, tc := range captureCases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(capturesDir, tc.file)
			ids := tsharkFields(t, path, tc.decodeAs, "dns.id")
			if len(ids) != tc.messages {
				t.Errorf("tshark counts %d DNS messages over TCP, table says %d", len(ids), tc.messages)
			}
			q := 0
			for _, v := range tsharkFields(t, path, tc.decodeAs, "dns.flags.response") {
				if v == "0" || v == "False" {
					q++
				}
			}
			if q != tc.queries {
				t.Errorf("tshark counts %d queries, table says %d", q, tc.queries)
			}
		})
	}
}

// tsharkFields returns every occurrence of field in DNS-over-TCP frames.
func tsharkFields(tb testing.TB, path, decodeAs, field string) []string {
	tb.Helper()
	args := []string{"-r", path, "-Y", "dns && tcp", "-T", "fields", "-e", field, "-E", "occurrence=a", "-E", "aggregator=,"}
	if decodeAs != "" {
		args = append(args, "-d", decodeAs)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		tb.Fatalf("tshark %s: %v", strconv.Quote(strings.Join(args, " ")), err)
	}
	var vals []string
	for _, line := range strings.Split(string(out), "\n") {
		for _, v := range strings.Split(line, ",") {
			if v = strings.TrimSpace(v); v != "" {
				vals = append(vals, v)
			}
		}
	}
	return vals
}
