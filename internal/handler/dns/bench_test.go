package dns

import (
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/decode"
	"github.com/pktvisor-go/pktvisor/internal/dnsmsg"
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
// dns_udp_tcp_random.pcap from memory into a V1 with default groups plus
// top_qnames_details, 5 periods of 60 s, time moving on by the capture's
// length each replay (so periods shift and rates tick). One op is one
// message. "handler" gives pre-parsed messages; "parse+handler" also
// parses the message (header and question) each time, as the pipeline will.
func BenchmarkDNSv1(b *testing.B) {
	msgs := loadUDP(b, "dns_udp_tcp_random.pcap", "192.168.0.0/24")
	span := msgs[len(msgs)-1].p.TS - msgs[0].p.TS + 1e9
	for _, parse := range []bool{false, true} {
		name := "handler"
		if parse {
			name = "parse+handler"
		}
		b.Run(name, func(b *testing.B) {
			h, err := NewV1(handler.Options{Config: map[string]any{}, Enable: []string{"top_qnames_details"}})
			if err != nil {
				b.Fatal(err)
			}
			var (
				p   decode.Packet
				msg dnsmsg.Message
				ev  = handler.DNSEvent{P: &p}
				off int64
			)
			send := func(i int) {
				m := &msgs[i]
				p = m.p
				p.TS += off
				if parse {
					_ = msg.Parse(m.payload, dnsmsg.ParseOptions{})
					ev.Msg = &msg
				} else {
					ev.Msg = &m.msg
				}
				ev.Size = len(m.payload)
				h.DNS(&ev)
			}
			// Warm up past the ring's 5 periods so every bucket and the
			// transaction table have their memory.
			for range 12 {
				for i := range msgs {
					send(i)
				}
				off += span
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n, i := 0, 0; n < b.N; n++ {
				send(i)
				if i++; i == len(msgs) {
					i = 0
					off += span
				}
			}
		})
	}
}
