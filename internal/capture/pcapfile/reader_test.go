package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// capturesDir holds the copies of the real captures (see testdata/README.md
// at the module root).
const capturesDir = "../../../testdata/captures"

// captureTruth is the ground truth of every real capture, computed with
// Wireshark 4.0.17 tools:
//
//	capinfos -c -M -T -r FILE                                 (count)
//	capinfos -E -T -r FILE                                    (encapsulation name, mapped to LINKTYPE_)
//	tshark -r FILE -T fields -e frame.time_epoch -e frame.cap_len -e frame.len
//	                                                          (first/last record time, sums of lengths)
var captureTruth = []struct {
	name            string
	format          Format
	count           int
	firstTS, lastTS int64 // of the first and last record in file order, Unix ns
	capSum, wireSum int64
	linkType        uint32
}{
	{"bgp.pcap", FormatPcap, 22, 1453594491508326000, 1453594495971400000, 1806, 1806, 1},
	{"dhcp-flow.pcap", FormatPcap, 8, 1634851620703423000, 1634851650401994000, 2742, 2742, 1},
	{"dhcpv6.pcap", FormatPcap, 12, 1420235556799722000, 1420235569893300000, 1411, 1411, 1},
	{"dns_ipv4_tcp.pcap", FormatPcap, 2100, 1567706433056403000, 1567706440006298000, 164408, 164408, 1},
	{"dns_ipv4_udp.pcap", FormatPcap, 140, 1567706414599964000, 1567706420602866000, 13320, 13320, 1},
	{"dns_ipv6_tcp.pcap", FormatPcap, 1800, 1567706308958184000, 1567706315069965000, 177680, 177680, 1},
	{"dns_ipv6_udp.pcap", FormatPcap, 140, 1567706365513271000, 1567706371518503000, 15740, 15740, 1},
	{"dns_udp_mixed_rcode.pcap", FormatPcap, 24, 1623768324607115000, 1623768377134897000, 2813, 2813, 1},
	{"dns_udp_tcp_random.pcap", FormatPcap, 16147, 1614874231565771000, 1614874262394089000, 1516056, 1516056, 1},
	{"dnssec.pcap", FormatPcap, 14, 1358909330954626000, 1358909331457934000, 5429, 5429, 1},
	{"ecs.pcap", FormatPcap, 66, 1558968008021140000, 1560869916477286000, 23170, 23170, 1},
	{"ipfix.pcap", FormatPcap, 43, 1673044464109638000, 1673044464113460000, 30154, 30154, 113},
	{"nf9.pcap", FormatPcap, 5, 1508409869575718995, 1508410217526737815, 1927, 1927, 1},
	{"dns-oarc-dnscap__dns.pcap", FormatPcap, 133, 1476976981075993000, 1476977066574755000, 18076, 18076, 1},
	{"dns-oarc-dnscap__dns6.pcap", FormatPcap, 2, 1543333920414188000, 1543333920428453000, 218, 218, 1},
	{"dns-oarc-dnscap__dnso1tcp-bighole.pcap", FormatPcap, 200, 1515583361543825000, 1515583363511401000, 17988, 17988, 1},
	{"dns-oarc-dnscap__dnso1tcp.pcap", FormatPcap, 212, 1515583361543825000, 1515583363511401000, 19096, 19096, 1},
	{"dns-oarc-dnscap__edns.pcap", FormatPcap, 14, 1688541698669836000, 1688541706518500000, 2543, 2543, 1},
	{"dns-oarc-dnscap__frags.pcap", FormatPcap, 495, 1506965422731059000, 1506965422884033000, 20750, 20750, 228},
	{"dns-oarc-dnscap__vlan11.pcap", FormatPcap, 133, 1476976981075993000, 1476977066574755000, 18608, 18608, 1},
	{"dns-oarc-dnsjit__ip6-tcp-padd.pcap", FormatPcap, 6, 1741622871088084000, 1741622871089201000, 1618, 1618, 101},
	{"dns-oarc-dnsjit__pellets.pcap", FormatPcap, 91, 1570796890554358000, 1570796893486351000, 7697, 7697, 101},
	{"dns-oarc-dnsjit__tcp-response-with-trailing-junk.pcap", FormatPcap, 28, 1741270928900146000, 1741270928903756000, 9169, 9169, 1},
	{"go-dnscollector__dnsdump_ip6_fragmented+udp.pcap", FormatPcap, 3, 1558968010233766000, 1558968010234463000, 1753, 1753, 1},
	{"go-dnscollector__dnsdump_tcp.pcap", FormatPcap, 50, 1677960234776610000, 1677960255688485000, 6096, 6096, 1},
	{"go-dnscollector__dnsdump_udp.pcap", FormatPcap, 33, 1677925989646602000, 1677926030032327000, 3905, 3905, 1},
	{"go-dnscollector__dnsdump_udp_truncated+tcp_fragmented.pcap", FormatPcap, 30, 1677958938392480000, 1677958940877393000, 37425, 37425, 1},
	{"ndpi__bad-dns-traffic.pcap", FormatPcap, 382, 1486012623234684000, 1486012733669835000, 99374, 99374, 1},
	{"ndpi__dns-google-nsid.pcapng", FormatPcapNG, 14, 1690622872644843677, 1690735295654626000, 2170, 2170, 1},
	{"ndpi__dns-tunnel-iodine.pcap", FormatPcap, 438, 1282356640051082000, 1282356664538369000, 70492, 70492, 1},
	{"ndpi__dns_fragmented.pcap", FormatPcap, 66, 1558968008021140000, 1560869916477286000, 23170, 23170, 1},
	{"ndpi__malformed_dns.pcap", FormatPcap, 6, 1591551760342902000, 1591551765368813000, 5860, 5860, 1},
	{"tcpdump__dns-badcookie.pcap", FormatPcap, 4, 1550020603306396000, 1550020603307171000, 411, 411, 0},
	{"tcpdump__dns-badlabel.pcap", FormatPcap, 1, 36242000000000, 36242000000000, 63207, 63207, 1},
	{"tcpdump__dns_tcp.pcap", FormatPcap, 11, 1591780863720289000, 1591780864101256000, 922, 922, 1},
	{"tcpdump__dnssec.pcap", FormatPcap, 6, 1224750959376658000, 1224750962953852000, 3816, 3816, 1},
	{"tcpdump__edns-opts.pcap", FormatPcap, 42, 1571864320639715000, 1571864341291167000, 5353, 5353, 1},
	{"zeek__dns-corrupt.pcap", FormatPcap, 2, 1777450586006844000, 1777450586040789000, 202, 202, 1},
	{"zeek__dns-edns-ecs.pcap", FormatPcap, 89, 1463559350492846000, 1560869916475993000, 36843, 36843, 1},
	{"zeek__dns_extended_rcode.pcap", FormatPcap, 2, 1753342170000756000, 1753342170001104000, 146, 146, 228},
	{"zeek__dynamic-update.pcap", FormatPcap, 4, 1676940453027625000, 1676968917289732000, 824, 824, 1},
	{"zeek__ipv6-fragmented-dns.pcap", FormatPcap, 8, 1331084278438444000, 1331084298676270000, 4620, 4620, 1},
	{"akvorado__ipfixprobe-templates+data.pcap", FormatPcap, 2, 1759076323634883000, 1759076323634898000, 624, 624, 1},
	{"akvorado__multiplesamplingrates-all.pcap", FormatPcap, 4, 1701360974547936000, 1701360975163831000, 1824, 1824, 1},
	{"akvorado__nfv5.pcap", FormatPcap, 1, 1680655485099595000, 1680655485099595000, 1458, 1458, 1},
	{"akvorado__nfv9-data+templates.pcap", FormatPcap, 1, 1684085372915038000, 1684085372915038000, 1458, 1458, 1},
	{"akvorado__nfv9-mpls.pcap", FormatPcap, 1, 1699893404489634000, 1699893404489634000, 758, 758, 1},
	{"akvorado__sflow-data-1140.pcap", FormatPcap, 1, 1662715598886994000, 1662715598886994000, 1250, 1250, 1},
	{"akvorado__sflow-encap-vxlan.pcap", FormatPcap, 1, 1767184209178441000, 1767184209178441000, 286, 286, 1},
	{"akvorado__sflow-expanded-sample.pcap", FormatPcap, 1, 1672326228557763000, 1672326228557763000, 370, 370, 1},
	{"akvorado__sflow-icmpv6.pcap", FormatPcap, 1, 1685865496072711000, 1685865496072711000, 246, 246, 1},
	{"akvorado__sflow-ipv4-data.pcap", FormatPcap, 1, 1676064797999145000, 1676064797999145000, 370, 370, 1},
	{"ndpi__netflow-fritz.pcap", FormatPcap, 1, 1498072707863157000, 1498072707863157000, 222, 222, 1},
	{"ndpi__netflowv9.pcap", FormatPcap, 10, 1568213026961189000, 1568213026962107000, 13888, 13888, 1},
	{"ndpi__sflow.pcap", FormatPcap, 9, 1378125488790492000, 1378125597799203000, 1702, 1702, 1},
	{"pmacct__100-IPFIXv10-CISCO.pcap", FormatPcap, 6, 1672534805000000000, 1672534805005000000, 2084, 2084, 1},
	{"pmacct__101-NFv9-CISCO.pcap", FormatPcap, 40, 1672534805000000000, 1672534805039000000, 9460, 9460, 1},
	{"pmacct__104-IPFIXv10-IPv6-CISCO-sampling_option.pcap", FormatPcap, 5, 1672534805000000000, 1672534805004000000, 1538, 1538, 1},
	{"pmacct__111-NFv9-mix_sources.pcap", FormatPcap, 11, 1672534805000000000, 1672534805010000000, 2306, 2306, 1},
	{"pmacct__112-IPFIXv10-CISCO-options-map.pcap", FormatPcap, 21, 1783600495690577000, 1783600538694833000, 12468, 12468, 113},
	{"tcpdump__sflow-print-v6.pcap", FormatPcap, 25, 1599194542951505000, 1599194573953481000, 13058, 13058, 1},
	{"tcpdump__sflow_multiple_counter_30_pdus.pcap", FormatPcap, 30, 1301703210597291000, 1301703212940683000, 28804, 28804, 1},
	{"ndpi__1kxun.pcap", FormatPcap, 1723, 1470104373025824000, 1654385236487007000, 2527774, 2527774, 1},
	{"ndpi__alexa-app.pcapng", FormatPcapNG, 3103, 1490976022526783000, 1490976198776068000, 1171135, 1171135, 1},
	{"zeek__icmp.pcap", FormatPcap, 12, 1309144887024263000, 1309144890030473000, 888, 888, 1},
	{"zeek__mixed-vlan-mpls.pcap", FormatPcap, 47, 952109346874907000, 1278600802074822000, 16403, 16403, 1},
	{"zeek__var-services-std-ports.pcap", FormatPcap, 263, 1308930691035044000, 1308930728226254000, 49573, 49573, 1},
	{"zeek__wikipedia.pcap", FormatPcap, 136, 1300475167096535000, 1300475173475401000, 25260, 25260, 1},
}

// capturePath returns the path of a real capture in the repository.
func capturePath(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(capturesDir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("capture %s: %v", name, err)
	}
	return p
}

// openT opens path and registers its Close.
func openT(tb testing.TB, path string) *Reader {
	tb.Helper()
	r, err := Open(path)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// readAllT reads records until Next fails, returning copies of the records
// and the final error.
func readAllT(tb testing.TB, r *Reader) ([]Record, error) {
	tb.Helper()
	var recs []Record
	for {
		var rec Record
		if err := r.Next(&rec); err != nil {
			return recs, err
		}
		if len(rec.Data) != rec.CapLen {
			tb.Fatalf("record at %d: len(Data) = %d, CapLen = %d", rec.Offset, len(rec.Data), rec.CapLen)
		}
		rec.Data = bytes.Clone(rec.Data)
		recs = append(recs, rec)
	}
}

func TestRealCaptures(t *testing.T) {
	for _, tc := range captureTruth {
		t.Run(tc.name, func(t *testing.T) {
			path := capturePath(t, tc.name)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			r := openT(t, path)
			if r.Format() != tc.format {
				t.Errorf("Format() = %v, want %v", r.Format(), tc.format)
			}
			if r.LinkType() != tc.linkType {
				t.Errorf("LinkType() = %d, want %d", r.LinkType(), tc.linkType)
			}
			if r.Size() != fi.Size() {
				t.Errorf("Size() = %d, want %d", r.Size(), fi.Size())
			}
			var (
				rec             Record
				n               int
				first, last     int64
				capSum, wireSum int64
				prevOff         int64 = -1
			)
			for {
				err := r.Next(&rec)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Next after %d records: %v", n, err)
				}
				if n == 0 {
					first = rec.TS
				}
				last = rec.TS
				n++
				capSum += int64(rec.CapLen)
				wireSum += int64(rec.WireLen)
				if rec.Offset <= prevOff || rec.Offset >= r.Offset() {
					t.Fatalf("record %d: Offset %d not in (%d, %d)", n, rec.Offset, prevOff, r.Offset())
				}
				prevOff = rec.Offset
				if rec.LinkType != tc.linkType {
					t.Fatalf("record %d: LinkType %d, want %d", n, rec.LinkType, tc.linkType)
				}
			}
			if n != tc.count {
				t.Errorf("records = %d, want %d", n, tc.count)
			}
			if first != tc.firstTS || last != tc.lastTS {
				t.Errorf("first, last TS = %d, %d, want %d, %d", first, last, tc.firstTS, tc.lastTS)
			}
			if capSum != tc.capSum || wireSum != tc.wireSum {
				t.Errorf("sum CapLen, WireLen = %d, %d, want %d, %d", capSum, wireSum, tc.capSum, tc.wireSum)
			}
			if r.Offset() != fi.Size() {
				t.Errorf("Offset() at EOF = %d, want file size %d", r.Offset(), fi.Size())
			}
			if err := r.Next(&rec); err != io.EOF {
				t.Errorf("Next after EOF = %v, want io.EOF again", err)
			}
		})
	}
}

// TestRealCapturesLive compares the packet count and the earliest and
// latest timestamps with capinfos for every capture in the repository, when
// capinfos is installed. One capinfos run covers all files:
//
//	capinfos -T -M -r -c -a -e -S FILES   (name, count, earliest, latest)
func TestRealCapturesLive(t *testing.T) {
	if _, err := exec.LookPath("capinfos"); err != nil {
		t.Skip("capinfos not on PATH")
	}
	paths, err := filepath.Glob(filepath.Join(capturesDir, "*.pcap*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captures in %s: %v", capturesDir, err)
	}
	out, err := exec.Command("capinfos", append([]string{"-T", "-M", "-r", "-c", "-a", "-e", "-S"}, paths...)...).Output()
	if err != nil {
		t.Skipf("capinfos: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("capinfos printed %d lines for %d files", len(lines), len(paths))
	}
	for i, line := range lines {
		f := strings.Split(line, "\t")
		t.Run(filepath.Base(paths[i]), func(t *testing.T) {
			if len(f) != 4 || f[0] != paths[i] {
				t.Fatalf("capinfos line %q does not describe %s", line, paths[i])
			}
			want, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("parse count %q: %v", f[1], err)
			}
			recs, err := readAllT(t, openT(t, paths[i]))
			if err != io.EOF {
				t.Fatalf("read: %v", err)
			}
			if len(recs) != want {
				t.Errorf("records = %d, capinfos says %d", len(recs), want)
			}
			if len(recs) == 0 {
				return
			}
			lo, hi := recs[0].TS, recs[0].TS
			for _, r := range recs {
				lo, hi = min(lo, r.TS), max(hi, r.TS)
			}
			if wlo, whi := parseEpoch(t, f[2]), parseEpoch(t, f[3]); lo != wlo || hi != whi {
				t.Errorf("earliest, latest = %d, %d, capinfos says %s, %s", lo, hi, f[2], f[3])
			}
		})
	}
}

// parseEpoch parses "seconds.fraction" (up to 9 fraction digits) into Unix
// nanoseconds.
func parseEpoch(tb testing.TB, s string) int64 {
	tb.Helper()
	sec, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000000")[:9]
	n, err1 := strconv.ParseInt(sec, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("parse time %q", s)
	}
	return n*1e9 + f
}

// TestPcapNGPerInterface checks every record of a real pcapng file whose
// three interfaces have nanosecond and microsecond resolutions (values from
// tshark -T fields -e frame.time_epoch -e frame.cap_len -e frame.interface_id).
func TestPcapNGPerInterface(t *testing.T) {
	want := []struct {
		ts     int64
		capLen int
	}{
		{1690622872644843677, 106}, {1690622872652124955, 314},
		{1690735119384155000, 87}, {1690735119412632000, 144},
		{1690735122813182000, 91}, {1690735123083988000, 234},
		{1690735126272436000, 92}, {1690735126289473000, 147},
		{1690735295405421000, 119}, {1690735295421128000, 164},
		{1690735295434099000, 123}, {1690735295632475000, 256},
		{1690735295644786000, 124}, {1690735295654626000, 169},
	}
	recs, err := readAllT(t, openT(t, capturePath(t, "ndpi__dns-google-nsid.pcapng")))
	if err != io.EOF {
		t.Fatalf("read: %v", err)
	}
	if len(recs) != len(want) {
		t.Fatalf("records = %d, want %d", len(recs), len(want))
	}
	for i, w := range want {
		if recs[i].TS != w.ts || recs[i].CapLen != w.capLen || recs[i].WireLen != w.capLen {
			t.Errorf("record %d: TS %d CapLen %d WireLen %d, want %d %d %d",
				i, recs[i].TS, recs[i].CapLen, recs[i].WireLen, w.ts, w.capLen, w.capLen)
		}
	}
	// The first frame is Ethernet: its EtherType sits at bytes 12..13.
	if et := recs[0].Data[12:14]; !bytes.Equal(et, []byte{0x08, 0x00}) && !bytes.Equal(et, []byte{0x86, 0xdd}) {
		t.Errorf("first frame EtherType % x, want IPv4 or IPv6", et)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
	p := filepath.Join(t.TempDir(), "text.pcap")
	if err := os.WriteFile(p, []byte("hello, world, this is not a capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(p)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != 0 || !errors.Is(err, ErrBadMagic) {
		t.Errorf("Open(text) = %v, want FormatError at 0 wrapping ErrBadMagic", err)
	}
}

func TestClose(t *testing.T) {
	r := openT(t, capturePath(t, "dns-oarc-dnscap__dns6.pcap"))
	var rec Record
	if err := r.Next(&rec); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Next(&rec); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Next after Close = %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestFormatErrorText(t *testing.T) {
	err := error(&FormatError{Offset: 1234, Err: ErrTruncated})
	if got, want := err.Error(), "at byte offset 1234: truncated capture file"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrTruncated) || errors.Is(err, ErrCorrupt) {
		t.Errorf("errors.Is mismatch for %v", err)
	}
}

// loopReader serves data[:restart] once and then data[restart:] forever,
// so that a benchmark can call Next b.N times on one Reader.
type loopReader struct {
	data    []byte
	restart int
	pos     int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.pos == len(l.data) {
		l.pos = l.restart
	}
	n := copy(p, l.data[l.pos:])
	l.pos += n
	return n, nil
}

func BenchmarkNext(b *testing.B) {
	for _, bc := range []struct {
		name    string
		restart int // where the looped part starts: after the pcap header, or the whole pcapng file
	}{
		{"dns_udp_tcp_random.pcap", pcapFileHeaderLen},
		{"ndpi__alexa-app.pcapng", 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data, err := os.ReadFile(capturePath(b, bc.name))
			if err != nil {
				b.Fatal(err)
			}
			// Count the records once to report bytes per record.
			recs, err := readAllT(b, mustReader(b, bytes.NewReader(data)))
			if err != io.EOF || len(recs) == 0 {
				b.Fatalf("read %d records: %v", len(recs), err)
			}
			r := mustReader(b, &loopReader{data: data, restart: bc.restart})
			b.SetBytes(int64(len(data)-bc.restart) / int64(len(recs)))
			b.ReportAllocs()
			b.ResetTimer()
			var rec Record
			for range b.N {
				if err := r.Next(&rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// mustReader returns NewReader(src) or fails.
func mustReader(tb testing.TB, src io.Reader) *Reader {
	tb.Helper()
	r, err := NewReader(src)
	if err != nil {
		tb.Fatalf("NewReader: %v", err)
	}
	return r
}

// unitStarts walks data independently of the Reader and returns the start
// offset of the file header and of every record (pcap) or block (pcapng),
// followed by len(data).
func unitStarts(tb testing.TB, data []byte) []int64 {
	tb.Helper()
	var bo binary.ByteOrder = binary.LittleEndian
	starts := []int64{0}
	switch {
	case bytes.Equal(data[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}):
		for off := 0; off < len(data); {
			if bytes.Equal(data[off:off+4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
				bo = binary.LittleEndian
				if data[off+8] == 0x1a {
					bo = binary.BigEndian
				}
			}
			off += int(bo.Uint32(data[off+4:]))
			starts = append(starts, int64(off))
		}
	default:
		if data[0] == 0xa1 {
			bo = binary.BigEndian
		}
		for off := pcapFileHeaderLen; off < len(data); {
			starts = append(starts, int64(off))
			off += pcapRecordHeaderLen + int(bo.Uint32(data[off+8:]))
		}
		starts = append(starts, int64(len(data)))
	}
	if starts[len(starts)-1] != int64(len(data)) {
		tb.Fatalf("units end at %d, file has %d bytes", starts[len(starts)-1], len(data))
	}
	return starts
}

// TestTruncatedEveryOffset cuts files at every byte offset. A cut at a
// record or block boundary must give the records before it and io.EOF; any
// other cut must give the records before the cut unit and a FormatError
// naming that unit's start with ErrTruncated.
func TestTruncatedEveryOffset(t *testing.T) {
	realFile := func(name string) func(testing.TB) []byte {
		return func(tb testing.TB) []byte {
			b, err := os.ReadFile(capturePath(tb, name))
			if err != nil {
				tb.Fatal(err)
			}
			return b
		}
	}
	crafted := func(build func(testing.TB) ([]byte, []Record)) func(testing.TB) []byte {
		return func(tb testing.TB) []byte { b, _ := build(tb); return b }
	}
	tests := []struct {
		name string
		file func(testing.TB) []byte
	}{
		{"big-endian pcap", func(tb testing.TB) []byte {
			return buildPcap(tb, binary.BigEndian, false, 1, 65535,
				pcapRec{sec: 1, data: []byte{1, 2, 3}}, pcapRec{sec: 2}, pcapRec{sec: 3, data: []byte{4, 5}})
		}},
		{"nanosecond pcap", func(tb testing.TB) []byte {
			return buildPcap(tb, binary.LittleEndian, true, 101, 65535,
				pcapRec{sec: 1, frac: 5, data: []byte{0x45, 0}}, pcapRec{sec: 2, data: []byte{0x60}})
		}},
		{"pcapng interfaces and blocks", crafted(twoInterfaces)},
		{"pcapng two sections", crafted(twoSections)},
		{"dns-oarc-dnscap__dns6.pcap", realFile("dns-oarc-dnscap__dns6.pcap")},
		{"zeek__dns_extended_rcode.pcap", realFile("zeek__dns_extended_rcode.pcap")},
		{"ndpi__dns-google-nsid.pcapng", realFile("ndpi__dns-google-nsid.pcapng")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.file(t)
			full, err := readAny(t, data)
			if err != io.EOF || len(full) == 0 {
				t.Fatalf("full read: %d records, %v", len(full), err)
			}
			starts := unitStarts(t, data)
			for i := 0; i <= len(data); i++ {
				recs, err := readAny(t, data[:i])
				// cut is the start of the unit the prefix ends in, or i at a boundary.
				cut := int64(0)
				for _, s := range starts {
					if s <= int64(i) {
						cut = s
					}
				}
				var want []Record
				for _, r := range full {
					if r.Offset < cut {
						want = append(want, r)
					}
				}
				if cut == int64(i) && i > 0 {
					if err != io.EOF {
						t.Fatalf("prefix %d (boundary): error %v, want io.EOF", i, err)
					}
				} else {
					var fe *FormatError
					if !errors.As(err, &fe) || fe.Offset != cut || !errors.Is(err, ErrTruncated) {
						t.Fatalf("prefix %d: error %v, want truncated at %d", i, err, cut)
					}
				}
				if len(recs) != len(want) {
					t.Fatalf("prefix %d: %d records, want %d", i, len(recs), len(want))
				}
				for j := range want {
					assertRecord(t, recs[j], want[j])
				}
			}
		})
	}
}
