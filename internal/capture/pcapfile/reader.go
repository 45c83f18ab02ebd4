package pcapfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
)

// MaxCapLen is the largest captured length accepted for one record
// (libpcap's maximum snapshot length, 0x40000 bytes). A record claiming
// more is reported as [ErrCorrupt].
const MaxCapLen = 0x40000

const (
	// bufSize is the largest size of the read buffer. It bounds the size of
	// a pcapng packet or interface block, which must fit in the buffer whole.
	bufSize = 1 << 20
	// startBufSize is the buffer a Reader starts with; it grows (up to
	// bufSize) only for a record that does not fit. Small reads keep the
	// bytes just read in the core's cache until they are parsed: with
	// reads of 1 MiB, as large as the L2 cache of many cores, records
	// were evicted before they were looked at.
	startBufSize = 64 << 10
	// minBufSize is the smallest initial buffer, used when the input is
	// known to be small.
	minBufSize = 4096
	// maxEmptyReads is how many (0, nil) reads are tolerated in a row
	// before the source is declared stuck, as bufio does.
	maxEmptyReads = 100
)

// Format is the container format of a capture file.
type Format int

// Formats recognised by [NewReader].
const (
	FormatPcap   Format = iota + 1 // classic libpcap format
	FormatPcapNG                   // pcap next generation
)

// String returns "pcap", "pcapng" or "Format(N)".
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Record is one captured packet. Data aliases the Reader's buffer and is
// valid until the next [Reader.Next] call.
type Record struct {
	TS       int64  // capture time in Unix nanoseconds; 0 for a pcapng Simple Packet Block, which has none
	CapLen   int    // bytes captured, len(Data)
	WireLen  int    // length of the packet on the wire
	LinkType uint32 // LINKTYPE_ of the record's interface
	Data     []byte // the captured bytes
	Offset   int64  // byte offset of the record (pcap) or block (pcapng) in the file
}

// Reader reads records from a pcap or pcapng stream. It is not safe for
// concurrent use.
type Reader struct {
	src    io.Reader
	buf    []byte // buf[rpos:wpos] is read from src but not consumed
	rpos   int
	wpos   int
	srcErr error // sticky error of src, returned once the buffer is drained
	closer io.Closer
	size   int64
	off    int64 // bytes consumed from the start of the stream
	err    error // sticky error returned by Next
	format Format
	big    bool // byte order of the file (pcap) or current section (pcapng)

	linkType uint32 // pcap header's, or the first pcapng interface's
	snaplen  uint32

	// pcap
	fracMul int64 // nanoseconds per unit of the timestamp fraction

	// pcapng
	ifaces []iface // interfaces of the current section
	sawIDB bool    // an interface has been seen in the file

	whole   bool     // buf holds the whole input: nothing more to read
	mapped  []byte   // the whole file, when it is memory-mapped (buf aliases it)
	file    *os.File // the mapped file, kept open to check its size
	dropped int64    // mapped[:dropped] is out of the page tables
	dropAt  int64    // offset at which to drop more
}

// Open opens the capture file at path and reads its header. [Reader.Close]
// closes the file. [Reader.Size] reports the file's size.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return readFile(f, path)
}

// readFile returns a Reader that reads the open file f, named path, and
// closes f on Close, or at once on error.
func readFile(f *os.File, path string) (*Reader, error) {
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	r, err := newReader(f, size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read capture header of %s: %w", path, err)
	}
	r.closer = f
	r.size = size
	return r, nil
}

// NewReader reads the file header from src, sniffing the format from its
// magic number, and returns a Reader positioned at the first record. For
// pcapng it also reads ahead to the first Interface Description Block so
// that [Reader.LinkType] and [Reader.Snaplen] are known. Errors are
// [*FormatError]s: ErrBadMagic for an unknown magic, ErrTruncated for input
// that ends inside the header, ErrCorrupt for impossible header fields.
// The Reader buffers src (up to 1 MiB); it never closes it.
func NewReader(src io.Reader) (*Reader, error) {
	hint := int64(-1)
	if l, ok := src.(interface{ Len() int }); ok { // bytes.Reader, strings.Reader, bytes.Buffer
		hint = int64(l.Len())
	}
	return newReader(src, hint)
}

// newReader is NewReader with a hint of the input's length (-1 if unknown)
// that sizes the initial buffer.
func newReader(src io.Reader, hint int64) (*Reader, error) {
	n := startBufSize
	if hint >= 0 && hint < startBufSize {
		n = max(int(hint), minBufSize)
	}
	r := &Reader{src: src, buf: make([]byte, n), size: -1, dropAt: math.MaxInt64}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// readHeader sniffs the format and reads the file header.
func (r *Reader) readHeader() error {
	m, err := r.peek(0, 4)
	if err != nil {
		return err
	}
	switch magic := binary.LittleEndian.Uint32(m); magic {
	case pcapMagicMicro, pcapMagicNano, pcapMagicMicroSwapped, pcapMagicNanoSwapped:
		return r.readPcapHeader(magic)
	case blockSHB:
		return r.readPcapNGHeader()
	default:
		return &FormatError{Offset: 0, Err: fmt.Errorf("%w %#08x", ErrBadMagic, magic)}
	}
}

// Next reads the next record into rec. rec.Data stays valid until the
// following call. Next returns io.EOF when the input ends at a record
// boundary and a [*FormatError] otherwise; errors are sticky. After
// [Reader.Close] it returns fs.ErrClosed. Next never panics on bad input.
func (r *Reader) Next(rec *Record) error {
	if r.err != nil {
		return r.err
	}
	if r.off >= r.dropAt { // only for a mapped file
		r.dropBehind()
	}
	var err error
	if r.format == FormatPcap {
		err = r.nextPcap(rec)
	} else {
		err = r.nextPcapNG(rec)
	}
	// A mapped file cut by another process inside a page reads as zeros up
	// to the page's end: zero-length records, a corrupt pcapng block, or an
	// early end. Those (rare otherwise) cases check the file's size.
	if (err != nil || rec.WireLen == 0) && r.mapped != nil {
		if e := r.shrunk(); e != nil {
			err = e
		}
	}
	if err != nil {
		r.err = err
	}
	return err
}

// Format reports the container format of the file.
func (r *Reader) Format() Format { return r.format }

// LinkType returns the LINKTYPE_ of the pcap file header, or of the first
// interface of a pcapng file (0 if the file has no interface). Records of
// other pcapng interfaces carry their own in [Record].LinkType.
func (r *Reader) LinkType() uint32 { return r.linkType }

// Snaplen returns the snapshot length of the pcap file header, or of the
// first interface of a pcapng file (0 means no limit there).
func (r *Reader) Snaplen() uint32 { return r.snaplen }

// Offset returns the number of bytes consumed so far, for progress reports.
// After a successful Next it is the offset just past the returned record.
func (r *Reader) Offset() int64 { return r.off }

// Size returns the size of a regular file opened by [Open] or [OpenMapped],
// else -1.
func (r *Reader) Size() int64 { return r.size }

// Close releases the file opened by [Open] or unmaps the file of
// [OpenMapped] (after which no record's Data may be touched); for a Reader
// from [NewReader] it only marks the Reader closed. Later calls to Next
// return fs.ErrClosed.
func (r *Reader) Close() error {
	r.err = fs.ErrClosed
	var err error
	if m := r.mapped; m != nil {
		r.mapped, r.buf, r.rpos, r.wpos = nil, nil, 0, 0
		err = unmapFile(m)
	}
	if c := r.closer; c != nil {
		r.closer = nil
		if cerr := c.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close capture file: %w", cerr)
		}
	}
	return err
}

// Interrupt unblocks a Next that waits on a pipe or a slow file by closing
// the file it reads (for a Reader from [NewReader], src when it is an
// *os.File). It may be called while another goroutine is in Next, which
// then fails; Close must still be called afterwards, once Next returned.
func (r *Reader) Interrupt() error {
	if c := r.closer; c != nil {
		return c.Close()
	}
	if f, ok := r.src.(*os.File); ok {
		return f.Close()
	}
	return nil
}

// fill returns the next n bytes without consuming them, reading from src
// as needed, growing the buffer when n exceeds it. n must not exceed
// bufSize. When src ends or fails first it returns what there is and the
// error of src. Bytes returned earlier may be moved.
func (r *Reader) fill(n int) ([]byte, error) {
	if r.wpos-r.rpos >= n {
		return r.buf[r.rpos : r.rpos+n], nil
	}
	if r.whole {
		return r.buf[r.rpos:r.wpos], r.srcErr
	}
	if n > len(r.buf) {
		nb := make([]byte, min(max(n, 2*len(r.buf)), bufSize))
		r.wpos = copy(nb, r.buf[r.rpos:r.wpos])
		r.rpos, r.buf = 0, nb
	} else if n > len(r.buf)-r.rpos {
		r.wpos = copy(r.buf, r.buf[r.rpos:r.wpos])
		r.rpos = 0
	}
	for empty := 0; r.wpos-r.rpos < n && r.srcErr == nil; {
		m, err := r.src.Read(r.buf[r.wpos:])
		r.wpos += m
		if err != nil {
			r.srcErr = err
		} else if m == 0 {
			if empty++; empty == maxEmptyReads {
				r.srcErr = io.ErrNoProgress
			}
		}
	}
	if r.wpos-r.rpos < n {
		return r.buf[r.rpos:r.wpos], r.srcErr
	}
	return r.buf[r.rpos : r.rpos+n], nil
}

// peek is fill reporting a short read as a *FormatError at off.
func (r *Reader) peek(off int64, n int) ([]byte, error) {
	b, err := r.fill(n)
	if len(b) < n {
		return nil, readError(off, err)
	}
	return b, nil
}

// consume advances past n bytes that a peek has returned.
func (r *Reader) consume(n int) {
	r.rpos += n
	r.off += int64(n)
}

// discard consumes n bytes, reading through src in buffer-sized chunks. A
// short read is a *FormatError at off.
func (r *Reader) discard(off int64, n int) error {
	for n > 0 {
		b, err := r.fill(min(n, len(r.buf)))
		if len(b) == 0 {
			return readError(off, err)
		}
		r.consume(len(b))
		n -= len(b)
	}
	return nil
}

// readError turns the error of a short read into a *FormatError at off:
// end of input becomes ErrTruncated, anything else is kept as the cause.
func readError(off int64, err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FormatError{Offset: off, Err: ErrTruncated}
	}
	return &FormatError{Offset: off, Err: fmt.Errorf("read: %w", err)}
}

func (r *Reader) u16(b []byte) uint16 {
	if r.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *Reader) u32(b []byte) uint32 {
	if r.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *Reader) u64(b []byte) uint64 {
	if r.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
