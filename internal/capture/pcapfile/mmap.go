package pcapfile

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"unsafe"
)

// ErrShrunk is the cause of the [FormatError] that [Reader.Fault] returns:
// the file became shorter than it was when it was mapped.
var ErrShrunk = errors.New("capture file shrank while being read")

const (
	// mapResident is how much of a mapped file before the read position
	// stays in the process's page tables; older pages are dropped from them
	// every mapDropStep bytes so that the resident size stays bounded.
	// Records older than that stay valid: touching them maps their pages
	// back from the page cache (a page fault, no copy). pktvisor-reader's
	// frames queued for its workers lie within the window unless they are
	// huge (32 batches of at most 256 KiB per worker).
	mapResident = 32 << 20
	mapDropStep = 8 << 20
)

// maxMapSize is the largest file OpenMapped maps: 1 GiB where addresses
// are 32 bits wide, 64 TiB where they are 64. Larger files are read.
const maxMapSize = int64(1) << (30 + 16*(strconv.IntSize/64))

// OpenMapped is [Open] for a file that is read through a read-only memory
// mapping of the whole file when it is a non-empty regular file of at most
// maxMapSize and the platform allows it (see [Reader.Mapped]); otherwise
// it reads the file as Open does. A mapped Reader copies nothing: the
// file's bytes are read in place, and every [Record].Data stays valid
// until [Reader.Close]. It reads the file as it is when opened: records
// appended later are not seen.
//
// # The one mistake
//
// If another process truncates the file while it is mapped, touching the
// lost pages raises SIGBUS, which kills the program. Every goroutine that
// reads records of a mapped Reader (or their Data) must do so inside
// [Reader.Guard] (or run with debug.SetPanicOnFault(true), recover, and
// pass the recovered value to [Reader.Fault]), which turns the fault into
// an error wrapping [ErrShrunk]. Next itself reports
// a cut it can see without a fault (inside a page, which reads as zeros).
func OpenMapped(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 || fi.Size() > maxMapSize {
		return readFile(f, path) // one open: a FIFO's writer may be gone by a second
	}
	m, err := mapFile(f, int(fi.Size()))
	if err != nil {
		return readFile(f, path)
	}
	r := newWholeReader(m)
	r.size, r.mapped, r.file, r.closer, r.dropAt = fi.Size(), m, f, f, mapResident+mapDropStep
	// pcapng may read many blocks before the first interface: a cut
	// there must not kill the program either.
	if fault := r.Guard(func() { err = r.readHeader() }); fault != nil {
		err = fault
	}
	if err != nil {
		if e := r.shrunk(); e != nil {
			err = e
		}
		unmapFile(m)
		f.Close()
		return nil, fmt.Errorf("read capture header of %s: %w", path, err)
	}
	return r, nil
}

// newWholeReader returns a Reader over b, which holds the whole input;
// records alias b. The caller reads the header (readHeader).
func newWholeReader(b []byte) *Reader {
	return &Reader{buf: b, wpos: len(b), srcErr: io.EOF, whole: true, size: -1, dropAt: math.MaxInt64}
}

// Guard runs fn, and for a mapped Reader runs it with memory faults turned
// into panics: if fn touches the part of the mapping that a truncation of
// the file removed, Guard recovers and returns the error of [Reader.Fault]
// (nil when fn returns normally). Any other panic goes on. Every goroutine
// that reads a mapped Reader's records or their Data should do so inside
// Guard.
func (r *Reader) Guard(fn func()) (fault error) {
	if r.mapped == nil {
		fn()
		return nil
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			if fault = r.Fault(v); fault == nil {
				panic(v)
			}
		}
	}()
	fn()
	return nil
}

// shrunk returns a [*FormatError] wrapping [ErrShrunk] at the file's
// current size when the mapped file is now shorter than its mapping.
func (r *Reader) shrunk() error {
	fi, err := r.file.Stat()
	if err != nil || fi.Size() >= int64(len(r.mapped)) {
		return nil
	}
	return &FormatError{Offset: fi.Size(), Err: ErrShrunk}
}

// dropBehind drops the pages more than mapResident bytes before the read
// position from the page tables.
func (r *Reader) dropBehind() {
	end := (r.off - mapResident) &^ (mapDropStep - 1)
	if end > r.dropped {
		dropPages(r.mapped[r.dropped:end])
		r.dropped = end
	}
	r.dropAt = r.off + mapDropStep
}

// Mapped reports whether the Reader reads a memory mapping of its file
// (see [OpenMapped]): its records' Data stay valid until Close.
func (r *Reader) Mapped() bool { return r.mapped != nil }

// Fault returns a [*FormatError] wrapping [ErrShrunk] when v, a value
// recovered from a panic, is a memory fault inside r's mapping (the file
// was truncated under it), and nil for anything else, which the caller
// should panic with again. The error's offset is the file's new size, or
// the faulting offset if that is unknown. Fault may be called from any
// goroutine until Close.
func (r *Reader) Fault(v any) error {
	e, ok := v.(interface{ Addr() uintptr })
	if !ok || r.mapped == nil {
		return nil
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(r.mapped)))
	addr := e.Addr()
	if addr < base || addr-base >= uintptr(len(r.mapped)) {
		return nil
	}
	if err := r.shrunk(); err != nil {
		return err
	}
	return &FormatError{Offset: int64(addr - base), Err: ErrShrunk}
}
