package pcapfile

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
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
	// back from the page cache.
	mapResident = 32 << 20
	mapDropStep = 8 << 20
)

// OpenMapped is [Open] for a file that is read through a read-only memory
// mapping of the whole file when it is a non-empty regular file and the
// platform allows it (see [Reader.Mapped]); otherwise it behaves as Open. A mapped Reader copies nothing: the file's bytes are read in
// place, and every [Record].Data stays valid until [Reader.Close].
//
// # The one mistake
//
// If another process truncates the file while it is mapped, touching the
// lost pages raises SIGBUS, which kills the program. Every goroutine that
// reads records of a mapped Reader (or their Data) must run with
// debug.SetPanicOnFault(true) and recover; [Reader.Fault] turns the
// recovered value into an error at the byte offset that faulted.
func OpenMapped(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 || int64(int(fi.Size())) != fi.Size() {
		f.Close()
		return Open(path)
	}
	m, err := mapFile(f, int(fi.Size()))
	f.Close() // the mapping holds its own reference to the file
	if err != nil {
		return Open(path)
	}
	r, err := newWholeReader(m)
	if err != nil {
		unmapFile(m)
		return nil, fmt.Errorf("read capture header of %s: %w", path, err)
	}
	r.size, r.mapped, r.dropAt = fi.Size(), m, mapResident+mapDropStep
	return r, nil
}

// newWholeReader returns a Reader over b, which holds the whole input,
// positioned at the first record. Records alias b.
func newWholeReader(b []byte) (*Reader, error) {
	r := &Reader{buf: b, wpos: len(b), srcErr: io.EOF, whole: true, size: -1, dropAt: math.MaxInt64}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
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
// should panic with again.
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
	return &FormatError{Offset: int64(addr - base), Err: ErrShrunk}
}
