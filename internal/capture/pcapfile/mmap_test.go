package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestOpenMappedSameRecords: a mapped Reader returns exactly the records
// of a reading one, for every real capture (pcap and pcapng), and every
// record's Data stays valid until Close.
func TestOpenMappedSameRecords(t *testing.T) {
	for _, tc := range captureTruth {
		t.Run(tc.name, func(t *testing.T) {
			path := capturePath(t, tc.name)
			want, wantErr := readAllT(t, openT(t, path))
			r, err := OpenMapped(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if !r.Mapped() {
				t.Skip("this platform does not map files")
			}
			if r.Format() != tc.format || r.LinkType() != tc.linkType {
				t.Errorf("format %v link %d, want %v %d", r.Format(), r.LinkType(), tc.format, tc.linkType)
			}
			var got []Record
			var gotErr error
			for {
				var rec Record
				if gotErr = r.Next(&rec); gotErr != nil {
					break
				}
				got = append(got, rec) // no copy: Data must stay valid
			}
			if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
				t.Errorf("final error %v, want %v", gotErr, wantErr)
			}
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if g.TS != w.TS || g.WireLen != w.WireLen || g.LinkType != w.LinkType || g.Offset != w.Offset ||
					!bytes.Equal(g.Data, w.Data) {
					t.Fatalf("record %d differs: %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestOpenMappedFallback: what cannot be mapped is read, and errors are
// those of Open.
func TestOpenMappedFallback(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenMapped(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	empty := filepath.Join(dir, "empty.pcap")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var fe *FormatError
	if _, err := OpenMapped(empty); !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) {
		t.Errorf("empty file: %v, want a truncated header", err)
	}
	text := filepath.Join(dir, "text.pcap")
	if err := os.WriteFile(text, []byte("hello, world, this is not a capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenMapped(text); !errors.As(err, &fe) || fe.Offset != 0 || !errors.Is(err, ErrBadMagic) {
		t.Errorf("text file: %v, want FormatError at 0 wrapping ErrBadMagic", err)
	}
	// A pipe is not a regular file: it is read.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		pw.Write(buildPcap(t, binary.LittleEndian, false, 1, 65535, pcapRec{sec: 1, data: []byte{1, 2, 3}}))
		pw.Close()
	}()
	defer pr.Close()
	r, err := OpenMapped("/dev/fd/" + strconv.Itoa(int(pr.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Mapped() {
		t.Error("a pipe was mapped")
	}
	recs, err := readAllT(t, r)
	if len(recs) != 1 || err != io.EOF {
		t.Errorf("pipe: %d records, %v; want 1 and EOF", len(recs), err)
	}
}

// bigCapture writes a pcap file of about size bytes of 1,000-byte records
// whose first 8 bytes hold the record's index, and returns its path.
func bigCapture(t *testing.T, size int) (string, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := buildPcap(t, binary.LittleEndian, false, 1, 65535)
	n := 0
	data := make([]byte, 1000)
	for len(w) < size {
		binary.LittleEndian.PutUint64(data, uint64(n))
		w = append(w, buildPcap(t, binary.LittleEndian, false, 1, 65535, pcapRec{sec: uint32(n), data: data})[pcapFileHeaderLen:]...)
		n++
		if len(w) >= 4<<20 {
			if _, err := f.Write(w); err != nil {
				t.Fatal(err)
			}
			size -= len(w)
			w = w[:0]
		}
	}
	if _, err := f.Write(w); err != nil {
		t.Fatal(err)
	}
	return path, n
}

// TestMappedDropBehind: reading a file larger than the resident window
// drops the pages behind it, and records read before still hold their
// bytes.
func TestMappedDropBehind(t *testing.T) {
	path, n := bigCapture(t, mapResident+4*mapDropStep)
	r := openMappedT(t, path)
	var first Record
	if err := r.Next(&first); err != nil {
		t.Fatal(err)
	}
	var rec Record
	i := 1
	for ; r.Next(&rec) == nil; i++ {
		if got := binary.LittleEndian.Uint64(rec.Data); got != uint64(i) {
			t.Fatalf("record %d holds %d", i, got)
		}
	}
	if i != n {
		t.Fatalf("read %d records, want %d", i, n)
	}
	if rss, ok := mappingRSS(t, r.mapped); ok && rss > mapResident+2*mapDropStep {
		t.Errorf("%d bytes of the mapping resident, want at most %d", rss, mapResident+2*mapDropStep)
	}
	if r.dropped < 3*mapDropStep {
		t.Errorf("dropped %d bytes of %d; want at least %d", r.dropped, r.Size(), 3*mapDropStep)
	}
	if got := binary.LittleEndian.Uint64(first.Data); got != 0 || len(first.Data) != 1000 {
		t.Errorf("first record after the drop: index %d, %d bytes", got, len(first.Data))
	}
}

// openMappedT opens path mapped, skipping the test where files are not
// mapped, and registers its Close.
func openMappedT(t *testing.T, path string) *Reader {
	t.Helper()
	r, err := OpenMapped(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if !r.Mapped() {
		t.Skip("this platform does not map files")
	}
	return r
}

// readGuarded reads r to its end as a reader of a mapped file must, inside
// Guard, and returns the records' count and the final error (the fault's,
// if one happened). Each record's first 8 bytes must hold its index.
func readGuarded(t *testing.T, r *Reader) (records int, err error) {
	t.Helper()
	fault := r.Guard(func() {
		var rec Record
		for {
			if err = r.Next(&rec); err != nil {
				return
			}
			if len(rec.Data) < 8 || binary.LittleEndian.Uint64(rec.Data) != uint64(records) {
				t.Fatalf("record %d: %d bytes, %x...", records, len(rec.Data), rec.Data[:min(8, len(rec.Data))])
			}
			records++
		}
	})
	if fault != nil {
		return records, fault
	}
	return records, err
}

// TestMappedShrink: a file truncated under its mapping gives an error
// wrapping ErrShrunk at the file's new size, whether the cut is on a page
// boundary (the next touch faults, and Fault turns the recovered value
// into the error) or inside a page (which reads as zeros up to its end:
// Next sees the zeros and checks). No record of zeros comes out.
func TestMappedShrink(t *testing.T) {
	for _, keep := range []int64{64 << 10, 64<<10 + 1000, 64<<10 + 24 + 1016*3} {
		t.Run(strconv.FormatInt(keep, 10), func(t *testing.T) {
			path, _ := bigCapture(t, 1<<20)
			r := openMappedT(t, path)
			if err := os.Truncate(path, keep); err != nil {
				t.Fatal(err)
			}
			records, err := readGuarded(t, r)
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, ErrShrunk) || fe.Offset != keep {
				t.Fatalf("err = %v, want ErrShrunk at byte %d", err, keep)
			}
			// The whole records before the cut, and maybe the one it
			// splits (its header and first bytes are still there).
			if whole := int(keep-pcapFileHeaderLen) / 1016; records < whole || records > whole+1 {
				t.Errorf("%d records before the cut, want %d or %d", records, whole, whole+1)
			}
		})
	}
	r := openMappedT(t, capturePath(t, "dns-oarc-dnscap__dns6.pcap"))
	if r.Fault("some panic") != nil || r.Fault(errors.New("x")) != nil {
		t.Error("Fault accepted a value that is not a memory fault")
	}
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want Guard to pass the panic on", v)
			}
		}()
		r.Guard(func() { panic("boom") })
		t.Error("Guard swallowed a panic")
	}()
}

// TestMappedShrinkPcapNG: a pcapng file cut inside a page reports
// ErrShrunk, not the corrupt block that the zeros look like.
func TestMappedShrinkPcapNG(t *testing.T) {
	src, err := os.ReadFile(capturePath(t, "ndpi__dns-google-nsid.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	r := openMappedT(t, path)
	keep := int64(len(src) / 2)
	if err := os.Truncate(path, keep); err != nil {
		t.Fatal(err)
	}
	_, err = readAllT(t, r)
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrShrunk) || fe.Offset != keep {
		t.Fatalf("err = %v, want ErrShrunk at byte %d", err, keep)
	}
}

// mappingRSS returns the resident bytes of the mapping m from
// /proc/self/smaps, if the system has it.
func mappingRSS(t *testing.T, m []byte) (int64, bool) {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, false
	}
	start := strconv.FormatUint(uint64(uintptr(unsafe.Pointer(unsafe.SliceData(m)))), 16)
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "-") {
			in = strings.TrimLeft(strings.SplitN(f[0], "-", 2)[0], "0") == start
			continue
		}
		if in && strings.HasPrefix(line, "Rss:") {
			f := strings.Fields(line)
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q", line)
			}
			return kb << 10, true
		}
	}
	t.Fatalf("mapping at %s not in /proc/self/smaps", start)
	return 0, false
}
