package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// passthru.c is the kernel half of the host pass-through capture
// (internal/capture/ebpfcap): an XDP program (ingress) and TCX programs
// (egress, and ingress where XDP cannot attach) that share their maps,
// count every frame per class and direction, copy the first snaplen bytes
// of selected frames into the events ring buffer, and always let the
// frame pass. This file holds what the Go side shares with it: counter
// classes, directions, limits and the record layout.

// Counter classes of passthru.c, the class part of the counters map's
// index (see [PassthruCounterKey]); they mirror enum passthru_class.
const (
	PassthruClassIPv4 = iota
	PassthruClassIPv6
	PassthruClassOtherL3
	PassthruClassTCP
	PassthruClassUDP
	PassthruClassOtherL4
	PassthruClassParseErrors
	PassthruClassCaptured    // a record went into the ring buffer
	PassthruClassRingbufFull // the ring buffer was full: the record was lost
	PassthruClassFilteredOut // no port of the pre-filter: no record
	PassthruNumClasses       // number of classes per direction
)

// PassthruClassNames are the classes' names, indexed by class.
var PassthruClassNames = [PassthruNumClasses]string{
	PassthruClassIPv4:        "ipv4",
	PassthruClassIPv6:        "ipv6",
	PassthruClassOtherL3:     "other_l3",
	PassthruClassTCP:         "tcp",
	PassthruClassUDP:         "udp",
	PassthruClassOtherL4:     "other_l4",
	PassthruClassParseErrors: "parse_errors",
	PassthruClassCaptured:    "captured",
	PassthruClassRingbufFull: "ringbuf_full",
	PassthruClassFilteredOut: "filtered_out",
}

// Direction is the hook a passthru record or counter comes from.
type Direction uint8

// Directions, enum direction in passthru.c.
const (
	DirIngress    Direction = 0 // XDP, or TCX ingress
	DirEgress     Direction = 1 // TCX egress
	NumDirections           = 2
)

// String returns "ingress" or "egress".
func (d Direction) String() string {
	switch d {
	case DirIngress:
		return "ingress"
	case DirEgress:
		return "egress"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// PassthruCounterKey is the key of the counters map entry of class in
// direction d.
func PassthruCounterKey(d Direction, class int) uint32 {
	return uint32(d)*PassthruNumClasses + uint32(class)
}

// Limits and defaults compiled into passthru.c.
const (
	// PassthruMaxSnaplen bounds the bytes copied per frame; a config
	// snaplen of 0 or above it means PassthruMaxSnaplen.
	PassthruMaxSnaplen = 512
	// PassthruMaxPorts is the number of entries of the ports map.
	PassthruMaxPorts = 1024
	// PassthruRingSize is the default size of the events ring buffer.
	PassthruRingSize = 8 << 20
	// PassthruConfigFilterPorts is the bit of the config flags that
	// turns the port pre-filter on.
	PassthruConfigFilterPorts = 1 << 0
)

// PassthruRecordHeaderSize is the size of struct record_hdr, which
// starts every record of the events ring buffer:
//
//	offset 0  u64 ts        bpf_ktime_get_boot_ns (CLOCK_BOOTTIME)
//	offset 8  u32 wire_len  frame length (skb->len, or all XDP fragments)
//	offset 12 u32 cap_len   bytes of the frame that follow the header
//	offset 16 u8  direction 0 ingress, 1 egress
//	offset 17 7 bytes padding
const PassthruRecordHeaderSize = 24

// ErrBadRecord is wrapped by [ParsePassthruRecord]'s errors.
var ErrBadRecord = errors.New("malformed passthru record")

// PassthruRecord is one decoded ring buffer record.
type PassthruRecord struct {
	BootNS  uint64    // capture time, CLOCK_BOOTTIME nanoseconds
	WireLen uint32    // length of the frame on the wire
	Dir     Direction // hook that saw the frame
	Data    []byte    // the first cap_len bytes of the frame, aliasing the input
}

// ParsePassthruRecord decodes a record in native byte order (the ring
// buffer is host memory). Data aliases b. Records that are shorter than
// their header says, longer than the frame or with an unknown direction
// return an error wrapping [ErrBadRecord].
func ParsePassthruRecord(b []byte) (PassthruRecord, error) {
	if len(b) < PassthruRecordHeaderSize {
		return PassthruRecord{}, fmt.Errorf("%w: %d bytes, header needs %d", ErrBadRecord, len(b), PassthruRecordHeaderSize)
	}
	r := PassthruRecord{
		BootNS:  binary.NativeEndian.Uint64(b[0:8]),
		WireLen: binary.NativeEndian.Uint32(b[8:12]),
		Dir:     Direction(b[16]),
	}
	capLen := binary.NativeEndian.Uint32(b[12:16])
	switch {
	case uint64(capLen) > uint64(len(b)-PassthruRecordHeaderSize):
		return PassthruRecord{}, fmt.Errorf("%w: cap_len %d, %d bytes follow the header", ErrBadRecord, capLen, len(b)-PassthruRecordHeaderSize)
	case capLen > r.WireLen:
		return PassthruRecord{}, fmt.Errorf("%w: cap_len %d > wire_len %d", ErrBadRecord, capLen, r.WireLen)
	case r.Dir >= NumDirections:
		return PassthruRecord{}, fmt.Errorf("%w: direction %d", ErrBadRecord, r.Dir)
	}
	r.Data = b[PassthruRecordHeaderSize : PassthruRecordHeaderSize+int(capLen) : PassthruRecordHeaderSize+int(capLen)]
	return r, nil
}
