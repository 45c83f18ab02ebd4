package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
)

// FuzzReader feeds arbitrary bytes to NewReader and Next and checks that
// they never panic, that every record is consistent, and that reading ends
// in io.EOF or a *FormatError inside the input.
func FuzzReader(f *testing.F) {
	for _, name := range []string{
		"dns-oarc-dnscap__dns6.pcap",
		"zeek__dns_extended_rcode.pcap",
		"akvorado__sflow-icmpv6.pcap",
		"tcpdump__dns-badcookie.pcap",
		"nf9.pcap",
		"ndpi__dns-google-nsid.pcapng",
	} {
		b, err := os.ReadFile(capturePath(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ng, _ := twoInterfaces(f)
	f.Add(ng)
	sections, _ := twoSections(f)
	f.Add(sections)
	f.Add(buildPcap(f, binary.BigEndian, true, 1, 65535, pcapRec{sec: 1, frac: 2, data: []byte{1, 2, 3}}))
	f.Add(buildPcap(f, binary.LittleEndian, false, 0, 0, pcapRec{data: []byte{1}, wire: 1 << 31}))

	f.Fuzz(func(t *testing.T, data []byte) {
		checkWholeReader(t, data)
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			checkFormatError(t, err, len(data))
			return
		}
		var rec Record
		prevEnd := int64(0)
		for range 1 << 16 {
			err := r.Next(&rec)
			if err == io.EOF {
				if r.Offset() != int64(len(data)) {
					t.Fatalf("io.EOF at offset %d of %d", r.Offset(), len(data))
				}
				return
			}
			if err != nil {
				checkFormatError(t, err, len(data))
				if err2 := r.Next(&rec); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				return
			}
			if len(rec.Data) != rec.CapLen || rec.CapLen > MaxCapLen || rec.CapLen > rec.WireLen {
				t.Fatalf("record at %d: len(Data) %d, CapLen %d, WireLen %d",
					rec.Offset, len(rec.Data), rec.CapLen, rec.WireLen)
			}
			if rec.Offset < prevEnd || rec.Offset+int64(rec.CapLen) > r.Offset() || r.Offset() > int64(len(data)) {
				t.Fatalf("record offset %d, previous end %d, reader offset %d, input %d",
					rec.Offset, prevEnd, r.Offset(), len(data))
			}
			// The record's bytes are the input's bytes somewhere in its block.
			if !bytes.Contains(data[rec.Offset:r.Offset()], rec.Data) {
				t.Fatalf("record data at %d is not in the input", rec.Offset)
			}
			prevEnd = r.Offset()
		}
	})
}

// checkWholeReader checks that a Reader over the whole input in memory
// (how a mapped file is read) returns the same records and the same error
// as a Reader streaming it through its buffer.
func checkWholeReader(t *testing.T, data []byte) {
	t.Helper()
	s, errS := NewReader(bytes.NewReader(data))
	w := newWholeReader(data)
	errW := w.readHeader()
	if (errS == nil) != (errW == nil) || errS != nil && errS.Error() != errW.Error() {
		t.Fatalf("header: streaming %v, whole %v", errS, errW)
	}
	if errS != nil {
		return
	}
	var rs, rw Record
	for range 1 << 16 {
		errS, errW = s.Next(&rs), w.Next(&rw)
		if (errS == nil) != (errW == nil) || errS != nil && errS.Error() != errW.Error() {
			t.Fatalf("streaming %v, whole %v", errS, errW)
		}
		if errS != nil {
			return
		}
		if rs.Offset != rw.Offset || rs.TS != rw.TS || rs.WireLen != rw.WireLen || rs.LinkType != rw.LinkType ||
			!bytes.Equal(rs.Data, rw.Data) || s.Offset() != w.Offset() {
			t.Fatalf("record at %d differs: streaming %+v, whole %+v", rs.Offset, rs, rw)
		}
	}
}

// checkFormatError fails unless err is a *FormatError inside an input of n bytes.
func checkFormatError(tb testing.TB, err error, n int) {
	tb.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		tb.Fatalf("error %v (%T) is not a *FormatError", err, err)
	}
	if fe.Offset < 0 || fe.Offset > int64(n) {
		tb.Fatalf("error offset %d outside input of %d bytes", fe.Offset, n)
	}
	if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrBadMagic) {
		tb.Fatalf("error %v has no known cause", err)
	}
}
