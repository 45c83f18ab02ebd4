package pcapfile

import "io"

// Classic pcap magic numbers as read little-endian from the first four
// bytes (draft-ietf-opsawg-pcap, section 4). The swapped forms mean a
// big-endian file.
const (
	pcapMagicMicro        = 0xa1b2c3d4
	pcapMagicNano         = 0xa1b23c4d
	pcapMagicMicroSwapped = 0xd4c3b2a1
	pcapMagicNanoSwapped  = 0x4d3cb2a1
)

const (
	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
	// pcapLinkTypeMask keeps the link type bits of the header's LinkType
	// field, dropping the FCS length and F bit (draft-ietf-opsawg-pcap, 4).
	pcapLinkTypeMask = 0x03ffffff
)

// readPcapHeader consumes the 24-byte pcap file header whose magic, read
// little-endian, is magic.
func (r *Reader) readPcapHeader(magic uint32) error {
	h, err := r.peek(0, pcapFileHeaderLen)
	if err != nil {
		return err
	}
	r.format = FormatPcap
	r.big = magic == pcapMagicMicroSwapped || magic == pcapMagicNanoSwapped
	r.fracMul = 1000
	if magic == pcapMagicNano || magic == pcapMagicNanoSwapped {
		r.fracMul = 1
	}
	// Bytes 4..15 hold the version, the unused time zone and sigfigs.
	r.snaplen = r.u32(h[16:])
	r.linkType = r.u32(h[20:]) & pcapLinkTypeMask
	r.consume(pcapFileHeaderLen)
	return nil
}

// nextPcap reads one pcap record: a 16-byte header (seconds, fraction,
// captured length, original length) followed by the captured bytes.
func (r *Reader) nextPcap(rec *Record) error {
	start := r.off
	// Fast path: a valid record already whole in the buffer.
	if h := r.buf[r.rpos:r.wpos]; len(h) >= pcapRecordHeaderLen {
		capLen, wireLen := r.u32(h[8:]), r.u32(h[12:])
		if n := pcapRecordHeaderLen + int(capLen); capLen <= MaxCapLen && capLen <= wireLen && n <= len(h) {
			rec.TS = int64(r.u32(h[0:]))*1e9 + int64(r.u32(h[4:]))*r.fracMul
			rec.CapLen = int(capLen)
			rec.WireLen = int(wireLen)
			rec.LinkType = r.linkType
			rec.Data = h[pcapRecordHeaderLen:n:n]
			rec.Offset = start
			r.consume(n)
			return nil
		}
	}
	h, err := r.fill(pcapRecordHeaderLen)
	if len(h) < pcapRecordHeaderLen {
		if len(h) == 0 && err == io.EOF {
			return io.EOF
		}
		return readError(start, err)
	}
	sec := r.u32(h[0:])
	frac := r.u32(h[4:])
	capLen := r.u32(h[8:])
	wireLen := r.u32(h[12:])
	if capLen > MaxCapLen {
		return corruptf(start, "captured length %d exceeds %d", capLen, MaxCapLen)
	}
	if capLen > wireLen {
		return corruptf(start, "captured length %d exceeds original length %d", capLen, wireLen)
	}
	n := pcapRecordHeaderLen + int(capLen)
	b, err := r.peek(start, n)
	if err != nil {
		return err
	}
	r.consume(n)
	rec.TS = int64(sec)*1e9 + int64(frac)*r.fracMul
	rec.CapLen = int(capLen)
	rec.WireLen = int(wireLen)
	rec.LinkType = r.linkType
	rec.Data = b[pcapRecordHeaderLen:n:n]
	rec.Offset = start
	return nil
}
