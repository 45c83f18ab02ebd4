package pcapfile

import (
	"encoding/binary"
	"io"
	"math/bits"
)

// Block types (draft-ietf-opsawg-pcapng, section 11.1). Blocks of any other
// type (Name Resolution, Interface Statistics, Decryption Secrets, custom,
// unknown) are skipped after their trailer is checked.
const (
	blockSHB = 0x0a0d0d0a // Section Header Block, section 4.1
	blockIDB = 0x00000001 // Interface Description Block, section 4.2
	blockPB  = 0x00000002 // Packet Block (obsolete), appendix A
	blockSPB = 0x00000003 // Simple Packet Block, section 4.4
	blockEPB = 0x00000006 // Enhanced Packet Block, section 4.3
)

const (
	byteOrderMagic = 0x1a2b3c4d // SHB byte-order magic, section 4.1

	// Option codes (sections 3.5 and 4.2).
	optEndOfOpt = 0
	optTSResol  = 9
	optTSOffset = 14

	blockHeaderLen = 8  // type and total length
	minBlockLen    = 12 // header and trailing total length
	minSHBLen      = 28 // header, magic, version, section length, trailer
	minIDBLen      = 20 // header, link type, reserved, snaplen, trailer
	minSPBLen      = 16 // header, original length, trailer
	minEPBLen      = 32 // header, interface, timestamp, two lengths, trailer

	// maxInterfaces bounds the interfaces of one section so that a hostile
	// file cannot grow the interface table without limit.
	maxInterfaces = 1 << 16
)

// Timestamp conversions of an interface.
const (
	tsMul   = iota // ns = ts * mul (resolution 10^-n with n <= 9, or 2^0)
	tsDiv          // resolution 10^-n with 9 < n <= 19
	tsShift        // resolution 2^-n with 0 < n <= 63
)

// iface is one pcapng interface of the current section.
type iface struct {
	linkType uint32
	snaplen  uint32
	tsKind   uint8
	tsShift  uint8
	tsMul    int64  // tsMul: nanoseconds per tick
	tsUnits  uint64 // tsDiv: ticks per second
	tsOffset int64  // if_tsoffset in nanoseconds
}

// nanos converts a timestamp in the interface's ticks to Unix nanoseconds.
// Values beyond the int64 range wrap; they never panic.
func (f *iface) nanos(ts uint64) int64 {
	switch f.tsKind {
	case tsDiv:
		sec, frac := ts/f.tsUnits, ts%f.tsUnits
		hi, lo := bits.Mul64(frac, 1e9)
		ns, _ := bits.Div64(hi, lo, f.tsUnits) // hi < tsUnits because frac < tsUnits
		return int64(sec)*1e9 + int64(ns) + f.tsOffset
	case tsShift:
		s := uint(f.tsShift)
		sec, frac := ts>>s, ts&(1<<s-1)
		hi, lo := bits.Mul64(frac, 1e9)
		return int64(sec)*1e9 + int64(lo>>s|hi<<(64-s)) + f.tsOffset
	}
	return int64(ts)*f.tsMul + f.tsOffset
}

// setResolution applies an if_tsresol value: bit 7 clear means 10^-n
// seconds per tick, set means 2^-n. It reports false for resolutions
// finer than 10^-19 or 2^-63, which cannot be converted.
func (f *iface) setResolution(v uint8) bool {
	n := uint(v & 0x7f)
	if v&0x80 != 0 {
		if n > 63 {
			return false
		}
		if n == 0 {
			f.tsKind, f.tsMul = tsMul, 1e9
			return true
		}
		f.tsKind, f.tsShift = tsShift, uint8(n)
		return true
	}
	if n > 19 {
		return false
	}
	p := uint64(1)
	for range n {
		p *= 10
	}
	if n <= 9 {
		f.tsKind, f.tsMul = tsMul, int64(1e9/p)
		return true
	}
	f.tsKind, f.tsUnits = tsDiv, p
	return true
}

// readPcapNGHeader reads the first Section Header Block, then blocks up to
// and including the first Interface Description Block, stopping early at a
// packet block or at the end of the input (which Next then reports).
func (r *Reader) readPcapNGHeader() error {
	r.format = FormatPcapNG
	if err := r.readSHB(0); err != nil {
		return err
	}
	for !r.sawIDB {
		h, _ := r.fill(4)
		if len(h) < 4 {
			return nil
		}
		switch r.u32(h) {
		case blockEPB, blockSPB, blockPB:
			return nil
		}
		if _, err := r.readBlock(nil); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	return nil
}

// nextPcapNG reads blocks until one holds a packet.
func (r *Reader) nextPcapNG(rec *Record) error {
	for {
		got, err := r.readBlock(rec)
		if err != nil || got {
			return err
		}
	}
}

// readBlock reads one block. It fills rec and reports true for a packet
// block; rec may be nil when the caller knows the block is not one.
func (r *Reader) readBlock(rec *Record) (bool, error) {
	start := r.off
	h, err := r.fill(blockHeaderLen)
	if len(h) < blockHeaderLen {
		if len(h) == 0 && err == io.EOF {
			return false, io.EOF
		}
		return false, readError(start, err)
	}
	typ := r.u32(h) // the SHB type reads the same in both byte orders
	if typ == blockSHB {
		return false, r.readSHB(start)
	}
	blen := r.u32(h[4:])
	if blen < minBlockLen || blen%4 != 0 {
		return false, corruptf(start, "block type %#x has bad length %d", typ, blen)
	}
	switch typ {
	case blockEPB, blockPB, blockSPB:
		return true, r.readPacketBlock(start, typ, blen, rec)
	case blockIDB:
		return false, r.readIDB(start, blen)
	}
	return false, r.skipBlock(start, blen)
}

// readSHB reads a Section Header Block at start: it sets the byte order of
// the new section and forgets the interfaces of the previous one.
func (r *Reader) readSHB(start int64) error {
	h, err := r.peek(start, 16)
	if err != nil {
		return err
	}
	switch binary.BigEndian.Uint32(h[8:]) {
	case byteOrderMagic:
		r.big = true
	case 0x4d3c2b1a:
		r.big = false
	default:
		return corruptf(start, "bad section byte-order magic %#08x", binary.BigEndian.Uint32(h[8:]))
	}
	blen := r.u32(h[4:])
	if blen < minSHBLen || blen%4 != 0 {
		return corruptf(start, "section header has bad length %d", blen)
	}
	if major := r.u16(h[12:]); major != 1 {
		return corruptf(start, "unsupported pcapng major version %d", major)
	}
	r.ifaces = r.ifaces[:0]
	return r.skipBlock(start, blen)
}

// skipBlock consumes a block of length blen at start, checking that its
// trailing length repeats blen.
func (r *Reader) skipBlock(start int64, blen uint32) error {
	if err := r.discard(start, int(blen)-4); err != nil {
		return err
	}
	t, err := r.peek(start, 4)
	if err != nil {
		return err
	}
	if tl := r.u32(t); tl != blen {
		return corruptf(start, "block trailer length %d differs from block length %d", tl, blen)
	}
	r.consume(4)
	return nil
}

// wholeBlock returns the complete block at start, which must fit the read
// buffer, after checking its trailer. It consumes nothing.
func (r *Reader) wholeBlock(start int64, blen uint32) ([]byte, error) {
	if blen > bufSize {
		return nil, corruptf(start, "block length %d exceeds %d", blen, bufSize)
	}
	b, err := r.peek(start, int(blen))
	if err != nil {
		return nil, err
	}
	if tl := r.u32(b[blen-4:]); tl != blen {
		return nil, corruptf(start, "block trailer length %d differs from block length %d", tl, blen)
	}
	return b, nil
}

// readIDB reads an Interface Description Block and appends its interface.
func (r *Reader) readIDB(start int64, blen uint32) error {
	if blen < minIDBLen {
		return corruptf(start, "interface block has bad length %d", blen)
	}
	b, err := r.wholeBlock(start, blen)
	if err != nil {
		return err
	}
	if len(r.ifaces) >= maxInterfaces {
		return corruptf(start, "more than %d interfaces in a section", maxInterfaces)
	}
	f := iface{
		linkType: uint32(r.u16(b[8:])),
		snaplen:  r.u32(b[12:]),
		tsKind:   tsMul,
		tsMul:    1000, // default resolution 10^-6
	}
	opts := b[16 : blen-4]
	for len(opts) >= 4 {
		code, n := r.u16(opts), int(r.u16(opts[2:]))
		if code == optEndOfOpt {
			break
		}
		if 4+n > len(opts) {
			return corruptf(start, "interface option %d of length %d overruns the block", code, n)
		}
		v := opts[4 : 4+n]
		switch {
		case code == optTSResol && n == 1:
			if !f.setResolution(v[0]) {
				return corruptf(start, "unsupported timestamp resolution %#x", v[0])
			}
		case code == optTSOffset && n == 8:
			f.tsOffset = int64(r.u64(v)) * 1e9
		}
		opts = opts[min(4+(n+3)&^3, len(opts)):]
	}
	r.ifaces = append(r.ifaces, f)
	if !r.sawIDB {
		r.sawIDB = true
		r.linkType, r.snaplen = f.linkType, f.snaplen
	}
	r.consume(int(blen))
	return nil
}

// readPacketBlock reads an Enhanced, Simple or obsolete Packet Block into rec.
func (r *Reader) readPacketBlock(start int64, typ, blen uint32, rec *Record) error {
	var (
		ifid            uint32
		ts              uint64
		capLen, wireLen uint32
		dataOff         uint32
	)
	switch typ {
	case blockEPB, blockPB:
		if blen < minEPBLen {
			return corruptf(start, "packet block has bad length %d", blen)
		}
		h, err := r.peek(start, 28)
		if err != nil {
			return err
		}
		if typ == blockEPB {
			ifid = r.u32(h[8:])
		} else {
			ifid = uint32(r.u16(h[8:])) // followed by a 16-bit drops count
		}
		ts = uint64(r.u32(h[12:]))<<32 | uint64(r.u32(h[16:]))
		capLen, wireLen, dataOff = r.u32(h[20:]), r.u32(h[24:]), 28
		if capLen > MaxCapLen {
			return corruptf(start, "captured length %d exceeds %d", capLen, MaxCapLen)
		}
		if capLen > blen-minEPBLen {
			return corruptf(start, "captured length %d overruns block length %d", capLen, blen)
		}
		if capLen > wireLen {
			return corruptf(start, "captured length %d exceeds original length %d", capLen, wireLen)
		}
	case blockSPB:
		if blen < minSPBLen {
			return corruptf(start, "simple packet block has bad length %d", blen)
		}
		h, err := r.peek(start, 12)
		if err != nil {
			return err
		}
		// The captured length is implied: the original length, cut to the
		// block and to the snapshot length of interface 0 (section 4.4).
		wireLen, dataOff = r.u32(h[8:]), 12
		capLen = min(wireLen, blen-minSPBLen)
		if len(r.ifaces) > 0 && r.ifaces[0].snaplen != 0 {
			capLen = min(capLen, r.ifaces[0].snaplen)
		}
		if capLen > MaxCapLen {
			return corruptf(start, "captured length %d exceeds %d", capLen, MaxCapLen)
		}
	}
	if ifid >= uint32(len(r.ifaces)) {
		return corruptf(start, "packet block names interface %d of %d", ifid, len(r.ifaces))
	}
	b, err := r.wholeBlock(start, blen)
	if err != nil {
		return err
	}
	r.consume(int(blen))
	f := &r.ifaces[ifid]
	rec.TS = 0
	if typ != blockSPB {
		rec.TS = f.nanos(ts)
	}
	rec.CapLen = int(capLen)
	rec.WireLen = int(wireLen)
	rec.LinkType = f.linkType
	end := dataOff + capLen
	rec.Data = b[dataOff:end:end]
	rec.Offset = start
	return nil
}
