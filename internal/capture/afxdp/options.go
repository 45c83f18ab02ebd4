package afxdp

import (
	"errors"
	"fmt"
)

// AttachMode selects the XDP hook a [Program] attaches to.
type AttachMode int

// Attach modes.
const (
	// ModeAuto tries the driver hook first and falls back to the generic
	// one; [Program.Fallbacks] says why.
	ModeAuto AttachMode = iota
	// ModeNative attaches in the driver (XDP_FLAGS_DRV_MODE) or fails.
	ModeNative
	// ModeGeneric attaches to the generic, skb-based hook
	// (XDP_FLAGS_SKB_MODE) or fails. It works on every device but copies.
	ModeGeneric
)

// String returns "auto", "native" or "generic".
func (m AttachMode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeNative:
		return "native"
	case ModeGeneric:
		return "generic"
	}
	return fmt.Sprintf("AttachMode(%d)", int(m))
}

// ProgramOptions tune [LoadProgram].
type ProgramOptions struct {
	// Mode is the XDP hook; the zero value is [ModeAuto].
	Mode AttachMode
	// ReplaceForeign lets LoadProgram detach an XDP program that is not
	// xdp_capture. By default only a stale xdp_capture (left by an agent
	// that died, or attached through netlink) is replaced, and any other
	// program makes LoadProgram fail with [ErrBusy].
	ReplaceForeign bool
}

// ErrBusy is wrapped by LoadProgram's error when the interface already runs
// an XDP program that is not ours and [ProgramOptions.ReplaceForeign] is
// off.
var ErrBusy = errors.New("interface has a foreign XDP program")
