// Command gencap writes a synthetic DNS capture for benchmarks: N packets
// of UDP DNS queries and responses between clients in 10.1.0.0/16 and
// resolvers in 10.2.0.0/24 (plus a share of TCP DNS exchanges), with
// random names under a few hundred zones, realistic qtypes and rcodes, at a
// steady event-time rate. It writes classic pcap (microseconds, Ethernet).
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

func main() {
	n := flag.Int("n", 2_000_000, "packets to write")
	out := flag.String("o", "dns.pcap", "output file")
	pps := flag.Int("pps", 20000, "event-time packets per second")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := write(*out, *n, *pps, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
}

var qtypes = []uint16{1, 1, 1, 1, 28, 28, 28, 5, 15, 16, 2, 6, 33, 65, 12}

func write(path string, n, pps int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	w.Write(hdr)

	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	zipfZone := rand.NewZipf(rng, 1.2, 1, 499)
	ts := int64(1_700_000_000) * 1e6
	step := int64(1e6) / int64(pps)
	frame := make([]byte, 0, 600)
	msg := make([]byte, 0, 512)
	written := 0
	for written < n {
		client := [4]byte{10, 1, byte(rng.IntN(256)), byte(1 + rng.IntN(254))}
		server := [4]byte{10, 2, 0, byte(1 + rng.IntN(8))}
		sport := uint16(1024 + rng.IntN(64000))
		id := uint16(rng.Uint32())
		qt := qtypes[rng.IntN(len(qtypes))]
		name := fmt.Sprintf("h%d.s%d.zone%d.example", rng.IntN(100000), rng.IntN(50), zipfZone.Uint64())
		rcode := 0
		if rng.IntN(20) == 0 {
			rcode = 3
		}
		msg = dnsMsg(msg[:0], id, false, 0, name, qt, 0)
		frame = udpFrame(frame[:0], client, server, sport, 53, msg)
		writeRec(w, ts, frame)
		ts += step
		written++
		if written == n {
			break
		}
		answers := 0
		if rcode == 0 {
			answers = 1 + rng.IntN(3)
		}
		msg = dnsMsg(msg[:0], id, true, rcode, name, qt, answers)
		frame = udpFrame(frame[:0], server, client, 53, sport, msg)
		writeRec(w, ts+int64(rng.IntN(50000)), frame)
		ts += step
		written++
	}
	return w.Flush()
}

func writeRec(w *bufio.Writer, tsMicros int64, frame []byte) {
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(tsMicros/1e6))
	binary.LittleEndian.PutUint32(h[4:], uint32(tsMicros%1e6))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
	w.Write(h[:])
	w.Write(frame)
}

func dnsMsg(b []byte, id uint16, resp bool, rcode int, name string, qt uint16, answers int) []byte {
	flags := uint16(0x0100)
	if resp {
		flags = 0x8180 | uint16(rcode)
	}
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(answers))
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, 0)
	start := len(b)
	for len(name) > 0 {
		i := 0
		for i < len(name) && name[i] != '.' {
			i++
		}
		b = append(b, byte(i))
		b = append(b, name[:i]...)
		if i < len(name) {
			i++
		}
		name = name[i:]
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, qt)
	b = binary.BigEndian.AppendUint16(b, 1)
	for a := 0; a < answers; a++ {
		b = append(b, 0xc0|byte(start>>8), byte(start))
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint32(b, 300)
		b = binary.BigEndian.AppendUint16(b, 4)
		b = append(b, 192, 0, 2, byte(a+1))
	}
	return b
}

func udpFrame(b []byte, src, dst [4]byte, sport, dport uint16, payload []byte) []byte {
	b = append(b, 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00)
	ipStart := len(b)
	total := 20 + 8 + len(payload)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(total))
	b = append(b, 0, 0, 0x40, 0, 64, 17, 0, 0)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	var sum uint32
	for i := ipStart; i < ipStart+20; i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[ipStart+10:], ^uint16(sum))
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	return append(b, payload...)
}
