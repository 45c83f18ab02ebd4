//go:build linux

package ebpfcap

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

// Probe reports whether this process can load the pass-through programs:
// XDP and SCHED_CLS programs, a ring buffer map (Linux ≥ 5.8) and the
// helpers the programs call (bpf_xdp_load_bytes: Linux ≥ 5.18), with the
// privileges to load them. TCX (Linux ≥ 6.6), which egress needs, can
// only be checked by attaching: [Open] reports it. Probe returns nil or an
// error wrapping [capture.ErrNotSupported]; the answer is computed once
// and cached.
func Probe() error { return probe() }

var probe = sync.OnceValue(func() error {
	checks := []struct {
		what string
		err  func() error
	}{
		{"XDP programs", func() error { return features.HaveProgramType(ebpf.XDP) }},
		{"SCHED_CLS programs", func() error { return features.HaveProgramType(ebpf.SchedCLS) }},
		{"ring buffer maps (Linux ≥ 5.8)", func() error { return features.HaveMapType(ebpf.RingBuf) }},
		{"bpf_xdp_load_bytes (Linux ≥ 5.18)", func() error { return features.HaveProgramHelper(ebpf.XDP, asm.FnXdpLoadBytes) }},
		{"bpf_ringbuf_output in TC", func() error { return features.HaveProgramHelper(ebpf.SchedCLS, asm.FnRingbufOutput) }},
		{"bpf_ktime_get_boot_ns (Linux ≥ 5.8)", func() error { return features.HaveProgramHelper(ebpf.XDP, asm.FnKtimeGetBootNs) }},
	}
	for _, c := range checks {
		if err := c.err(); err != nil {
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				return fmt.Errorf("ebpf capture: %w: loading BPF needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (or root): %w", capture.ErrNotSupported, err)
			}
			return fmt.Errorf("ebpf capture: %w: %s: %w", capture.ErrNotSupported, c.what, err)
		}
	}
	return nil
})
