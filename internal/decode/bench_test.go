package decode

import (
	"path/filepath"
	"testing"
)

// BenchmarkDecode decodes the 16,147 frames of dns_udp_tcp_random.pcap
// (Ethernet, IPv4, DNS over UDP and TCP) held in memory; one op is one
// packet.
func BenchmarkDecode(b *testing.B) {
	frames := readCapture(b, filepath.Join(captureDir, "dns_udp_tcp_random.pcap"))
	hosts, err := ParseHostSpec("192.168.0.0/24,2001:db8::/32")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"no_host_spec", Config{}},
		{"host_spec", Config{Hosts: hosts}},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := NewDecoder(c.cfg)
			var p Packet
			b.SetBytes(0)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				f := &frames[i]
				_ = d.Decode(f.link, f.data, f.ts, f.wireLen, &p)
				if i++; i == len(frames) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkDecodeFragments reassembles a 3,000-byte UDP datagram from
// three IPv4 fragments; one op is one fragment.
func BenchmarkDecodeFragments(b *testing.B) {
	frames := v4frags(5, protoUDP, udpDgram(5353, 53, pattern(3000), 0), 1480)
	d := NewDecoder(Config{})
	var p Packet
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = d.Decode(LinkIPv4, frames[i], 0, len(frames[i]), &p)
		if i++; i == len(frames) {
			i = 0
		}
	}
}
