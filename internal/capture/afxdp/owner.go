package afxdp

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInUse is matched (errors.Is) by an [InUseError]: the interface
// already feeds AF_XDP sockets of a running process.
var ErrInUse = errors.New("interface has an AF_XDP capture in use")

// InUseError is returned by [LoadProgram] and [OpenAll] when the interface
// already has a live AF_XDP capture: its XDP program has sockets in its
// XSKMAP, or a receive queue has a socket bound. The kernel allows one XDP
// program per interface and one socket per queue, so a second capture
// cannot attach without stopping the first; it should use a source that
// shares the interface (ebpf, af_packet) instead.
type InUseError struct {
	// Iface is the interface.
	Iface string
	// Program and ProgramID name the attached XDP program; empty and 0
	// when the refusal came from a bound queue with no program with
	// sockets attached.
	Program   string
	ProgramID uint32
	// Capture is set when the program is pktvisor's xdp_capture.
	Capture bool
	// Sockets is the number of AF_XDP sockets in the program's XSKMAP.
	Sockets int
	// Queue is the receive queue whose bind was refused (EBUSY), or -1.
	Queue int
	// PIDs are the processes that hold the program, its bpf_link or its
	// maps, read from /proc when the error was made; empty when none is
	// visible (another PID namespace, a pinned link, sockets passed to
	// a process that holds nothing else).
	PIDs []int
	// Err is the cause, when there is one (the bind's EBUSY).
	Err error
}

// Error says what holds the interface and what to do, for an operator:
// "af_xdp: eth1 already has an XDP capture program in use by a running
// agent (pid 1234; program xdp_capture id 17 feeding 4 AF_XDP sockets);
// stop it or use pcap_source ebpf or af_packet for a second tap".
func (e *InUseError) Error() string {
	var b strings.Builder
	b.WriteString("af_xdp: ")
	b.WriteString(e.Iface)
	switch {
	case e.Program == "" && e.Queue >= 0:
		fmt.Fprintf(&b, " already has an AF_XDP socket on queue %d in use by a running process", e.Queue)
	case e.Capture:
		b.WriteString(" already has an XDP capture program in use by a running agent")
	default:
		b.WriteString(" already has an XDP program with AF_XDP sockets in use by a running process")
	}
	b.WriteString(" (")
	if len(e.PIDs) == 0 {
		b.WriteString("pid unknown")
	}
	for i, pid := range e.PIDs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "pid %d", pid)
	}
	switch {
	case e.Program != "":
		fmt.Fprintf(&b, "; program %s id %d", e.Program, e.ProgramID)
		switch {
		case e.Sockets == 1:
			b.WriteString(" feeding 1 AF_XDP socket")
		case e.Sockets > 1:
			fmt.Fprintf(&b, " feeding %d AF_XDP sockets", e.Sockets)
		}
	case e.Err != nil:
		fmt.Fprintf(&b, "; %v", e.Err)
	}
	b.WriteString("); stop it or use pcap_source ebpf or af_packet for a second tap")
	return b.String()
}

// Is reports whether target is [ErrInUse].
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// Unwrap returns the cause, nil when there is none.
func (e *InUseError) Unwrap() error { return e.Err }
