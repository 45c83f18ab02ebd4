package dns

import (
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

// udpMessage is one UDP DNS message of a capture, decoded once.
type udpMessage struct {
	p       decode.Packet
	payload []byte
	msg     dnsmsg.Message
}

// loadUDP returns the UDP DNS messages of a fixture, parsed.
func loadUDP(tb testing.TB, name, hosts string) []udpMessage {
	tb.Helper()
	hs, err := decode.ParseHostSpec(hosts)
	if err != nil {
		tb.Fatal(err)
	}
	dec := decode.NewDecoder(decode.Config{Hosts: hs})
	var out []udpMessage
	for _, fr := range readPcap(tb, fixturePath(name)) {
		var p decode.Packet
		if err := dec.Decode(fr.link, fr.data, fr.ts, fr.wireLen, &p); err != nil || p.L4 != decode.L4UDP {
			continue
		}
		if !IsDNSPort(p.SrcPort) && !IsDNSPort(p.DstPort) {
			continue
		}
		m := udpMessage{p: p, payload: append([]byte(nil), p.Payload...)}
		if m.msg.Parse(m.payload, dnsmsg.ParseOptions{}) != nil {
			continue
		}
		m.p.Payload = m.payload
		out = append(out, m)
	}
	if len(out) == 0 {
		tb.Fatalf("%s: no UDP DNS messages", name)
	}
	return out
}

// BenchmarkDNSv1 replays the 2,971 UDP DNS messages of
// dns_udp_tcp_random.pcap from memory into a V1 with 5 periods of 60 s and
// 100 % deep sampling, moving event time on by the capture's length (plus
// a second) each replay, as a longer capture would: periods shift every
// 60 s of event time (about every 6,000 messages here) and rates tick, so
// the cost of a shift is spread over the messages of a period. "default"
// has the default metric groups, "details" adds top_qnames_details. One op
// is one message. "handler" gives pre-parsed messages; "parse+handler"
// also parses the message (header and question) each time, as the
// pipeline will.
func BenchmarkDNSv1(b *testing.B) {
	for _, cfg := range []struct {
		name   string
		enable []string
	}{
		{"default", nil},
		{"details", []string{"top_qnames_details"}},
	} {
		for _, parse := range []bool{false, true} {
			name := cfg.name + "/handler"
			if parse {
				name = cfg.name + "/parse+handler"
			}
			b.Run(name, func(b *testing.B) { benchDNSv1(b, cfg.enable, parse) })
		}
	}
}

func benchDNSv1(b *testing.B, enable []string, parse bool) {
	// Each run shifts the timestamps of its own copy in place, so the
	// packets are not copied per op.
	msgs := loadUDP(b, "dns_udp_tcp_random.pcap", "192.168.0.0/24")
	span := msgs[len(msgs)-1].p.TS - msgs[0].p.TS + 1e9
	h, err := NewV1(handler.Options{Config: map[string]any{}, Enable: enable})
	if err != nil {
		b.Fatal(err)
	}
	var (
		msg dnsmsg.Message
		ev  event.DNS
	)
	send := func(i int) {
		m := &msgs[i]
		dnsEvent(&ev, &m.p, nil, 0, false)
		if parse {
			_ = msg.Parse(m.payload, dnsmsg.ParseOptions{})
			ev.Msg = &msg
		} else {
			ev.Msg = &m.msg
		}
		ev.Size = len(m.payload)
		h.DNS(&ev)
	}
	replayed := func() {
		for i := range msgs {
			msgs[i].p.TS += span
		}
	}
	// Warm up past the ring's 5 periods so every bucket and the
	// transaction table have their memory.
	for range 12 {
		for i := range msgs {
			send(i)
		}
		replayed()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n, i := 0, 0; n < b.N; n++ {
		send(i)
		if i++; i == len(msgs) {
			i = 0
			replayed() // about 1 ns per message
		}
	}
}
