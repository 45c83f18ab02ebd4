//go:build cgo && !nolibpcap

package bpfc

/*
#cgo LDFLAGS: -lpcap
#include <stdlib.h>
#include <pcap/pcap.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"golang.org/x/net/bpf"
)

// Compile compiles expr for frames of pcap link type link captured with
// snaplen, and returns a matcher. The matcher is not safe for concurrent
// use; it does not allocate.
func Compile(expr string, link uint32, snaplen int) (func([]byte) bool, error) {
	raw, err := CompileRaw(expr, link, snaplen)
	if err != nil {
		return nil, err
	}
	return matcher(raw)
}

// CompileRaw compiles expr into a classic BPF program, for kernels that
// filter in the socket (SO_ATTACH_FILTER).
func CompileRaw(expr string, link uint32, snaplen int) ([]bpf.RawInstruction, error) {
	if snaplen <= 0 {
		snaplen = 262144
	}
	p := C.pcap_open_dead(C.int(link), C.int(snaplen))
	if p == nil {
		return nil, fmt.Errorf("pcap_open_dead for link type %d failed", link)
	}
	defer C.pcap_close(p)
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var prog C.struct_bpf_program
	if C.pcap_compile(p, &prog, cexpr, 1, C.PCAP_NETMASK_UNKNOWN) != 0 {
		return nil, fmt.Errorf("compile filter: %s", C.GoString(C.pcap_geterr(p)))
	}
	defer C.pcap_freecode(&prog)
	ins := unsafe.Slice(prog.bf_insns, int(prog.bf_len))
	raw := make([]bpf.RawInstruction, len(ins))
	for i, in := range ins {
		raw[i] = bpf.RawInstruction{Op: uint16(in.code), Jt: uint8(in.jt), Jf: uint8(in.jf), K: uint32(in.k)}
	}
	return raw, nil
}

func matcher(raw []bpf.RawInstruction) (func([]byte) bool, error) {
	insts, ok := bpf.Disassemble(raw)
	if !ok {
		return nil, fmt.Errorf("filter uses instructions the user-space BPF machine cannot run")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		return nil, fmt.Errorf("load filter: %w", err)
	}
	return func(frame []byte) bool {
		n, err := vm.Run(frame)
		return err == nil && n > 0
	}, nil
}
