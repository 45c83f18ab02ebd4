// Package bpfc compiles tcpdump filter expressions (pcap-filter(7)) into
// classic BPF with libpcap and runs them in user space on captured frames,
// for inputs that have no kernel to filter in (capture files).
//
// It needs cgo and libpcap; in builds without them (CGO_ENABLED=0 or the
// nolibpcap tag) [Compile] returns [ErrNotSupported].
package bpfc

import "errors"

// ErrNotSupported is returned by Compile in builds without libpcap.
var ErrNotSupported = errors.New("bpf filters need a build with libpcap (cgo)")
