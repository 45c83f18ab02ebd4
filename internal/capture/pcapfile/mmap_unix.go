//go:build unix

package pcapfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the first size bytes of f read-only and tells the kernel
// they will be read in order, so that it reads ahead generously.
func mapFile(f *os.File, size int) ([]byte, error) {
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	_ = unix.Madvise(m, unix.MADV_SEQUENTIAL) // only a hint
	return m, nil
}

func unmapFile(m []byte) error {
	if err := unix.Munmap(m); err != nil {
		return fmt.Errorf("munmap: %w", err)
	}
	return nil
}

// dropPages removes m's pages from the process's page tables. The file's
// pages stay in the page cache and the mapping stays valid: touching m
// again maps them back.
func dropPages(m []byte) { _ = unix.Madvise(m, unix.MADV_DONTNEED) }
