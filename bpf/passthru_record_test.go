package bpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// record builds a ring buffer record as passthru.c writes it.
func record(ts uint64, wire, capLen uint32, dir byte, data []byte) []byte {
	b := make([]byte, PassthruRecordHeaderSize, PassthruRecordHeaderSize+len(data))
	binary.NativeEndian.PutUint64(b[0:], ts)
	binary.NativeEndian.PutUint32(b[8:], wire)
	binary.NativeEndian.PutUint32(b[12:], capLen)
	b[16] = dir
	return append(b, data...)
}

func TestParsePassthruRecord(t *testing.T) {
	data := []byte{1, 2, 3, 4, 5, 6}
	tests := []struct {
		name    string
		in      []byte
		want    PassthruRecord
		wantErr bool
	}{
		{"ingress", record(42, 60, 6, 0, data), PassthruRecord{BootNS: 42, WireLen: 60, Dir: DirIngress, Data: data}, false},
		{"egress", record(7, 6, 6, 1, data), PassthruRecord{BootNS: 7, WireLen: 6, Dir: DirEgress, Data: data}, false},
		{"empty capture", record(7, 1500, 0, 1, nil), PassthruRecord{BootNS: 7, WireLen: 1500, Dir: DirEgress, Data: []byte{}}, false},
		{"trailing bytes ignored", record(1, 60, 2, 0, data), PassthruRecord{BootNS: 1, WireLen: 60, Data: data[:2]}, false},
		{"short header", record(1, 60, 0, 0, nil)[:23], PassthruRecord{}, true},
		{"cap beyond record", record(1, 60, 7, 0, data), PassthruRecord{}, true},
		{"cap beyond wire", record(1, 5, 6, 0, data), PassthruRecord{}, true},
		{"bad direction", record(1, 60, 6, 2, data), PassthruRecord{}, true},
		{"huge cap", record(1, 60, 0xffffffff, 0, data), PassthruRecord{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePassthruRecord(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrBadRecord) {
					t.Fatalf("error %v, want ErrBadRecord", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.BootNS != tt.want.BootNS || got.WireLen != tt.want.WireLen || got.Dir != tt.want.Dir || !bytes.Equal(got.Data, tt.want.Data) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPassthruCounterKey(t *testing.T) {
	seen := map[uint32]bool{}
	for d := range Direction(NumDirections) {
		for c := range PassthruNumClasses {
			k := PassthruCounterKey(d, c)
			if seen[k] || k >= PassthruNumClasses*NumDirections {
				t.Errorf("%s %s: key %d repeated or out of range", d, PassthruClassNames[c], k)
			}
			seen[k] = true
		}
	}
	for i, n := range PassthruClassNames {
		if n == "" {
			t.Errorf("class %d has no name", i)
		}
	}
}

func FuzzParsePassthruRecord(f *testing.F) {
	f.Add(record(42, 60, 6, 0, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(record(1, 5, 6, 2, []byte{1, 2, 3, 4, 5, 6}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParsePassthruRecord(b)
		if err != nil {
			return
		}
		if len(r.Data) > int(r.WireLen) || len(r.Data)+PassthruRecordHeaderSize > len(b) || r.Dir >= NumDirections {
			t.Fatalf("accepted inconsistent record %+v from %d bytes", r, len(b))
		}
	})
}
