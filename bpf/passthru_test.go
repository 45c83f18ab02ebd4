//go:build (386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm) && linux

package bpf

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// tcxNext is TCX_NEXT (TC_ACT_UNSPEC, -1) as BPF_PROG_TEST_RUN returns it.
const tcxNext = 0xffffffff

// TestPassthruGeneratedUpToDate is TestGeneratedUpToDate for passthru.c
// and the go:generate line of gen_passthru.go.
func TestPassthruGeneratedUpToDate(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("clang not on PATH")
	}
	if testing.Short() {
		t.Skip("builds bpf2go; skipped in -short mode")
	}
	args := generateArgsFrom(t, "gen_passthru.go")
	dir := t.TempDir()
	cmdArgs := append([]string{"run", args[0], "-output-dir", dir, "-go-package", "bpf"}, args[1:]...)
	cmd := exec.Command("go", cmdArgs...)
	cmd.Env = append(os.Environ(), "GOPACKAGE=bpf")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(cmdArgs, " "), err, out)
	}
	want, err := os.ReadFile(filepath.Join(dir, "passthru_bpfel.go"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("passthru_bpfel.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("passthru_bpfel.go is stale: run go generate ./bpf/")
	}
	fresh, err := ebpf.LoadCollectionSpec(filepath.Join(dir, "passthru_bpfel.o"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := LoadPassthruSpec()
	if err != nil {
		t.Fatal(err)
	}
	compareSpecs(t, committed, fresh)
}

// generateArgsFrom returns the bpf2go arguments of the go:generate line
// of file.
func generateArgsFrom(tb testing.TB, file string) []string {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "//go:generate go run "); ok {
			return strings.Fields(rest)
		}
	}
	tb.Fatalf("%s has no go:generate go run line", file)
	return nil
}

// TestPassthruSpec checks, without privileges, that the committed object
// has the shape the Go side relies on.
func TestPassthruSpec(t *testing.T) {
	spec, err := LoadPassthruSpec()
	if err != nil {
		t.Fatal(err)
	}
	progs := []struct {
		name   string
		typ    ebpf.ProgramType
		attach ebpf.AttachType
	}{
		{ProgPassthruXDP, ebpf.XDP, ebpf.AttachXDP},
		{ProgPassthruTC, ebpf.SchedCLS, ebpf.AttachTCXEgress},
		{ProgPassthruTCIngress, ebpf.SchedCLS, ebpf.AttachTCXIngress},
	}
	for _, p := range progs {
		ps, ok := spec.Programs[p.name]
		if !ok || ps.Type != p.typ || ps.AttachType != p.attach {
			t.Errorf("program %s: %v, want %v attached as %v", p.name, ps, p.typ, p.attach)
		}
	}
	maps := []struct {
		name       string
		typ        ebpf.MapType
		key, value uint32
		max        uint32
	}{
		{MapPassthruCounters, ebpf.PerCPUArray, 4, 16, PassthruNumClasses * NumDirections},
		{MapPassthruPorts, ebpf.Hash, 2, 1, PassthruMaxPorts},
		{MapPassthruConfig, ebpf.Array, 4, 8, 1},
		{MapPassthruScratch, ebpf.PerCPUArray, 4, PassthruRecordHeaderSize + PassthruMaxSnaplen, NumDirections},
		{MapPassthruEvents, ebpf.RingBuf, 0, 0, PassthruRingSize},
	}
	for _, tt := range maps {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := spec.Maps[tt.name]
			if !ok {
				t.Fatalf("map %s missing", tt.name)
			}
			if m.Type != tt.typ || m.KeySize != tt.key || m.ValueSize != tt.value || m.MaxEntries != tt.max {
				t.Errorf("map %s: %v key %d value %d max %d, want %v key %d value %d max %d",
					tt.name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, tt.typ, tt.key, tt.value, tt.max)
			}
		})
	}
}

// mustLoadPassthru loads the passthru objects, or skips tb when that is not
// allowed here.
func mustLoadPassthru(tb testing.TB, ringSize uint32) *PassthruObjects {
	tb.Helper()
	var objs PassthruObjects
	if err := LoadPassthruObjects(&objs, ringSize, nil); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, ebpf.ErrNotSupported) || os.Geteuid() != 0 {
			tb.Skipf("cannot load BPF here (needs root/CAP_BPF): %v", err)
		}
		tb.Fatalf("load: %+v", err)
	}
	tb.Cleanup(func() { objs.Close() })
	return &objs
}

// passthruCounters sums the per-CPU counters of both directions.
func passthruCounters(tb testing.TB, m *ebpf.Map) [NumDirections][PassthruNumClasses]PassthruCounter {
	tb.Helper()
	var out [NumDirections][PassthruNumClasses]PassthruCounter
	for d := range Direction(NumDirections) {
		for c := range PassthruNumClasses {
			var per []PassthruCounter
			if err := m.Lookup(PassthruCounterKey(d, c), &per); err != nil {
				tb.Fatalf("lookup counter %s %s: %v", d, PassthruClassNames[c], err)
			}
			for _, v := range per {
				out[d][c].Packets += v.Packets
				out[d][c].Bytes += v.Bytes
			}
		}
	}
	return out
}

// newRingReader opens a reader of objs' events ring; tb.Cleanup closes it.
func newRingReader(tb testing.TB, objs *PassthruObjects) *ringbuf.Reader {
	tb.Helper()
	rd, err := ringbuf.NewReader(objs.Events)
	if err != nil {
		tb.Fatalf("ringbuf reader: %v", err)
	}
	tb.Cleanup(func() { rd.Close() })
	return rd
}

// drain reads every record now in rd.
func drain(tb testing.TB, rd *ringbuf.Reader) []PassthruRecord {
	tb.Helper()
	var out []PassthruRecord
	for {
		rd.SetDeadline(time.Now().Add(10 * time.Millisecond))
		rec, err := rd.Read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return out
		}
		if err != nil {
			tb.Fatalf("read ring: %v", err)
		}
		r, err := ParsePassthruRecord(rec.RawSample)
		if err != nil {
			tb.Fatalf("record: %v", err)
		}
		out = append(out, r)
	}
}

// passthruProgs are the three programs with the direction they count in
// and the verdict that lets the frame pass.
func passthruProgs(objs *PassthruObjects) []struct {
	name    string
	prog    *ebpf.Program
	dir     Direction
	verdict uint32
} {
	return []struct {
		name    string
		prog    *ebpf.Program
		dir     Direction
		verdict uint32
	}{
		{"xdp", objs.PassthruXdp, DirIngress, xdpPass},
		{"tc egress", objs.PassthruTc, DirEgress, tcxNext},
		{"tc ingress", objs.PassthruTcIngress, DirIngress, tcxNext},
	}
}

// TestPassthruRecords runs every program on crafted frames: each passes
// the frame, counts its classes once in its direction, and writes one
// record holding the frame.
func TestPassthruRecords(t *testing.T) {
	objs := mustLoadPassthru(t, 0)
	rd := newRingReader(t, objs)
	big := eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1000, 53).bytes(1000)
	for i := range big {
		big[i] ^= byte(i) // make the bytes distinguishable
	}
	big = append(eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1000, 53), big[42:]...)
	tests := []struct {
		name    string
		frame   frame
		snaplen uint32
		want    []int // classes counted once, besides captured
		xdpOnly bool  // BPF_PROG_TEST_RUN refuses it for skb programs (EINVAL)
	}{
		{"ipv4 udp", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1000, 53).pad(), 0, []int{PassthruClassIPv4, PassthruClassUDP}, false},
		{"ipv4 tcp", eth(ethIPv4).ipv4(unix.IPPROTO_TCP, 5, 0).tcp(1000, 443).pad(), 0, []int{PassthruClassIPv4, PassthruClassTCP}, false},
		{"ipv4 options udp", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 7, 0).udp(1000, 53), 0, []int{PassthruClassIPv4, PassthruClassUDP}, false},
		{"ipv4 icmp", eth(ethIPv4).ipv4(unix.IPPROTO_ICMP, 5, 0).bytes(8).pad(), 0, []int{PassthruClassIPv4, PassthruClassOtherL4}, false},
		{"ipv4 later fragment", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 185).bytes(26), 0, []int{PassthruClassIPv4, PassthruClassOtherL4}, false},
		{"ipv4 truncated header", eth(ethIPv4).bytes(10), 0, []int{PassthruClassIPv4, PassthruClassParseErrors}, true},
		{"ipv4 ihl 4", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 4, 0).bytes(30), 0, []int{PassthruClassIPv4, PassthruClassParseErrors}, false},
		{"ipv4 ihl beyond frame", ihl15(eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).pad()), 0, []int{PassthruClassIPv4, PassthruClassParseErrors}, false},
		{"ipv4 truncated udp", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).bytes(4), 0, []int{PassthruClassIPv4, PassthruClassParseErrors}, false},
		{"ipv6 udp", eth(ethIPv6).ipv6(unix.IPPROTO_UDP).udp(1000, 53), 0, []int{PassthruClassIPv6, PassthruClassUDP}, false},
		{"ipv6 tcp", eth(ethIPv6).ipv6(unix.IPPROTO_TCP).tcp(1000, 443), 0, []int{PassthruClassIPv6, PassthruClassTCP}, false},
		{"ipv6 hop-by-hop", eth(ethIPv6).ipv6(0).bytes(8).udp(1000, 53), 0, []int{PassthruClassIPv6, PassthruClassOtherL4}, false},
		{"ipv6 truncated header", eth(ethIPv6).bytes(30), 0, []int{PassthruClassIPv6, PassthruClassParseErrors}, true},
		{"arp", eth(ethARP).bytes(28).pad(), 0, []int{PassthruClassOtherL3}, false},
		{"vlan ipv4 udp", eth(eth8021Q).vlan(eth8021Q, ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1000, 53).pad(), 0, []int{PassthruClassIPv4, PassthruClassUDP}, false},
		{"qinq ipv6 tcp", eth(0).vlan(eth8021AD, eth8021Q).vlan(eth8021Q, ethIPv6).ipv6(unix.IPPROTO_TCP).tcp(1000, 443), 0, []int{PassthruClassIPv6, PassthruClassTCP}, false},
		{"three vlan tags", eth(0).vlan(eth8021AD, eth8021Q).vlan(eth8021Q, eth8021Q).vlan(eth8021Q, ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1, 2), 0, []int{PassthruClassOtherL3}, false},
		{"vlan truncated tag", eth(eth8021Q).bytes(2), 0, []int{PassthruClassParseErrors}, false},
		{"snaplen 64", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1000, 53).bytes(58), 64, []int{PassthruClassIPv4, PassthruClassUDP}, false},
		{"snaplen 1 ", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1000, 53).pad(), 1, []int{PassthruClassIPv4, PassthruClassUDP}, false},
		{"snaplen above max", big, 4096, []int{PassthruClassIPv4, PassthruClassUDP}, false},
		{"1042 bytes, snaplen max", big, 0, []int{PassthruClassIPv4, PassthruClassUDP}, false},
		{"frame shorter than snaplen", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(1000, 53), 100, []int{PassthruClassIPv4, PassthruClassUDP}, false},
	}
	for _, p := range passthruProgs(objs) {
		t.Run(p.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if tt.xdpOnly && p.prog != objs.PassthruXdp {
						t.Skip("BPF_PROG_TEST_RUN refuses this frame for skb programs")
					}
					if err := objs.Config.Put(uint32(0), PassthruConfig{Snaplen: tt.snaplen}); err != nil {
						t.Fatal(err)
					}
					before := passthruCounters(t, objs.Counters)
					start := monotonicBootNS(t)
					ret, err := p.prog.Run(&ebpf.RunOptions{Data: tt.frame})
					if err != nil {
						t.Fatalf("run: %v", err)
					}
					end := monotonicBootNS(t)
					if ret != p.verdict {
						t.Errorf("verdict %#x, want %#x", ret, p.verdict)
					}
					after := passthruCounters(t, objs.Counters)
					var want [NumDirections][PassthruNumClasses]uint64
					want[p.dir][PassthruClassCaptured] = 1
					for _, c := range tt.want {
						want[p.dir][c]++
					}
					for d := range Direction(NumDirections) {
						for c := range PassthruNumClasses {
							dp := after[d][c].Packets - before[d][c].Packets
							db := after[d][c].Bytes - before[d][c].Bytes
							if dp != want[d][c] || db != want[d][c]*uint64(len(tt.frame)) {
								t.Errorf("%s %s: +%d packets +%d bytes, want +%d packets +%d bytes",
									d, PassthruClassNames[c], dp, db, want[d][c], want[d][c]*uint64(len(tt.frame)))
							}
						}
					}

					recs := drain(t, rd)
					if len(recs) != 1 {
						t.Fatalf("%d records, want 1", len(recs))
					}
					r := recs[0]
					snap := int(tt.snaplen)
					if snap == 0 || snap > PassthruMaxSnaplen {
						snap = PassthruMaxSnaplen
					}
					wantData := tt.frame[:min(len(tt.frame), snap)]
					if r.Dir != p.dir || r.WireLen != uint32(len(tt.frame)) || !bytes.Equal(r.Data, wantData) {
						t.Errorf("record dir %s wire %d data %x\nwant dir %s wire %d data %x", r.Dir, r.WireLen, r.Data, p.dir, len(tt.frame), wantData)
					}
					if r.BootNS < start || r.BootNS > end {
						t.Errorf("record time %d outside the run [%d, %d]", r.BootNS, start, end)
					}
				})
			}
		})
	}
}

// monotonicBootNS reads CLOCK_BOOTTIME, the clock of bpf_ktime_get_boot_ns.
func monotonicBootNS(tb testing.TB) uint64 {
	tb.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		tb.Fatal(err)
	}
	return uint64(ts.Nano())
}

func TestPassthruPortFilter(t *testing.T) {
	objs := mustLoadPassthru(t, 0)
	rd := newRingReader(t, objs)
	if err := objs.Ports.Put(uint16(9999), uint8(1)); err != nil {
		t.Fatal(err)
	}
	if err := objs.Config.Put(uint32(0), PassthruConfig{Flags: PassthruConfigFilterPorts}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		frame  frame
		record bool
	}{
		{"udp dst 9999", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 9999).pad(), true},
		{"udp src 9999", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(9999, 40000).pad(), true},
		{"tcp dst 9999", eth(ethIPv4).ipv4(unix.IPPROTO_TCP, 5, 0).tcp(40000, 9999).pad(), true},
		{"ipv6 udp dst 9999", eth(ethIPv6).ipv6(unix.IPPROTO_UDP).udp(40000, 9999), true},
		{"udp 9998", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 9998).pad(), false},
		{"byte-swapped 9999", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 0x0f27).pad(), false},
		{"icmp", eth(ethIPv4).ipv4(unix.IPPROTO_ICMP, 5, 0).bytes(8).pad(), false},
		{"arp", eth(ethARP).bytes(28).pad(), false},
		{"later fragment", eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 185).udp(40000, 9999).pad(), false},
	}
	for _, p := range passthruProgs(objs) {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				before := passthruCounters(t, objs.Counters)
				ret, err := p.prog.Run(&ebpf.RunOptions{Data: tt.frame})
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				if ret != p.verdict {
					t.Errorf("verdict %#x, want %#x", ret, p.verdict)
				}
				after := passthruCounters(t, objs.Counters)
				captured := after[p.dir][PassthruClassCaptured].Packets - before[p.dir][PassthruClassCaptured].Packets
				filtered := after[p.dir][PassthruClassFilteredOut].Packets - before[p.dir][PassthruClassFilteredOut].Packets
				recs := drain(t, rd)
				if tt.record {
					if captured != 1 || filtered != 0 || len(recs) != 1 || !bytes.Equal(recs[0].Data, tt.frame) {
						t.Errorf("captured +%d filtered_out +%d, %d records; want one record of the frame", captured, filtered, len(recs))
					}
				} else if captured != 0 || filtered != 1 || len(recs) != 0 {
					t.Errorf("captured +%d filtered_out +%d, %d records; want filtered out", captured, filtered, len(recs))
				}
			})
		}
	}
}

// TestPassthruRingbufFull fills a one-page ring buffer nobody reads: the
// records that do not fit count as ringbuf_full, the frames still pass,
// and the reader then finds exactly the captured ones.
func TestPassthruRingbufFull(t *testing.T) {
	page := uint32(os.Getpagesize())
	objs := mustLoadPassthru(t, page)
	f := eth(ethIPv4).ipv4(unix.IPPROTO_UDP, 5, 0).udp(40000, 53).pad()
	const n = 1000
	for _, p := range passthruProgs(objs) {
		t.Run(p.name, func(t *testing.T) {
			rd := newRingReader(t, objs)
			before := passthruCounters(t, objs.Counters)
			// One run per call (see TestRepeat).
			for range n {
				ret, err := p.prog.Run(&ebpf.RunOptions{Data: f, Repeat: 1})
				if err != nil {
					t.Fatal(err)
				}
				if ret != p.verdict {
					t.Fatalf("verdict %#x, want %#x", ret, p.verdict)
				}
			}
			after := passthruCounters(t, objs.Counters)
			captured := after[p.dir][PassthruClassCaptured].Packets - before[p.dir][PassthruClassCaptured].Packets
			full := after[p.dir][PassthruClassRingbufFull].Packets - before[p.dir][PassthruClassRingbufFull].Packets
			udp := after[p.dir][PassthruClassUDP].Packets - before[p.dir][PassthruClassUDP].Packets
			// 8 bytes of ring header + 24 + 60, rounded up to 8.
			perRecord := uint64(8 + PassthruRecordHeaderSize + len(f) + 7)
			perRecord -= perRecord % 8
			if want := uint64(page) / perRecord; captured != want || captured+full != n || udp != n {
				t.Errorf("captured %d ringbuf_full %d udp %d, want %d, %d and %d", captured, full, udp, want, n-want, n)
			}
			if got := len(drain(t, rd)); uint64(got) != captured {
				t.Errorf("read %d records, captured %d", got, captured)
			}
		})
	}
}
