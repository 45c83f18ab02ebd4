package capture

import (
	"context"
	"errors"
	"io"

	"github.com/pktvisor-go/pktvisor/internal/capture/pcapfile"
)

// ErrEndOfFile is returned by a file source's ReadBatch after the last
// record: the input is complete.
var ErrEndOfFile = errors.New("end of capture file")

// FileSource reads a capture file as a Source (pktvisor's pcap_file tap
// key, used by tests and by pktvisor-reader --config).
type FileSource struct {
	r       *pcapfile.Reader
	rec     pcapfile.Record
	bufs    [][]byte
	packets uint64
}

// OpenFile opens a pcap or pcapng file.
func OpenFile(path string) (*FileSource, error) {
	r, err := pcapfile.Open(path)
	if err != nil {
		return nil, err
	}
	return &FileSource{r: r}, nil
}

// ReadBatch implements Source. Frames are copied into buffers owned by the
// source (the reader reuses its own per record).
func (f *FileSource) ReadBatch(ctx context.Context, frames []Frame) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(f.bufs) < len(frames) {
		f.bufs = append(f.bufs, make([][]byte, len(frames)-len(f.bufs))...)
	}
	n := 0
	for n < len(frames) {
		err := f.r.Next(&f.rec)
		if err == io.EOF {
			if n == 0 {
				return 0, ErrEndOfFile
			}
			break
		}
		if err != nil {
			if n == 0 {
				return 0, err
			}
			break
		}
		f.bufs[n] = append(f.bufs[n][:0], f.rec.Data...)
		frames[n] = Frame{Data: f.bufs[n], TS: f.rec.TS, WireLen: f.rec.WireLen}
		n++
	}
	f.packets += uint64(n)
	return n, nil
}

// LinkType implements Source.
func (f *FileSource) LinkType() uint32 { return f.r.LinkType() }

// Stats implements Source: files drop nothing.
func (f *FileSource) Stats() (Stats, error) { return Stats{Packets: f.packets}, nil }

// Close implements Source.
func (f *FileSource) Close() error { return f.r.Close() }
