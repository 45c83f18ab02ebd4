package decode

import (
	"bytes"
	"testing"
)

// pattern returns n bytes of a recognisable pattern.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// v4frags splits dgram (an IP payload) into raw IPv4 fragments of at most
// size bytes each (size a multiple of 8).
func v4frags(id uint16, proto uint8, dgram []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(dgram); off += size {
		end := min(off+size, len(dgram))
		out = append(out, ip4{proto: proto, id: id, off: off, mf: end < len(dgram)}.build(dgram[off:end]))
	}
	return out
}

// v6frags splits the fragmentable part into raw IPv6 fragments.
func v6frags(id uint32, nh uint8, part []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(part); off += size {
		end := min(off+size, len(part))
		out = append(out, ip6(protoFragment, cat(frag6hdr(nh, off, end < len(part), id), part[off:end]), 0))
	}
	return out
}

// fragStep is one frame fed to the decoder and the flags it must get.
type fragStep struct {
	frame       []byte
	lt          LinkType
	ts          int64
	reassembled bool
}

// runFrags feeds steps in order, checks every packet, and returns the
// decoder; the completing packet must carry want's ports and payload.
func runFrags(tb testing.TB, cfg Config, steps []fragStep, wantPayload []byte) *Decoder {
	tb.Helper()
	d := NewDecoder(cfg)
	var p Packet
	for i, s := range steps {
		if err := d.Decode(s.lt, s.frame, s.ts, len(s.frame), &p); err != nil {
			tb.Fatalf("step %d: %v", i, err)
		}
		if !p.Fragment || p.Reassembled != s.reassembled {
			tb.Errorf("step %d: Fragment %v Reassembled %v, want true %v", i, p.Fragment, p.Reassembled, s.reassembled)
		}
		if !s.reassembled {
			if p.L4 != L4Other || p.SrcPort != 0 || p.Payload != nil {
				tb.Errorf("step %d: incomplete datagram has L4 %d ports %d payload %d bytes", i, p.L4, p.SrcPort, len(p.Payload))
			}
			continue
		}
		if p.L4 != L4UDP || p.SrcPort != 5353 || p.DstPort != 53 || !bytes.Equal(p.Payload, wantPayload) {
			tb.Errorf("step %d: L4 %d ports %d>%d payload %d bytes (equal %v)", i, p.L4, p.SrcPort, p.DstPort,
				len(p.Payload), bytes.Equal(p.Payload, wantPayload))
		}
	}
	return d
}

func TestFragmentsIPv4(t *testing.T) {
	payload := pattern(3000)
	dgram := udpDgram(5353, 53, payload, 0)
	f := v4frags(77, protoUDP, dgram, 1480) // 3008 bytes: 1480 + 1480 + 48
	overlap := ip4{proto: protoUDP, id: 77, off: 1472, mf: true}.build(dgram[1472:1488])
	step := func(b []byte, done bool) fragStep {
		return fragStep{frame: b, lt: LinkIPv4, ts: 1e9, reassembled: done}
	}
	cases := []struct {
		name  string
		steps []fragStep
		want  Stats
	}{
		{"in order", []fragStep{step(f[0], false), step(f[1], false), step(f[2], true)},
			Stats{Packets: 3, Fragments: 3, Reassembled: 1}},
		{"reversed", []fragStep{step(f[2], false), step(f[1], false), step(f[0], true)},
			Stats{Packets: 3, Fragments: 3, Reassembled: 1}},
		{"last first", []fragStep{step(f[1], false), step(f[2], false), step(f[0], true)},
			Stats{Packets: 3, Fragments: 3, Reassembled: 1}},
		{"duplicate", []fragStep{step(f[0], false), step(f[0], false), step(f[1], false), step(f[2], true)},
			Stats{Packets: 4, Fragments: 4, Reassembled: 1, FragDiscarded: 1}},
		{"overlap", []fragStep{step(f[0], false), step(overlap, false), step(f[1], false), step(f[2], true)},
			Stats{Packets: 4, Fragments: 4, Reassembled: 1, FragDiscarded: 1}},
		{"two datagrams interleaved", []fragStep{step(f[0], false), step(v4frags(78, protoUDP, dgram, 1480)[0], false),
			step(f[1], false), step(f[2], true)},
			Stats{Packets: 4, Fragments: 4, Reassembled: 1}},
		{"again after completion", []fragStep{step(f[0], false), step(f[1], false), step(f[2], true),
			step(f[2], false), step(f[0], false), step(f[1], true)},
			Stats{Packets: 6, Fragments: 6, Reassembled: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := runFrags(t, Config{}, c.steps, payload)
			if st := d.Stats(); st != c.want {
				t.Errorf("stats %+v, want %+v", st, c.want)
			}
		})
	}
}

func TestFragmentsIPv6(t *testing.T) {
	payload := pattern(2000)
	dgram := udpDgram(5353, 53, payload, 0)
	withOpts := cat(ext6opts(protoUDP, 1), dgram) // destination options inside the fragmentable part
	for _, c := range []struct {
		name   string
		frames [][]byte
	}{
		{"udp", v6frags(0xdeadbeef, protoUDP, dgram, 1232)},
		{"destination options after fragment header", v6frags(1, protoDestOpts, withOpts, 1232)},
		{"ethernet", func() [][]byte {
			fs := v6frags(2, protoUDP, dgram, 1000)
			for i := range fs {
				fs[i] = cat(eth(etherTypeIPv6), fs[i])
			}
			return fs
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			lt := LinkIPv6
			if c.name == "ethernet" {
				lt = LinkEthernet
			}
			var steps []fragStep
			for i, fr := range c.frames {
				steps = append(steps, fragStep{frame: fr, lt: lt, reassembled: i == len(c.frames)-1})
			}
			d := runFrags(t, Config{}, steps, payload)
			if st := d.Stats(); st.Fragments != uint64(len(c.frames)) || st.Reassembled != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestFragmentTimeoutAndEviction(t *testing.T) {
	dgram := udpDgram(5353, 53, pattern(100), 0)
	a := v4frags(1, protoUDP, dgram, 64)
	b := v4frags(2, protoUDP, dgram, 64)
	c := v4frags(3, protoUDP, dgram, 64)
	at := func(frame []byte, ts int64, done bool) fragStep {
		return fragStep{frame: frame, lt: LinkIPv4, ts: ts, reassembled: done}
	}
	t.Run("timeout", func(t *testing.T) {
		d := runFrags(t, Config{FragTimeoutNanos: 30e9}, []fragStep{
			at(a[0], 0, false), at(a[1], 31e9, false), // a[0] expired before a[1] came
			at(b[0], 40e9, false), at(b[1], 70e9, true), // exactly 30 s apart still completes
		}, pattern(100))
		// a[1] started a new datagram at 31 s, which expires in turn at 70 s.
		want := Stats{Packets: 4, Fragments: 4, Reassembled: 1, FragTimedOut: 2}
		if st := d.Stats(); st != want {
			t.Errorf("stats %+v, want %+v", st, want)
		}
	})
	t.Run("eviction", func(t *testing.T) {
		d := runFrags(t, Config{MaxFragDatagrams: 2}, []fragStep{
			at(a[0], 1, false), at(b[0], 2, false), at(c[0], 3, false), // a evicted
			at(b[1], 4, true), at(a[1], 5, false), // a starts over and evicts nothing: b's slot is free
			at(c[1], 6, true),
		}, pattern(100))
		want := Stats{Packets: 6, Fragments: 6, Reassembled: 2, FragEvicted: 1}
		if st := d.Stats(); st != want {
			t.Errorf("stats %+v, want %+v", st, want)
		}
	})
}

func TestFragmentDiscarded(t *testing.T) {
	dgram := udpDgram(5353, 53, pattern(100), 0)
	for _, c := range []struct {
		name   string
		frames [][]byte
	}{
		{"middle not a multiple of 8", [][]byte{ip4{proto: protoUDP, id: 1, mf: true}.build(dgram[:60])}},
		{"past 65535 bytes", [][]byte{ip4{proto: protoUDP, id: 1, off: 65528, mf: true}.build(dgram[:16])}},
		{"snaplen cut", [][]byte{ip4{proto: protoUDP, id: 1, mf: true}.build(dgram[:64])[:50]}},
		{"second last fragment", [][]byte{
			ip4{proto: protoUDP, id: 1, off: 64}.build(dgram[64:]),
			ip4{proto: protoUDP, id: 1, off: 72}.build(dgram[72:]),
		}},
		{"middle past the end", [][]byte{
			ip4{proto: protoUDP, id: 1, off: 64}.build(dgram[64:]),
			ip4{proto: protoUDP, id: 1, off: 104, mf: true}.build(dgram[:8]),
		}},
		{"last before data already held", [][]byte{
			ip4{proto: protoUDP, id: 1, off: 64, mf: true}.build(dgram[:16]),
			ip4{proto: protoUDP, id: 1, off: 8}.build(dgram[8:16]),
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(Config{})
			var p Packet
			for _, fr := range c.frames {
				_ = d.Decode(LinkIPv4, fr, 0, len(fr), &p)
				if !p.Fragment || p.L4 != L4Other {
					t.Errorf("Fragment %v L4 %d", p.Fragment, p.L4)
				}
			}
			if st := d.Stats(); st.FragDiscarded != 1 || st.Reassembled != 0 {
				t.Errorf("stats %+v, want 1 discarded", st)
			}
		})
	}
}

// TestFragmentsNoAlloc checks that reassembly reuses its buffers once warm.
func TestFragmentsNoAlloc(t *testing.T) {
	dgram := udpDgram(5353, 53, pattern(3000), 0)
	f := v4frags(9, protoUDP, dgram, 1480)
	g := v6frags(9, protoUDP, dgram, 1232)
	d := NewDecoder(Config{})
	var p Packet
	run := func() {
		for _, fr := range f {
			_ = d.Decode(LinkIPv4, fr, 0, len(fr), &p)
		}
		for _, fr := range g {
			_ = d.Decode(LinkIPv6, fr, 0, len(fr), &p)
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocs per reassembly, want 0", n)
	}
	if st := d.Stats(); st.Reassembled != 2*102 {
		t.Errorf("reassembled %d, want 204", st.Reassembled)
	}
}
