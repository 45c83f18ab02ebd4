package dhcpmsg

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

// v6Opt encodes one DHCPv6 option.
func v6Opt(code uint16, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// v6Msg builds a client/server message.
func v6Msg(t MessageTypeV6, xid uint32, opts ...[]byte) []byte {
	b := []byte{byte(t), byte(xid >> 16), byte(xid >> 8), byte(xid)}
	for _, o := range opts {
		b = append(b, o...)
	}
	return b
}

// v6Relay builds a relay message with the given hop count, link and peer
// addresses, and options.
func v6Relay(t MessageTypeV6, hops uint8, link, peer string, opts ...[]byte) []byte {
	b := []byte{byte(t), hops}
	l, p := netip.MustParseAddr(link).As16(), netip.MustParseAddr(peer).As16()
	b = append(append(b, l[:]...), p[:]...)
	for _, o := range opts {
		b = append(b, o...)
	}
	return b
}

var (
	duidC = []byte{0, 3, 0, 1, 1, 2, 3, 4, 5, 6}
	duidS = []byte{0, 3, 0, 1, 6, 5, 4, 3, 2, 1}
)

func TestParseV6(t *testing.T) {
	solicit := v6Msg(Solicit, 0xabcdef, v6Opt(OptClientIDV6, duidC), v6Opt(6, []byte{0, 23}))
	reply := v6Msg(Reply, 0x010203, v6Opt(OptServerIDV6, duidS), v6Opt(OptClientIDV6, duidC))
	forw := v6Relay(RelayForw, 0, "2001:db8::1", "fe80::1", v6Opt(18, []byte("eth0")), v6Opt(OptRelayMsgV6, solicit))
	forw2 := v6Relay(RelayForw, 1, "::", "2001:db8::1", v6Opt(OptRelayMsgV6, forw))
	repl := v6Relay(RelayRepl, 0, "2001:db8::1", "fe80::1", v6Opt(OptRelayMsgV6, reply))
	noMsg := v6Relay(RelayForw, 0, "2001:db8::1", "fe80::1", v6Opt(18, []byte("eth0")))
	deep := solicit
	for range MaxRelayDepth + 1 {
		deep = v6Relay(RelayForw, 0, "::", "::", v6Opt(OptRelayMsgV6, deep))
	}
	okDepth := solicit
	for range MaxRelayDepth {
		okDepth = v6Relay(RelayForw, 0, "::", "::", v6Opt(OptRelayMsgV6, okDepth))
	}
	tests := []struct {
		name       string
		in         []byte
		inner      bool
		err        error
		typ        MessageTypeV6
		xid        uint32
		client     []byte
		server     []byte
		relays     int
		relay      Relay
		relayedMsg bool
	}{
		{name: "solicit", in: solicit, typ: Solicit, xid: 0xabcdef, client: duidC},
		{name: "reply", in: reply, typ: Reply, xid: 0x010203, client: duidC, server: duidS},
		{name: "solicit inner", in: solicit, inner: true, typ: Solicit, xid: 0xabcdef, client: duidC},
		{name: "relay-forw kept", in: forw, typ: RelayForw, relays: 1, relayedMsg: true,
			relay: Relay{RelayForw, 0, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1")}},
		{name: "relay-forw unwrapped", in: forw, inner: true, typ: Solicit, xid: 0xabcdef, client: duidC, relays: 1,
			relay: Relay{RelayForw, 0, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1")}},
		{name: "two relays unwrapped", in: forw2, inner: true, typ: Solicit, xid: 0xabcdef, client: duidC, relays: 2,
			relay: Relay{RelayForw, 1, netip.MustParseAddr("::"), netip.MustParseAddr("2001:db8::1")}},
		{name: "relay-repl unwrapped", in: repl, inner: true, typ: Reply, xid: 0x010203, client: duidC, server: duidS, relays: 1,
			relay: Relay{RelayRepl, 0, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1")}},
		{name: "relay without relay message", in: noMsg, inner: true, typ: RelayForw, relays: 1,
			relay: Relay{RelayForw, 0, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1")}},
		{name: "max depth", in: okDepth, inner: true, typ: Solicit, xid: 0xabcdef, client: duidC, relays: MaxRelayDepth,
			relay: Relay{RelayForw, 0, netip.MustParseAddr("::"), netip.MustParseAddr("::")}},
		{name: "too deep", in: deep, inner: true, err: ErrTooDeep, typ: RelayForw, relays: MaxRelayDepth + 1, relayedMsg: true,
			relay: Relay{RelayForw, 0, netip.MustParseAddr("::"), netip.MustParseAddr("::")}},
		{name: "empty", in: nil, err: ErrTruncated},
		{name: "short header", in: []byte{1, 2, 3}, err: ErrTruncated, typ: Solicit},
		{name: "short relay header", in: forw[:33], err: ErrTruncated, typ: RelayForw},
		{name: "option header cut", in: solicit[:len(solicit)-3], err: ErrTruncated, typ: Solicit, xid: 0xabcdef, client: duidC},
		{name: "option past end", in: v6Msg(Solicit, 1, v6Opt(OptClientIDV6, duidC)[:8]), err: ErrTruncated, typ: Solicit, xid: 1},
		{name: "inner truncated", in: v6Relay(RelayForw, 0, "::", "::", v6Opt(OptRelayMsgV6, []byte{1, 0})), inner: true,
			err: ErrTruncated, typ: Solicit, relays: 1, relay: Relay{RelayForw, 0, netip.MustParseAddr("::"), netip.MustParseAddr("::")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m V6
			var err error
			if tc.inner {
				err = ParseV6Inner(tc.in, &m)
			} else {
				err = ParseV6(tc.in, &m)
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if m.MsgType != tc.typ || m.XID != tc.xid || m.Relays != tc.relays || m.Relay != tc.relay {
				t.Fatalf("type %v xid %#x relays %d relay %+v", m.MsgType, m.XID, m.Relays, m.Relay)
			}
			if hex.EncodeToString(m.ClientID) != hex.EncodeToString(tc.client) ||
				hex.EncodeToString(m.ServerID) != hex.EncodeToString(tc.server) {
				t.Fatalf("client %x server %x", m.ClientID, m.ServerID)
			}
			if (m.RelayMsg != nil) != tc.relayedMsg {
				t.Fatalf("relay message %x", m.RelayMsg)
			}
		})
	}
}

// TestParseV6Fixture checks the DHCPv6 messages of dhcpv6.pcap against
// tshark -T fields -e dhcpv6.msgtype -e dhcpv6.xid -e dhcpv6.duid.bytes.
func TestParseV6Fixture(t *testing.T) {
	const client, server = "000100011c39cf88080027fe8f95", "000100011c3825e8080027d410bb"
	want := []struct {
		typ    MessageTypeV6
		xid    uint32
		server string
	}{
		{Solicit, 0x100874, ""},
		{Advertise, 0x100874, server},
		{RequestV6, 0x49174e, server},
		{Reply, 0x49174e, server},
		{ReleaseV6, 0xc789b0, server},
		{Reply, 0xc789b0, server},
	}
	msgs := udpPayloads(t, fixture("dhcpv6.pcap"), ClientPortV6, ServerPortV6)
	if len(msgs) != len(want) {
		t.Fatalf("%d messages, want %d", len(msgs), len(want))
	}
	for i, w := range want {
		t.Run(w.typ.String(), func(t *testing.T) {
			var m V6
			if err := ParseV6Inner(msgs[i], &m); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if m.MsgType != w.typ || m.XID != w.xid || hex.EncodeToString(m.ClientID) != client ||
				hex.EncodeToString(m.ServerID) != w.server || m.Relays != 0 {
				t.Fatalf("message %d: type %v xid %#x client %x server %x relays %d",
					i, m.MsgType, m.XID, m.ClientID, m.ServerID, m.Relays)
			}
		})
	}
}

func TestMessageTypeNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Solicit.String(), "SOLICIT"},
		{RelayRepl.String(), "RELAY-REPL"},
		{MessageTypeV6(99).String(), "UNKNOWN"},
		{Ack.String(), "DHCPACK"},
		{MessageType(0).String(), "UNKNOWN"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("%q, want %q", tc.got, tc.want)
			}
		})
	}
}

func FuzzParseV6(f *testing.F) {
	for _, m := range udpPayloads(f, fixture("dhcpv6.pcap"), ClientPortV6, ServerPortV6) {
		f.Add(m)
		f.Add(v6Relay(RelayForw, 0, "2001:db8::1", "fe80::1", v6Opt(OptRelayMsgV6, m)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m V6
		_ = ParseV6(b, &m)
		for _, s := range [][]byte{m.ClientID, m.ServerID, m.RelayMsg} {
			if s != nil && !aliases(b, s) {
				t.Fatal("slice does not point into the input")
			}
		}
		err := ParseV6Inner(b, &m)
		if m.Relays > MaxRelayDepth+1 {
			t.Fatalf("%d relays", m.Relays)
		}
		if err == nil && m.MsgType.IsRelay() && m.RelayMsg != nil {
			t.Fatal("relay message left wrapped")
		}
		if err == nil && !m.MsgType.IsRelay() && m.XID > 0xffffff {
			t.Fatalf("xid %#x wider than 24 bits", m.XID)
		}
	})
}

func BenchmarkParseV6(b *testing.B) {
	msgs := udpPayloads(b, fixture("dhcpv6.pcap"), ClientPortV6, ServerPortV6)
	b.Run("direct", func(b *testing.B) {
		var m V6
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if err := ParseV6Inner(msgs[i%len(msgs)], &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("relayed", func(b *testing.B) {
		in := v6Relay(RelayForw, 0, "2001:db8::1", "fe80::1", v6Opt(OptRelayMsgV6, msgs[0]))
		var m V6
		b.ReportAllocs()
		for b.Loop() {
			if err := ParseV6Inner(in, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
