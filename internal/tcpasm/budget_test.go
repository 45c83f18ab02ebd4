package tcpasm

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"

	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// heldMemory returns the capacity of the buffers a's flows hold (framing
// buffers and held segments) and of their hold lists beyond maxHeldCap
// entries: what Config.MaxBufferedTotal bounds.
func heldMemory(a *Assembler) int {
	n := 0
	for f := a.order.head; f != nil; f = f.next {
		for d := range f.half {
			h := &f.half[d]
			n += cap(h.buf)
			for _, sg := range h.held {
				n += cap(sg.data)
			}
			if c := cap(h.held); c > maxHeldCap {
				n += c * segmentBytes
			}
		}
	}
	return n
}

// hostileSegment is one segment of a hostile peer on client port port.
type hostileSegment struct {
	port  uint16
	seq   uint32
	data  []byte
	flags uint8 // 0 means PSH+ACK
}

// TestBufferBudget replays hostile peers that make many flows buffer data
// and checks after every segment that the flows never hold more than
// MaxBufferedTotal, that the excess is counted, and that a message that
// needs no buffer is still framed afterwards.
func TestBufferBudget(t *testing.T) {
	const (
		budget = 64 << 10
		flows  = 2000
		isn    = 1000
	)
	filler := make([]byte, 1400)
	for i := range filler {
		filler[i] = byte(i)
	}
	prefix := func(n int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(n)) }
	tests := []struct {
		name string
		segs func(yield func(hostileSegment))
	}{
		{
			// Every flow announces a 65,535-byte message and sends 400
			// bytes of it: one 512-byte framing buffer each.
			name: "partial message on every flow",
			segs: func(yield func(hostileSegment)) {
				for i := range flows {
					yield(hostileSegment{uint16(10000 + i), isn, append(prefix(65535), filler[:398]...), 0})
				}
			},
		},
		{
			// Flows grow their framing buffers 1,400 bytes at a time up
			// to about 28 KiB (32 KiB buffers), round robin.
			name: "growing partial messages",
			segs: func(yield func(hostileSegment)) {
				for r := range 20 {
					for i := range 100 {
						data := filler
						if r == 0 {
							data = append(prefix(65535), filler[:1398]...)
						}
						yield(hostileSegment{uint16(10000 + i), isn + uint32(r*1400), data, 0})
					}
				}
			},
		},
		{
			// Every flow opens with a SYN, leaves a hole at its first
			// byte and sends 40 segments after it: held segments and a
			// hold list of more than 32 entries each.
			name: "segments ahead of a hole on every flow",
			segs: func(yield func(hostileSegment)) {
				for i := range 200 {
					yield(hostileSegment{uint16(10000 + i), isn, nil, synFl})
					for k := range 40 {
						yield(hostileSegment{uint16(10000 + i), isn + 1 + uint32((k+1)*1000), filler[:1000], 0})
					}
				}
			},
		},
	}
	cli := netip.MustParseAddr("192.0.2.1")
	srv := netip.MustParseAddr("192.0.2.53")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msgs []string
			a := New(Config{StripPrefix: DNSPrefixLen, MaxBufferedTotal: budget}, DNSFramer,
				func(_ *decode.Packet, _ bool, msg []byte) { msgs = append(msgs, string(msg)) })
			var p decode.Packet
			send := func(port uint16, seq uint32, data []byte, flags uint8) {
				if flags == 0 {
					flags = psh
				}
				p.Reset()
				p.TS += 1000
				p.L3, p.L4, p.IPProto = decode.L3IPv4, decode.L4TCP, 6
				p.SrcIP, p.DstIP, p.SrcPort, p.DstPort = cli, srv, port, 53
				p.TCPSeq, p.TCPFlags, p.Payload = seq, flags, data
				a.Packet(&p)
			}
			peak, segs, sent, wrongGauge := 0, 0, 0, 0
			tt.segs(func(sg hostileSegment) {
				send(sg.port, sg.seq, sg.data, sg.flags)
				segs++
				sent += len(sg.data)
				held := heldMemory(a)
				peak = max(peak, held)
				if held > budget {
					t.Fatalf("after %d segments (%d bytes) the flows hold %d bytes, budget %d", segs, sent, held, budget)
				}
				if a.Stats().Buffered != uint64(held) {
					wrongGauge++
				}
			})
			st := a.Stats()
			t.Logf("%d segments, %d bytes; peak held %d; stats %+v", segs, sent, peak, st)
			if wrongGauge > 0 {
				t.Errorf("Stats.Buffered differed from what the flows hold after %d of %d segments", wrongGauge, segs)
			}
			if st.OverBudget == 0 || st.OverBudgetBytes == 0 {
				t.Errorf("nothing counted over budget: %+v", st)
			}
			// A whole message in one segment needs no buffer.
			send(9999, isn, []byte("\x00\x03abc"), 0)
			if len(msgs) != 1 || msgs[0] != "abc" {
				t.Errorf("after the attack, emitted %q, want [abc]", msgs)
			}
			a.CloseAll()
			if st := a.Stats(); st.Buffered != 0 || heldMemory(a) != 0 {
				t.Errorf("after CloseAll Stats.Buffered = %d", st.Buffered)
			}
		})
	}
}

// TestSegmentBytes checks the size that hold lists are charged per entry.
func TestSegmentBytes(t *testing.T) {
	if got := int(unsafe.Sizeof(segment{})); got != segmentBytes {
		t.Errorf("unsafe.Sizeof(segment{}) = %d, segmentBytes = %d", got, segmentBytes)
	}
}
