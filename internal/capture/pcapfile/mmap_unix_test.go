//go:build unix

package pcapfile

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenMappedFIFO: a named pipe is read, and opened once only: a writer
// that writes its capture and closes right away is read whole.
func TestOpenMappedFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	capture := buildPcap(t, binary.LittleEndian, false, 1, 65535,
		pcapRec{sec: 1, data: []byte{1, 2, 3}}, pcapRec{sec: 2, data: []byte{4, 5}})
	for range 20 {
		done := make(chan error, 1)
		go func() {
			w, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err == nil {
				_, err = w.Write(capture)
				w.Close()
			}
			done <- err
		}()
		r, err := OpenMapped(path)
		if err != nil {
			t.Fatal(err)
		}
		if r.Mapped() {
			t.Fatal("a FIFO was mapped")
		}
		recs, err := readAllT(t, r)
		r.Close()
		if len(recs) != 2 || err != io.EOF {
			t.Fatalf("%d records, %v; want 2 and EOF", len(recs), err)
		}
		if err := <-done; err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
}
