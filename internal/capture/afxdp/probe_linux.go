//go:build linux

package afxdp

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// Probe reports whether this process can use AF_XDP capture: AF_XDP
// sockets, XDP programs and XSKMAPs, with the privileges to create them.
// It returns nil or an error wrapping [capture.ErrNotSupported] that says
// what is missing. The answer is computed once and cached.
func Probe() error { return probe() }

var probe = sync.OnceValue(func() error {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		switch {
		case errors.Is(err, unix.EAFNOSUPPORT):
			return fmt.Errorf("af_xdp: %w: kernel without AF_XDP (CONFIG_XDP_SOCKETS, Linux ≥ 4.18): %w", capture.ErrNotSupported, err)
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
			return fmt.Errorf("af_xdp: %w: AF_XDP sockets need CAP_NET_RAW: %w", capture.ErrNotSupported, err)
		}
		return fmt.Errorf("af_xdp: %w: create socket: %w", capture.ErrNotSupported, err)
	}
	unix.Close(fd)
	if err := features.HaveProgramType(ebpf.XDP); err != nil {
		return fmt.Errorf("af_xdp: %w: XDP programs: %w", capture.ErrNotSupported, err)
	}
	if err := features.HaveMapType(ebpf.XSKMap); err != nil {
		return fmt.Errorf("af_xdp: %w: XSKMAP: %w", capture.ErrNotSupported, err)
	}
	return nil
})
