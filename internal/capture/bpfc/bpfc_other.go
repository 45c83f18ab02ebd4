//go:build !cgo || nolibpcap

package bpfc

import "golang.org/x/net/bpf"

// Compile reports ErrNotSupported: this build has no libpcap.
func Compile(expr string, link uint32, snaplen int) (func([]byte) bool, error) {
	return nil, ErrNotSupported
}

// CompileRaw reports ErrNotSupported: this build has no libpcap.
func CompileRaw(expr string, link uint32, snaplen int) ([]bpf.RawInstruction, error) {
	return nil, ErrNotSupported
}
