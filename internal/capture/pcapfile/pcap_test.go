package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// pcapRec is one record for buildPcap.
type pcapRec struct {
	sec, frac uint32
	data      []byte
	wire      uint32 // 0 means len(data)
}

// byteOrder is what the file builders need of binary.LittleEndian and
// binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// buildPcap returns a pcap file in byte order bo with the given records.
func buildPcap(tb testing.TB, bo byteOrder, nano bool, link, snap uint32, recs ...pcapRec) []byte {
	tb.Helper()
	magic := uint32(pcapMagicMicro)
	if nano {
		magic = pcapMagicNano
	}
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0) // thiszone
	b = bo.AppendUint32(b, 0) // sigfigs
	b = bo.AppendUint32(b, snap)
	b = bo.AppendUint32(b, link)
	for _, r := range recs {
		wire := r.wire
		if wire == 0 {
			wire = uint32(len(r.data))
		}
		b = bo.AppendUint32(b, r.sec)
		b = bo.AppendUint32(b, r.frac)
		b = bo.AppendUint32(b, uint32(len(r.data)))
		b = bo.AppendUint32(b, wire)
		b = append(b, r.data...)
	}
	return b
}

// readAny reads data to the end, returning the records before the first
// error and that error, whether NewReader or Next reported it.
func readAny(tb testing.TB, data []byte) ([]Record, error) {
	tb.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return readAllT(tb, r)
}

// wantFormatError fails unless err is a *FormatError at off matching cause.
func wantFormatError(tb testing.TB, err error, off int64, cause error) {
	tb.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		tb.Fatalf("error = %v (%T), want *FormatError", err, err)
	}
	if fe.Offset != off || !errors.Is(err, cause) {
		tb.Fatalf("error = %v, want offset %d and cause %v", err, off, cause)
	}
}

func TestPcapHandBytes(t *testing.T) {
	tests := []struct {
		name     string
		file     []byte
		linkType uint32
		snaplen  uint32
		want     Record
	}{
		{
			name: "big-endian microseconds",
			file: []byte{
				0xa1, 0xb2, 0xc3, 0xd4, 0x00, 0x02, 0x00, 0x04, // magic, version 2.4
				0, 0, 0, 0, 0, 0, 0, 0, // thiszone, sigfigs
				0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, // snaplen 65535, Ethernet
				0x5f, 0x5e, 0x10, 0x00, 0x00, 0x0f, 0x42, 0x3f, // 1600000000 s, 999999 us
				0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x06, // caplen 4, len 6
				0xde, 0xad, 0xbe, 0xef,
			},
			linkType: 1, snaplen: 65535,
			want: Record{TS: 1600000000999999000, CapLen: 4, WireLen: 6, LinkType: 1,
				Data: []byte{0xde, 0xad, 0xbe, 0xef}, Offset: 24},
		},
		{
			name: "little-endian nanoseconds, FCS bits in link type",
			file: []byte{
				0x4d, 0x3c, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00,
				0, 0, 0, 0, 0, 0, 0, 0,
				0x00, 0x00, 0x04, 0x00, 0xe4, 0x00, 0x00, 0x14, // snaplen 0x40000, LINKTYPE_IPV4 with F bit and FCS length
				0x00, 0x10, 0x5e, 0x5f, 0xff, 0xc9, 0x9a, 0x3b, // 1600000000 s, 999999999 ns
				0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
				0x45, 0x00,
			},
			linkType: 228, snaplen: 0x40000,
			want: Record{TS: 1600000000999999999, CapLen: 2, WireLen: 2, LinkType: 228,
				Data: []byte{0x45, 0x00}, Offset: 24},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustReader(t, bytes.NewReader(tc.file))
			if r.Format() != FormatPcap || r.LinkType() != tc.linkType || r.Snaplen() != tc.snaplen || r.Size() != -1 {
				t.Errorf("Format, LinkType, Snaplen, Size = %v, %d, %d, %d, want pcap, %d, %d, -1",
					r.Format(), r.LinkType(), r.Snaplen(), r.Size(), tc.linkType, tc.snaplen)
			}
			recs, err := readAllT(t, r)
			if err != io.EOF {
				t.Fatalf("read: %v", err)
			}
			if len(recs) != 1 {
				t.Fatalf("records = %d, want 1", len(recs))
			}
			assertRecord(t, recs[0], tc.want)
			if r.Offset() != int64(len(tc.file)) {
				t.Errorf("Offset() = %d, want %d", r.Offset(), len(tc.file))
			}
		})
	}
}

// assertRecord compares two records field by field.
func assertRecord(tb testing.TB, got, want Record) {
	tb.Helper()
	if got.TS != want.TS || got.CapLen != want.CapLen || got.WireLen != want.WireLen ||
		got.LinkType != want.LinkType || got.Offset != want.Offset || !bytes.Equal(got.Data, want.Data) {
		tb.Errorf("record = %+v, want %+v", got, want)
	}
}

func TestPcapCrafted(t *testing.T) {
	recs := []pcapRec{
		{sec: 1, frac: 2, data: []byte{1, 2, 3}},
		{sec: 0xffffffff, frac: 999999, data: nil, wire: 60},
		{sec: 1700000000, frac: 5, data: bytes.Repeat([]byte{7}, 1500), wire: 9000},
	}
	tests := []struct {
		name   string
		bo     byteOrder
		nano   bool
		wantTS []int64
	}{
		{"little-endian micro", binary.LittleEndian, false, []int64{1000002000, 4294967295999999000, 1700000000000005000}},
		{"big-endian micro", binary.BigEndian, false, []int64{1000002000, 4294967295999999000, 1700000000000005000}},
		{"little-endian nano", binary.LittleEndian, true, []int64{1000000002, 4294967295000999999, 1700000000000000005}},
		{"big-endian nano", binary.BigEndian, true, []int64{1000000002, 4294967295000999999, 1700000000000000005}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAny(t, buildPcap(t, tc.bo, tc.nano, 113, 2000, recs...))
			if err != io.EOF {
				t.Fatalf("read: %v", err)
			}
			if len(got) != len(recs) {
				t.Fatalf("records = %d, want %d", len(got), len(recs))
			}
			off := int64(pcapFileHeaderLen)
			for i, r := range recs {
				wire := int(r.wire)
				if wire == 0 {
					wire = len(r.data)
				}
				assertRecord(t, got[i], Record{TS: tc.wantTS[i], CapLen: len(r.data), WireLen: wire,
					LinkType: 113, Data: r.data, Offset: off})
				off += pcapRecordHeaderLen + int64(len(r.data))
			}
		})
	}
}

func TestPcapCorrupt(t *testing.T) {
	good := pcapRec{sec: 10, frac: 20, data: []byte{1, 2, 3, 4}}
	bad := int64(pcapFileHeaderLen + pcapRecordHeaderLen + 4)
	tests := []struct {
		name string
		file func() []byte
	}{
		{"caplen above MaxCapLen", func() []byte {
			b := buildPcap(t, binary.LittleEndian, false, 1, 65535, good, pcapRec{data: []byte{9}})
			binary.LittleEndian.PutUint32(b[bad+8:], MaxCapLen+1)
			binary.LittleEndian.PutUint32(b[bad+12:], MaxCapLen+1)
			return b
		}},
		{"caplen above wirelen", func() []byte {
			return buildPcap(t, binary.BigEndian, false, 1, 65535, good, pcapRec{data: []byte{1, 2, 3}, wire: 2})
		}},
		{"garbage header", func() []byte {
			b := buildPcap(t, binary.LittleEndian, true, 1, 65535, good)
			return append(b, bytes.Repeat([]byte{0xff}, 40)...)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := readAny(t, tc.file())
			if len(recs) != 1 || !bytes.Equal(recs[0].Data, good.data) {
				t.Errorf("records before the break = %+v, want the good one", recs)
			}
			wantFormatError(t, err, bad, ErrCorrupt)
		})
	}
}

func TestBadHeader(t *testing.T) {
	tests := []struct {
		name  string
		file  []byte
		cause error
	}{
		{"empty", nil, ErrTruncated},
		{"two bytes", []byte{0xd4, 0xc3}, ErrTruncated},
		{"text", []byte("GET / HTTP/1.1\r\n\r\n............"), ErrBadMagic},
		{"short pcap header", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}, ErrTruncated},
		{"short pcapng header", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0}, ErrTruncated},
		{"pcapng bad byte-order magic", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0,
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0}, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.file))
			if r != nil {
				t.Errorf("NewReader returned a Reader with error %v", err)
			}
			wantFormatError(t, err, 0, tc.cause)
		})
	}
}
