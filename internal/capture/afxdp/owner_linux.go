//go:build linux

package afxdp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"

	"github.com/pktvisor-go/pktvisor/bpf"
)

// procRoot is where holders reads the processes' descriptors.
var procRoot = "/proc"

// maxProbedEntries bounds the XSKMAP entries liveSockets looks at (one
// per receive queue; ours has bpf.MaxQueues).
const maxProbedEntries = 1024

// programInUse returns an [InUseError] when the XDP program id has AF_XDP
// sockets in one of its XSKMAPs, nil when it has none (or is gone). The
// kernel removes a socket from every XSKMAP when the socket is released,
// so an entry means that a running process holds the socket open. It
// holds no descriptor of the program or its maps when it returns.
func programInUse(iface string, id ebpf.ProgramID) (*InUseError, error) {
	prog, err := ebpf.NewProgramFromID(id)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil // detached and freed meanwhile
		}
		return nil, fmt.Errorf("open program %d: %w", id, err)
	}
	info, err := prog.Info()
	prog.Close()
	if err != nil {
		return nil, fmt.Errorf("program %d info: %w", id, err)
	}
	mapIDs, ok := info.MapIDs()
	if !ok {
		return nil, fmt.Errorf("program %d: kernel does not list its maps (Linux < 4.15)", id)
	}
	sockets := 0
	var xsks []ebpf.MapID
	for _, mid := range mapIDs {
		n, isXsk, err := xskMapSockets(mid)
		if err != nil {
			return nil, fmt.Errorf("program %d: %w", id, err)
		}
		if isXsk {
			sockets += n
			xsks = append(xsks, mid)
		}
	}
	if sockets == 0 {
		return nil, nil
	}
	return &InUseError{
		Iface: iface, Program: info.Name, ProgramID: uint32(id), Capture: info.Name == bpf.ProgXDPCapture,
		Sockets: sockets, Queue: -1,
		PIDs: holders(procRoot, id, xsks),
	}, nil
}

// xskMapSockets returns the number of sockets in map mid, and whether it
// is an XSKMAP at all.
func xskMapSockets(mid ebpf.MapID) (int, bool, error) {
	m, err := ebpf.NewMapFromID(mid)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("open map %d: %w", mid, err)
	}
	defer m.Close()
	if m.Type() != ebpf.XSKMap {
		return 0, false, nil
	}
	n, err := liveSockets(m)
	if err != nil {
		return 0, true, fmt.Errorf("count sockets in xskmap %d: %w", mid, err)
	}
	return n, true, nil
}

// liveSockets returns the number of entries of the XSKMAP m that hold a
// socket. The bpf syscall cannot look an XSKMAP up (EOPNOTSUPP) and its
// next-key walks every index, so it loads a small XDP program that looks
// up each index of m and returns the count, and runs it once through
// BPF_PROG_TEST_RUN on an empty frame (Linux ≥ 5.3 for lookups from XDP).
func liveSockets(m *ebpf.Map) (int, error) {
	n := min(int(m.MaxEntries()), maxProbedEntries)
	insns := asm.Instructions{asm.Mov.Imm(asm.R6, 0)}
	for k := range n {
		skip := fmt.Sprintf("empty_%d", k)
		insns = append(insns,
			asm.StoreImm(asm.RFP, -4, int64(k), asm.Word),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, skip),
			asm.Add.Imm(asm.R6, 1),
			asm.Mov.Imm(asm.R0, 0).WithSymbol(skip),
		)
	}
	insns = append(insns, asm.Mov.Reg(asm.R0, asm.R6), asm.Return())
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "xsk_count", Type: ebpf.XDP, License: "MIT", Instructions: insns})
	if err != nil {
		return 0, fmt.Errorf("load counting program: %w", err)
	}
	defer prog.Close()
	ret, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 64)})
	if err != nil {
		return 0, fmt.Errorf("run counting program: %w", err)
	}
	return int(ret), nil
}

// attachedPrograms returns the XDP programs on the interface nl: the one
// netlink reports, or, with programs in two modes (for which netlink
// reports no single id), those of the interface's bpf_links.
func attachedPrograms(nl netlink.Link) ([]ebpf.ProgramID, error) {
	xdp := nl.Attrs().Xdp
	if xdp == nil || !xdp.Attached {
		return nil, nil
	}
	if xdp.ProgId != 0 {
		return []ebpf.ProgramID{ebpf.ProgramID(xdp.ProgId)}, nil
	}
	var ids []ebpf.ProgramID
	it := new(link.Iterator)
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil || info.Type != link.XDPType {
			continue
		}
		if x := info.XDP(); x != nil && int(x.Ifindex) == nl.Attrs().Index {
			ids = append(ids, info.Program)
		}
	}
	if err := it.Err(); err != nil && !errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("list bpf links: %w", err)
	}
	return ids, nil
}

// captureInUse returns an [InUseError] when one of the programs on nl is
// xdp_capture with live sockets (or, with any, any program with them),
// nil when none is.
func captureInUse(nl netlink.Link, anyProgram bool) (*InUseError, error) {
	ids, err := attachedPrograms(nl)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		iu, err := programInUse(nl.Attrs().Name, id)
		if err != nil {
			return nil, fmt.Errorf("check whether xdp program %d is in use: %w", id, err)
		}
		if iu != nil && (anyProgram || iu.Capture) {
			return iu, nil
		}
	}
	return nil, nil
}

// holders returns, in order, the processes under proc that hold a
// descriptor of the BPF program prog (a program or bpf_link descriptor:
// both show its prog_id in fdinfo) or of one of the maps. Processes that
// vanish or cannot be read are skipped.
func holders(proc string, prog ebpf.ProgramID, maps []ebpf.MapID) []int {
	ents, err := os.ReadDir(proc)
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if holds(filepath.Join(proc, e.Name()), prog, maps) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// holds reports whether the process directory dir has a descriptor of
// prog or of one of maps.
func holds(dir string, prog ebpf.ProgramID, maps []ebpf.MapID) bool {
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return false
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
		if err != nil || !strings.HasPrefix(target, "anon_inode:bpf") {
			continue // bpf-prog, bpf-map, bpf_link
		}
		info, err := os.ReadFile(filepath.Join(dir, "fdinfo", fd.Name()))
		if err != nil {
			continue
		}
		p, m := parseFDInfo(info)
		if p != 0 && p == prog || m != 0 && slices.Contains(maps, m) {
			return true
		}
	}
	return false
}

// parseFDInfo returns the prog_id and map_id fields of a BPF descriptor's
// /proc/PID/fdinfo/FD text (0 for a field that is absent): a program and
// a bpf_link show prog_id, a map map_id.
func parseFDInfo(b []byte) (ebpf.ProgramID, ebpf.MapID) {
	var prog ebpf.ProgramID
	var m ebpf.MapID
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(val), 10, 32)
		if err != nil {
			continue
		}
		switch key {
		case "prog_id":
			prog = ebpf.ProgramID(n)
		case "map_id":
			m = ebpf.MapID(n)
		}
	}
	return prog, m
}
