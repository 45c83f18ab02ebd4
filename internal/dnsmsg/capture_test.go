package dnsmsg

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// This file holds a deliberately small pcap/pcapng + link/IP/UDP walker so
// the parser can be checked against real captures without importing the
// repository's decoder. It handles what the capture corpus needs: Ethernet
// (with 802.1Q/QinQ tags), BSD loopback, Linux SLL/SLL2, raw IPv4/IPv6;
// IPv4 and IPv6 (extension headers skipped); fragments are dropped, as the
// goldens are generated with IP reassembly off.

// capturesDir is where the capture copies live, relative to this package.
const capturesDir = "../../testdata/captures"

// dnsPorts are the UDP ports whose payloads are taken as DNS (spec §2.3
// without LLMNR's 5355, which the goldens leave out).
var dnsPorts = [...]uint16{53, 5353, 53000}

// udpPayload is one DNS candidate from a capture.
type udpPayload struct {
	frame   int // 1-based, as tshark numbers frames
	payload []byte
}

// readCaptureFile returns the UDP payloads to or from a DNS port in a pcap
// or pcapng file.
func readCaptureFile(tb testing.TB, path string) []udpPayload {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read capture: %v", err)
	}
	var out []udpPayload
	err = walkCapture(data, func(frame int, link uint32, pkt []byte) {
		if p, ok := dnsPayload(link, pkt); ok {
			out = append(out, udpPayload{frame: frame, payload: p})
		}
	})
	if err != nil {
		tb.Fatalf("walk %s: %v", filepath.Base(path), err)
	}
	return out
}

// walkCapture calls fn for each packet of a pcap or pcapng file.
func walkCapture(data []byte, fn func(frame int, link uint32, pkt []byte)) error {
	if len(data) < 24 {
		return errors.New("capture too short")
	}
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		return walkPcap(data, binary.LittleEndian, fn)
	case 0xd4c3b2a1, 0x4d3cb2a1:
		return walkPcap(data, binary.BigEndian, fn)
	case 0x0a0d0d0a:
		return walkPcapng(data, fn)
	}
	return errors.New("unknown capture format")
}

func walkPcap(data []byte, bo binary.ByteOrder, fn func(int, uint32, []byte)) error {
	link := bo.Uint32(data[20:]) & 0x0fffffff
	off, frame := 24, 0
	for off+16 <= len(data) {
		incl := int(bo.Uint32(data[off+8:]))
		off += 16
		if incl > len(data)-off {
			return errors.New("truncated pcap record")
		}
		frame++
		fn(frame, link, data[off:off+incl])
		off += incl
	}
	return nil
}

func walkPcapng(data []byte, fn func(int, uint32, []byte)) error {
	var bo binary.ByteOrder = binary.LittleEndian
	var links []uint32
	off, frame := 0, 0
	for off+12 <= len(data) {
		typ := binary.LittleEndian.Uint32(data[off:])
		if typ == 0x0a0d0d0a { // section header: byte order magic at +8
			if binary.LittleEndian.Uint32(data[off+8:]) == 0x1a2b3c4d {
				bo = binary.LittleEndian
			} else {
				bo = binary.BigEndian
			}
			links = links[:0]
		} else {
			typ = bo.Uint32(data[off:])
		}
		blen := int(bo.Uint32(data[off+4:]))
		if blen < 12 || blen > len(data)-off {
			return errors.New("truncated pcapng block")
		}
		body := data[off+8 : off+blen-4]
		switch typ {
		case 1: // interface description
			links = append(links, uint32(bo.Uint16(body)))
		case 6: // enhanced packet
			ifc := int(bo.Uint32(body))
			capLen := int(bo.Uint32(body[12:]))
			if ifc >= len(links) || 20+capLen > len(body) {
				return errors.New("bad enhanced packet block")
			}
			frame++
			fn(frame, links[ifc], body[20:20+capLen])
		case 3: // simple packet
			frame++
			if len(links) > 0 {
				fn(frame, links[0], body[4:])
			}
		}
		off += blen
	}
	return nil
}

// Link types (tcpdump.org/linktypes.html).
const (
	linkNull     = 0
	linkEthernet = 1
	linkRaw      = 101
	linkLoop     = 108
	linkSLL      = 113
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276
)

// dnsPayload returns the UDP payload of pkt when a port is a DNS port and
// the datagram is not an IP fragment.
func dnsPayload(link uint32, pkt []byte) ([]byte, bool) {
	var ether uint16
	switch link {
	case linkNull, linkLoop:
		if len(pkt) < 4 {
			return nil, false
		}
		pkt = pkt[4:]
		ether = 0 // decide by IP version
	case linkEthernet:
		if len(pkt) < 14 {
			return nil, false
		}
		ether, pkt = binary.BigEndian.Uint16(pkt[12:]), pkt[14:]
		for ether == 0x8100 || ether == 0x88a8 {
			if len(pkt) < 4 {
				return nil, false
			}
			ether, pkt = binary.BigEndian.Uint16(pkt[2:]), pkt[4:]
		}
	case linkSLL:
		if len(pkt) < 16 {
			return nil, false
		}
		ether, pkt = binary.BigEndian.Uint16(pkt[14:]), pkt[16:]
	case linkSLL2:
		if len(pkt) < 20 {
			return nil, false
		}
		ether, pkt = binary.BigEndian.Uint16(pkt), pkt[20:]
	case linkRaw, linkIPv4, linkIPv6:
	default:
		return nil, false
	}
	if ether == 0 && len(pkt) > 0 {
		switch pkt[0] >> 4 {
		case 4:
			ether = 0x0800
		case 6:
			ether = 0x86dd
		}
	}
	var udp []byte
	switch ether {
	case 0x0800:
		if len(pkt) < 20 || pkt[0]>>4 != 4 {
			return nil, false
		}
		ihl := int(pkt[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(pkt[2:]))
		frag := binary.BigEndian.Uint16(pkt[6:])
		if frag&0x3fff != 0 || pkt[9] != 17 || ihl < 20 || total < ihl || total > len(pkt) {
			return nil, false
		}
		udp = pkt[ihl:total]
	case 0x86dd:
		if len(pkt) < 40 || pkt[0]>>4 != 6 {
			return nil, false
		}
		plen := int(binary.BigEndian.Uint16(pkt[4:]))
		next := pkt[6]
		rest := pkt[40:]
		if plen <= len(rest) {
			rest = rest[:plen]
		}
		for next == 0 || next == 43 || next == 60 {
			if len(rest) < 8 {
				return nil, false
			}
			n := 8 + int(rest[1])*8
			if n > len(rest) {
				return nil, false
			}
			next, rest = rest[0], rest[n:]
		}
		if next != 17 { // includes 44, the fragment header
			return nil, false
		}
		udp = rest
	default:
		return nil, false
	}
	if len(udp) < 8 {
		return nil, false
	}
	src, dst := binary.BigEndian.Uint16(udp), binary.BigEndian.Uint16(udp[2:])
	ulen := int(binary.BigEndian.Uint16(udp[4:]))
	if ulen < 8 || ulen > len(udp) {
		return nil, false
	}
	for _, p := range dnsPorts {
		if src == p || dst == p {
			return udp[8:ulen], true
		}
	}
	return nil, false
}

// goldenRow is one line of a tshark golden (see testdata/dnsmsg/gen.sh).
type goldenRow struct {
	qname, qtype, rcode, ancount, qr, ecs4, ecs6, malformed string
}

func readGolden(tb testing.TB, path string) map[int]goldenRow {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("open golden: %v", err)
	}
	tb.Cleanup(func() { f.Close() })
	rows := make(map[int]goldenRow)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 10 {
			tb.Fatalf("golden %s: %d columns in %q", path, len(c), sc.Text())
		}
		frame, err := strconv.Atoi(c[0])
		if err != nil {
			tb.Fatalf("golden %s: frame %q: %v", path, c[0], err)
		}
		ancount := c[4]
		if ancount == "" {
			ancount = c[5] // UPDATE: the prerequisite count (RFC 2136 §2.2)
		}
		rows[frame] = goldenRow{c[1], c[2], c[3], ancount, c[6], c[7], c[8], c[9]}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read golden: %v", err)
	}
	return rows
}

// first returns the first element of tshark's comma-joined list.
func first(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i]
	}
	return s
}

// knownDiff lists frames where Parse and tshark disagree on purpose, keyed
// by "capture:frame", with the reason. They are checked to still differ.
var knownDiff = map[string]string{
	"tcpdump__dns-badlabel:1": "question name of 1-byte and 3-byte labels runs past 255 wire bytes: Parse returns ErrName, tshark prints <Name too long> and marks the packet malformed",
}

// TestCaptures parses every UDP DNS payload of the capture copies and
// compares it with tshark's dissection recorded in testdata/dnsmsg.
func TestCaptures(t *testing.T) {
	goldens, err := filepath.Glob("../../testdata/dnsmsg/*.tsv")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no goldens: %v", err)
	}
	total := 0
	for _, g := range goldens {
		name := strings.TrimSuffix(filepath.Base(g), ".tsv")
		t.Run(name, func(t *testing.T) {
			capture := filepath.Join(capturesDir, name+".pcap")
			if _, err := os.Stat(capture); err != nil {
				capture = filepath.Join(capturesDir, name+".pcapng")
			}
			want := readGolden(t, g)
			got := readCaptureFile(t, capture)
			seen := make(map[int]bool)
			var m Message
			for _, p := range got {
				key := name + ":" + strconv.Itoa(p.frame)
				row, ok := want[p.frame]
				if !ok {
					if _, known := knownDiff[key]; !known {
						t.Errorf("frame %d: a DNS-port payload of %d bytes tshark does not dissect", p.frame, len(p.payload))
					}
					continue
				}
				seen[p.frame] = true
				total++
				err := m.Parse(p.payload, ParseOptions{Records: true})
				diffs := compareRow(&m, err, row)
				reason, known := knownDiff[key]
				switch {
				case known && len(diffs) == 0:
					t.Errorf("frame %d: listed as known difference (%s) but now agrees", p.frame, reason)
				case !known && len(diffs) > 0:
					t.Errorf("frame %d: %s (err %v, tshark malformed %q)", p.frame, strings.Join(diffs, "; "), err, row.malformed)
				}
			}
			for frame := range want {
				if !seen[frame] {
					t.Errorf("frame %d: tshark dissects DNS the walker did not find", frame)
				}
			}
		})
	}
	t.Logf("%d messages compared with tshark", total)
}

// compareRow returns the fields where m disagrees with tshark.
func compareRow(m *Message, err error, row goldenRow) []string {
	var d []string
	if err != nil && !errors.Is(err, ErrRecord) && !errors.Is(err, ErrNoQuestion) {
		return []string{"parse error " + err.Error()}
	}
	wantName := asciiLower(first(row.qname))
	if wantName == "<root>" {
		wantName = ""
	}
	if row.qname == "" && m.HasQuestion {
		d = append(d, "tshark has no question")
	}
	if row.qname != "" && tsharkForm(m.QName()) != wantName && asciiSkeleton(tsharkForm(m.QName())) != asciiSkeleton(wantName) {
		d = append(d, "qname "+strconv.Quote(string(m.QName()))+" want "+strconv.Quote(wantName))
	}
	if row.qtype != "" && strconv.Itoa(int(m.QType)) != first(row.qtype) {
		d = append(d, "qtype "+strconv.Itoa(int(m.QType))+" want "+row.qtype)
	}
	if row.qr != strconv.Itoa(int(m.Flags>>15)) {
		d = append(d, "qr want "+row.qr)
	}
	if row.rcode != "" && row.rcode != strconv.Itoa(int(m.Rcode())) {
		d = append(d, "rcode "+strconv.Itoa(int(m.Rcode()))+" want "+row.rcode)
	}
	if row.ancount != strconv.Itoa(int(m.ANCount)) {
		d = append(d, "ancount "+strconv.Itoa(int(m.ANCount))+" want "+row.ancount)
	}
	ecs := first(row.ecs4)
	if ecs == "" {
		ecs = first(row.ecs6)
	}
	switch {
	case ecs == "" && m.HasECS:
		d = append(d, "ecs "+m.ECS.String()+" tshark has none")
	case ecs != "" && !m.HasECS:
		d = append(d, "ecs missing, want "+ecs)
	case ecs != "":
		a, perr := netip.ParseAddr(ecs)
		if perr != nil {
			d = append(d, "tshark ecs "+ecs+": "+perr.Error())
			break
		}
		p, _ := a.Prefix(int(m.ECSSourcePrefix))
		if p.Addr() != m.ECS {
			d = append(d, "ecs "+m.ECS.String()+" want "+ecs+" masked")
		}
	}
	return d
}

// asciiLower lower-cases A-Z only, as Parse does.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// tsharkForm renders a QName the way tshark prints names in field output:
// \DDD escapes become raw bytes, kept when they form valid UTF-8 and
// shown as U+FFFD one per invalid byte otherwise.
func tsharkForm(name []byte) string {
	raw := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+3 < len(name) {
			v, err := strconv.Atoi(string(name[i+1 : i+4]))
			if err == nil {
				raw = append(raw, byte(v))
				i += 3
				continue
			}
		}
		raw = append(raw, name[i])
	}
	// Like Wireshark, replace each maximal subpart of an ill-formed
	// sequence (Unicode §3.9 U+FFFD substitution) by one U+FFFD.
	var sb strings.Builder
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r != utf8.RuneError || n > 1 {
			sb.WriteRune(r)
			i += n
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += maximalSubpart(raw[i:])
	}
	return sb.String()
}

// maximalSubpart returns the length of the ill-formed prefix of b that a
// single U+FFFD replaces: a lead byte plus the continuation bytes that
// could still have completed it.
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xbf) // allowed range of the second byte
	switch {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c >= 0xe0 && c <= 0xef:
		need = 2
		if c == 0xe0 {
			lo = 0xa0
		} else if c == 0xed {
			hi = 0x9f
		}
	case c >= 0xf0 && c <= 0xf4:
		need = 3
		if c == 0xf0 {
			lo = 0x90
		} else if c == 0xf4 {
			hi = 0x8f
		}
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if n > 1 {
			lo, hi = 0x80, 0xbf
		}
		if b[n] < lo || b[n] > hi {
			break
		}
	}
	return n
}

// asciiSkeleton drops every non-ASCII rune. tshark's replacement of
// ill-formed UTF-8 does not always follow one rule, so names holding bytes
// >= 0x80 are compared on their ASCII bytes and label structure only.
func asciiSkeleton(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}
