package dhcpmsg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// v4Msg builds a DHCPv4 message: a BOOTP header with the given op, xid,
// yiaddr and chaddr (hlen 6), the magic cookie, then opts verbatim.
func v4Msg(op uint8, xid uint32, yiaddr string, mac []byte, opts ...byte) []byte {
	b := make([]byte, v4FixedLen+4, v4FixedLen+4+len(opts))
	b[0], b[1], b[2] = op, 1, 6
	binary.BigEndian.PutUint32(b[4:], xid)
	if yiaddr != "" {
		a := netip.MustParseAddr(yiaddr).As4()
		copy(b[16:], a[:])
	}
	copy(b[28:], mac)
	binary.BigEndian.PutUint32(b[v4FixedLen:], magicCookie)
	return append(b, opts...)
}

var testMAC = []byte{0x78, 0x4f, 0x43, 0x78, 0x19, 0xbc}

func TestParseV4(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		err      error
		typ      MessageType
		xid      uint32
		host     string
		hasHost  bool
		server   netip.Addr
		req      netip.Addr
		yiaddr   netip.Addr
		overload uint8
	}{
		{
			name: "request with hostname and requested ip",
			in: v4Msg(BootRequest, 0x978a1b11, "", testMAC,
				53, 1, 3, 0, 0, 12, 4, 'h', 'o', 's', 't', 50, 4, 192, 168, 2, 205, 255),
			typ: Request, xid: 0x978a1b11, host: "host", hasHost: true,
			req: netip.MustParseAddr("192.168.2.205"), yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "ack with server id",
			in:   v4Msg(BootReply, 7, "10.0.0.9", testMAC, 53, 1, 5, 54, 4, 10, 0, 0, 1, 255),
			typ:  Ack, xid: 7, server: netip.MustParseAddr("10.0.0.1"), yiaddr: netip.MustParseAddr("10.0.0.9"),
		},
		{
			name: "no end option ends at buffer end",
			in:   v4Msg(BootRequest, 1, "", testMAC, 53, 1, 1),
			typ:  Discover, xid: 1, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "options after end are ignored",
			in:   v4Msg(BootRequest, 1, "", testMAC, 53, 1, 1, 255, 53, 1, 3),
			typ:  Discover, xid: 1, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "first of duplicate options wins",
			in:   v4Msg(BootRequest, 1, "", testMAC, 53, 1, 8, 12, 1, 'a', 53, 1, 3, 12, 1, 'b', 255),
			typ:  Inform, xid: 1, host: "a", hasHost: true, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "empty hostname is present but empty",
			in:   v4Msg(BootRequest, 1, "", testMAC, 53, 1, 3, 12, 0, 255),
			typ:  Request, xid: 1, hasHost: true, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "overload recorded, bootp without type",
			in:   v4Msg(BootRequest, 2, "", testMAC, 52, 1, 3, 255),
			xid:  2, overload: 3, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "truncated fixed header",
			in:   v4Msg(BootRequest, 2, "", testMAC)[:200],
			err:  ErrTruncated,
		},
		{
			name: "bad cookie",
			in:   append(make([]byte, v4FixedLen), 1, 2, 3, 4, 53, 1, 1),
			err:  ErrNotDHCP, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "option length past end",
			in:   v4Msg(BootRequest, 3, "", testMAC, 53, 1, 1, 12, 9, 'x'),
			err:  ErrTruncated, typ: Discover, xid: 3, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "option code without length",
			in:   v4Msg(BootRequest, 3, "", testMAC, 53),
			err:  ErrTruncated, xid: 3, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "message type of length 2",
			in:   v4Msg(BootRequest, 3, "", testMAC, 53, 2, 1, 1, 255),
			err:  ErrMalformed, xid: 3, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
		{
			name: "server id of length 3",
			in:   v4Msg(BootReply, 3, "", testMAC, 53, 1, 2, 54, 3, 1, 2, 3, 255),
			err:  ErrMalformed, typ: Offer, xid: 3, yiaddr: netip.MustParseAddr("0.0.0.0"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m V4
			err := ParseV4(tc.in, &m)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if m.MsgType != tc.typ || m.XID != tc.xid || m.ServerID != tc.server ||
				m.RequestedIP != tc.req || m.YIAddr != tc.yiaddr || m.Overload != tc.overload {
				t.Fatalf("got type %v xid %#x server %v req %v yiaddr %v overload %d",
					m.MsgType, m.XID, m.ServerID, m.RequestedIP, m.YIAddr, m.Overload)
			}
			if (m.Hostname != nil) != tc.hasHost || string(m.Hostname) != tc.host {
				t.Fatalf("hostname %q (nil %v), want %q", m.Hostname, m.Hostname == nil, tc.host)
			}
			if tc.err == nil && !bytes.Equal(m.HardwareAddr(), testMAC) {
				t.Fatalf("chaddr %x", m.HardwareAddr())
			}
		})
	}
}

func TestHardwareAddrClampsHLen(t *testing.T) {
	m := V4{HLen: 200}
	if n := len(m.HardwareAddr()); n != 16 {
		t.Fatalf("len %d, want 16", n)
	}
}

func TestHostnameAliasesInput(t *testing.T) {
	in := v4Msg(BootRequest, 1, "", testMAC, 53, 1, 3, 12, 2, 'a', 'b', 255)
	var m V4
	if err := ParseV4(in, &m); err != nil {
		t.Fatal(err)
	}
	in[len(in)-3] = 'z'
	if string(m.Hostname) != "zb" {
		t.Fatalf("hostname %q does not alias the input", m.Hostname)
	}
}

// TestParseV4Fixture checks every DHCPv4 message of dhcp-flow.pcap against
// tshark -T fields -e dhcp.option.dhcp -e dhcp.option.hostname -e dhcp.id
// -e dhcp.hw.mac_addr -e dhcp.ip.your -e dhcp.option.dhcp_server_id
// -e dhcp.option.requested_ip_address.
func TestParseV4Fixture(t *testing.T) {
	const zenfone, mbp = "32:47:73:53:0e:3d", "78:4f:43:78:19:bc"
	want := []struct {
		typ       MessageType
		host      string
		xid       uint32
		mac       string
		yiaddr    string
		server    string
		requested string
	}{
		{Request, "Zenfone-8", 0x1c089145, zenfone, "0.0.0.0", "", "192.168.2.248"},
		{Ack, "", 0x1c089145, zenfone, "192.168.2.248", "192.168.2.1", ""},
		{Discover, "Shannons-MBP", 0x978a1b11, mbp, "0.0.0.0", "", ""},
		{Offer, "", 0x978a1b11, mbp, "192.168.2.205", "192.168.2.1", ""},
		{Request, "Shannons-MBP", 0x978a1b11, mbp, "0.0.0.0", "192.168.2.1", "192.168.2.205"},
		{Ack, "", 0x978a1b11, mbp, "192.168.2.205", "192.168.2.1", ""},
		{Request, "Shannons-MBP", 0x978a1b13, mbp, "0.0.0.0", "", "192.168.2.205"},
		{Ack, "", 0x978a1b13, mbp, "192.168.2.205", "192.168.2.1", ""},
	}
	msgs := udpPayloads(t, fixture("dhcp-flow.pcap"), ServerPortV4, ClientPortV4)
	if len(msgs) != len(want) {
		t.Fatalf("%d messages, want %d", len(msgs), len(want))
	}
	addr := func(a netip.Addr) string {
		if !a.IsValid() {
			return ""
		}
		return a.String()
	}
	for i, w := range want {
		t.Run(w.typ.String(), func(t *testing.T) {
			var m V4
			if err := ParseV4(msgs[i], &m); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			mac := macString(m.HardwareAddr())
			if m.MsgType != w.typ || string(m.Hostname) != w.host || m.XID != w.xid || mac != w.mac ||
				m.YIAddr.String() != w.yiaddr || addr(m.ServerID) != w.server || addr(m.RequestedIP) != w.requested {
				t.Fatalf("message %d: type %v host %q xid %#x mac %s yiaddr %v server %v requested %v",
					i, m.MsgType, m.Hostname, m.XID, mac, m.YIAddr, m.ServerID, m.RequestedIP)
			}
		})
	}
}

func macString(b []byte) string {
	const hexdig = "0123456789abcdef"
	var s []byte
	for i, c := range b {
		if i > 0 {
			s = append(s, ':')
		}
		s = append(s, hexdig[c>>4], hexdig[c&15])
	}
	return string(s)
}

func FuzzParseV4(f *testing.F) {
	for _, m := range udpPayloads(f, fixture("dhcp-flow.pcap"), ServerPortV4, ClientPortV4) {
		f.Add(m)
	}
	f.Add(v4Msg(BootRequest, 1, "", testMAC, 53, 1, 3, 12, 4, 'h', 'o', 's', 't', 50, 4, 1, 2, 3, 4, 52, 1, 1, 255))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m V4
		err := ParseV4(b, &m)
		if err == nil && len(b) < v4FixedLen+4 {
			t.Fatalf("accepted %d bytes", len(b))
		}
		if m.Hostname != nil && !aliases(b, m.Hostname) {
			t.Fatalf("hostname does not point into the input")
		}
		if len(m.HardwareAddr()) > 16 {
			t.Fatal("hardware address longer than 16")
		}
	})
}

// aliases reports whether s lies inside b.
func aliases(b, s []byte) bool {
	if len(s) == 0 {
		return true
	}
	for i := range b {
		if &b[i] == &s[0] {
			return i+len(s) <= len(b)
		}
	}
	return false
}

func BenchmarkParseV4(b *testing.B) {
	msgs := udpPayloads(b, fixture("dhcp-flow.pcap"), ServerPortV4, ClientPortV4)
	var m V4
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := ParseV4(msgs[i%len(msgs)], &m); err != nil {
			b.Fatal(err)
		}
	}
}
