//go:build linux

package afxdp

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/bpf"
	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/capture/netif"
)

// IFLA_XDP_ATTACHED values, enum XDP_ATTACHED_* in <linux/if_link.h>.
const (
	xdpAttachedDrv   = 1
	xdpAttachedSKB   = 2
	xdpAttachedHW    = 3
	xdpAttachedMulti = 4
)

// Program is xdp_capture loaded into the kernel and attached to one
// interface through a bpf_link, so it detaches when the process exits
// even if Close is never called. Its methods are safe for concurrent use.
type Program struct {
	iface     string
	ifindex   int
	objs      bpf.Objects
	link      link.Link
	mode      AttachMode // ModeNative or ModeGeneric once attached
	fallbacks []string
	replaced  []string

	mu     sync.Mutex // serialises SetPortFilter and Close
	closed bool
}

// LoadProgram loads xdp_capture and attaches it to iface in the network
// namespace of the calling thread (lock the OS thread and setns to use
// another namespace). With [ModeAuto] it tries the driver (native) hook
// and then the generic hook; [Program.Mode] tells which one won and
// [Program.Fallbacks] why the others lost.
//
// An xdp_capture already attached to iface whose XSKMAP holds sockets
// belongs to a running capture (of this process or another): LoadProgram
// leaves it alone and returns an [*InUseError] (errors.Is [ErrInUse])
// naming the processes that hold it. A stale one, whose sockets are all
// gone (an agent that crashed after attaching through netlink, or a
// bpf_link pinned or held by a process that no longer captures), is
// detached first: a bpf_link with BPF_LINK_DETACH (Linux ≥ 5.9), a netlink
// attachment by setting the interface's XDP fd to -1 in its mode. The
// kernel refuses to attach a bpf_link over either, and native and generic
// programs cannot coexist, so replacing in place is not possible.
// [Program.Replaced] lists what was detached. Programs that are not
// xdp_capture are only detached with [ProgramOptions.ReplaceForeign];
// otherwise the error wraps [ErrBusy].
//
// LoadProgram does not claim the receive queues: a caller that attaches
// and then opens sockets should bind them first, as [OpenAll] does, so
// that a capture starting at the same moment fails on the bind instead of
// detaching a program whose sockets are not registered yet.
//
// Errors: a missing interface wraps [netif.ErrNotFound]; missing
// privileges (CAP_BPF and CAP_NET_ADMIN) or a kernel without XDP or
// XSKMAP wrap [capture.ErrNotSupported]; a live capture on iface is an
// [*InUseError].
func LoadProgram(iface string, opts ProgramOptions) (_ *Program, err error) {
	wrap := func(what string, err error) error {
		return fmt.Errorf("load xdp program on %s: %s: %w", iface, what, err)
	}
	if opts.Mode < ModeAuto || opts.Mode > ModeGeneric {
		return nil, fmt.Errorf("load xdp program on %s: %w: unknown attach mode %d", iface, ErrInvalidConfig, int(opts.Mode))
	}
	nl, err := netlink.LinkByName(iface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("load xdp program on %s: interface %s %w", iface, iface, netif.ErrNotFound)
		}
		return nil, wrap("look up interface", err)
	}
	p := &Program{iface: iface, ifindex: nl.Attrs().Index}
	if err := bpf.LoadObjects(&p.objs, nil); err != nil {
		switch {
		case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
			return nil, fmt.Errorf("load xdp program on %s: %w: loading BPF needs CAP_BPF and CAP_NET_ADMIN (or root): %w", iface, capture.ErrNotSupported, err)
		case errors.Is(err, ebpf.ErrNotSupported):
			return nil, fmt.Errorf("load xdp program on %s: %w: kernel without XDP or XSKMAP: %w", iface, capture.ErrNotSupported, err)
		}
		return nil, wrap("load objects", err)
	}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if xdp := nl.Attrs().Xdp; xdp != nil && xdp.Attached {
		if err := p.detachExisting(nl, xdp, opts.ReplaceForeign); err != nil {
			return nil, err
		}
	}

	modes := []AttachMode{opts.Mode}
	if opts.Mode == ModeAuto {
		modes = []AttachMode{ModeNative, ModeGeneric}
	}
	var errs []error
	for _, m := range modes {
		flags := link.XDPDriverMode
		if m == ModeGeneric {
			flags = link.XDPGenericMode
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: p.objs.XdpCapture, Interface: p.ifindex, Flags: flags})
		if err == nil {
			p.link, p.mode = l, m
			return p, nil
		}
		p.fallbacks = append(p.fallbacks, fmt.Sprintf("%s xdp: %v", m, err))
		errs = append(errs, fmt.Errorf("%s: %w", m, err))
	}
	err = errors.Join(errs...)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL) {
		return nil, fmt.Errorf("load xdp program on %s: %w: attach xdp (%s): %w", iface, capture.ErrNotSupported, opts.Mode, err)
	}
	return nil, wrap("attach xdp", err)
}

// detachExisting removes the XDP program netlink reports on the
// interface, after checking it may.
func (p *Program) detachExisting(nl netlink.Link, xdp *netlink.LinkXdp, foreign bool) error {
	wrap := func(what string, err error) error {
		return fmt.Errorf("load xdp program on %s: %s: %w", p.iface, what, err)
	}
	// With programs in two modes (XDP_ATTACHED_MULTI) netlink reports no
	// single id; each one is checked through the links below or
	// detached by mode.
	id := ebpf.ProgramID(xdp.ProgId)
	name := "?"
	if id != 0 {
		if prog, err := ebpf.NewProgramFromID(id); err == nil {
			if info, err := prog.Info(); err == nil {
				name = info.Name
			}
			prog.Close()
		}
		if name != bpf.ProgXDPCapture && !foreign {
			return fmt.Errorf("load xdp program on %s: %w: program %q (id %d) is attached; set ReplaceForeign to replace it", p.iface, ErrBusy, name, id)
		}
	} else if !foreign {
		return fmt.Errorf("load xdp program on %s: %w: programs are attached in two modes; set ReplaceForeign to replace them", p.iface, ErrBusy)
	}
	// An xdp_capture that still feeds sockets belongs to a running
	// capture: detaching it would silently stop that capture.
	if iu, err := captureInUse(nl, false); err != nil {
		return wrap("check the attached program", err)
	} else if iu != nil {
		return iu
	}

	// A bpf_link someone holds (or pinned): detach the link itself.
	it := new(link.Iterator)
	defer it.Close()
	found := false
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil || info.Type != link.XDPType {
			continue
		}
		x := info.XDP()
		if x == nil || int(x.Ifindex) != p.ifindex || (id != 0 && info.Program != id) {
			continue
		}
		if err := it.Link.Detach(); err != nil {
			return wrap(fmt.Sprintf("detach stale bpf_link %d", info.ID), err)
		}
		p.replaced = append(p.replaced, fmt.Sprintf("bpf_link %d (program %q, id %d): detached", info.ID, name, info.Program))
		found = true
	}
	if err := it.Err(); err != nil && !errors.Is(err, os.ErrPermission) {
		return wrap("list bpf links", err)
	}
	if found {
		return nil
	}

	// A netlink attachment: clear it in the mode it is attached in.
	var modes []int
	switch xdp.AttachMode {
	case xdpAttachedDrv:
		modes = []int{unix.XDP_FLAGS_DRV_MODE}
	case xdpAttachedSKB:
		modes = []int{unix.XDP_FLAGS_SKB_MODE}
	case xdpAttachedHW:
		modes = []int{unix.XDP_FLAGS_HW_MODE}
	default: // xdpAttachedMulti
		modes = []int{unix.XDP_FLAGS_DRV_MODE, unix.XDP_FLAGS_SKB_MODE, unix.XDP_FLAGS_HW_MODE}
	}
	var errs []error
	detached := 0
	for _, m := range modes {
		if err := netlink.LinkSetXdpFdWithFlags(nl, -1, m); err != nil {
			errs = append(errs, err)
			continue
		}
		detached++
	}
	if detached == 0 {
		return wrap(fmt.Sprintf("detach stale program %q (id %d) through netlink", name, id), errors.Join(errs...))
	}
	p.replaced = append(p.replaced, fmt.Sprintf("netlink attachment of program %q (id %d, attach mode %d): detached", name, id, xdp.AttachMode))
	return nil
}

// Iface returns the interface the program is attached to.
func (p *Program) Iface() string { return p.iface }

// Mode returns the hook the program is attached to: [ModeNative] or
// [ModeGeneric].
func (p *Program) Mode() AttachMode { return p.mode }

// Fallbacks returns why hooks tried before [Program.Mode] failed, in
// order, e.g. "native xdp: ...: operation not supported"; empty when the
// first choice worked.
func (p *Program) Fallbacks() []string { return append([]string(nil), p.fallbacks...) }

// Replaced returns what LoadProgram detached from the interface before
// attaching (stale programs); empty when the hook was free.
func (p *Program) Replaced() []string { return append([]string(nil), p.replaced...) }

// Register directs frames of receive queue queue to the AF_XDP socket fd
// (an XSKMAP entry). [Open] calls it; call it yourself only for sockets
// opened elsewhere. The entry disappears when the socket is closed.
func (p *Program) Register(queue int, fd int) error {
	if queue < 0 || queue >= bpf.MaxQueues {
		return fmt.Errorf("register queue %d on %s: %w: queue out of range 0..%d", queue, p.iface, ErrInvalidConfig, bpf.MaxQueues-1)
	}
	if err := p.objs.Xsks.Put(uint32(queue), uint32(fd)); err != nil {
		return fmt.Errorf("register queue %d on %s: %w", queue, p.iface, err)
	}
	return nil
}

// SetPortFilter makes the program redirect only frames whose source or
// destination port (TCP or UDP) is in ports; the others, and frames
// without ports (ARP, ICMP, fragments after the first), go to the kernel
// stack and count as filtered_out. An empty list turns the filter off.
// At most [bpf.MaxPorts] ports. While the set changes, frames may be
// judged by a mix of the old and new sets.
func (p *Program) SetPortFilter(ports []uint16) error {
	return p.setPortFilter(ports, false)
}

// SetPortFilterDrop is SetPortFilter, but the frames the filter leaves are
// dropped instead of going to the kernel stack: for dedicated capture
// ports (mirror/TAP), where the host has no use for them. On an interface
// the host uses, it would cut the host off from everything not listed.
func (p *Program) SetPortFilterDrop(ports []uint16) error {
	return p.setPortFilter(ports, true)
}

func (p *Program) setPortFilter(ports []uint16, drop bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(ports) > bpf.MaxPorts {
		return fmt.Errorf("set port filter on %s: %w: %d ports, at most %d", p.iface, ErrInvalidConfig, len(ports), bpf.MaxPorts)
	}
	want := make(map[uint16]bool, len(ports))
	for _, port := range ports {
		want[port] = true
	}
	if len(want) == 0 {
		if err := p.objs.Config.Put(uint32(0), bpf.Config{}); err != nil {
			return fmt.Errorf("set port filter on %s: disable: %w", p.iface, err)
		}
	}
	// Add the new ports, then remove the others, then switch on: a
	// wanted port is never missing once the filter is on.
	for port := range want {
		if err := p.objs.Ports.Put(port, uint8(1)); err != nil {
			return fmt.Errorf("set port filter on %s: add port %d: %w", p.iface, port, err)
		}
	}
	var stale []uint16
	var key uint16
	var val uint8
	it := p.objs.Ports.Iterate()
	for it.Next(&key, &val) {
		if !want[key] {
			stale = append(stale, key)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("set port filter on %s: list ports: %w", p.iface, err)
	}
	for _, port := range stale {
		if err := p.objs.Ports.Delete(port); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("set port filter on %s: remove port %d: %w", p.iface, port, err)
		}
	}
	if len(want) > 0 {
		flags := uint32(bpf.ConfigFilterPorts)
		if drop {
			flags |= bpf.ConfigDropFiltered
		}
		if err := p.objs.Config.Put(uint32(0), bpf.Config{Flags: flags}); err != nil {
			return fmt.Errorf("set port filter on %s: enable: %w", p.iface, err)
		}
	}
	return nil
}

// Counters returns the program's counters summed over CPUs: for each
// class of [bpf.CounterNames] the packets under the class name ("udp",
// "redirected", ...) and the bytes under name+"_bytes". They are
// cumulative since LoadProgram.
func (p *Program) Counters() (map[string]uint64, error) {
	out := make(map[string]uint64, 2*bpf.NumCounters)
	var per []bpf.Counter
	for i, name := range bpf.CounterNames {
		if err := p.objs.Counters.Lookup(uint32(i), &per); err != nil {
			return nil, fmt.Errorf("read xdp counters on %s: %s: %w", p.iface, name, err)
		}
		var pk, by uint64
		for _, c := range per {
			pk += c.Packets
			by += c.Bytes
		}
		out[name] = pk
		out[name+"_bytes"] = by
	}
	return out, nil
}

// Close detaches the program and releases its maps. Sockets registered
// with it stop receiving. Close is idempotent.
func (p *Program) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	if p.link != nil {
		if err := p.link.Close(); err != nil {
			errs = append(errs, fmt.Errorf("detach: %w", err))
		}
	}
	if err := p.objs.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close xdp program on %s: %w", p.iface, err)
	}
	return nil
}
