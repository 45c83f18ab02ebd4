//go:build linux && !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// PassthruObjects mirrors the generated objects on architectures without
// a generated object, so callers compile and get an error wrapping
// ebpf.ErrNotSupported at run time.
type PassthruObjects struct {
	PassthruXdp       *ebpf.Program
	PassthruTc        *ebpf.Program
	PassthruTcIngress *ebpf.Program
	Config            *ebpf.Map
	Counters          *ebpf.Map
	Events            *ebpf.Map
	Ports             *ebpf.Map
	Scratch           *ebpf.Map
}

// Close releases whatever is set.
func (o *PassthruObjects) Close() error {
	var errs []error
	for _, p := range []*ebpf.Program{o.PassthruXdp, o.PassthruTc, o.PassthruTcIngress} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	for _, m := range []*ebpf.Map{o.Config, o.Counters, o.Events, o.Ports, o.Scratch} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}

// PassthruConfig is the value of passthru's config map (key 0).
type PassthruConfig struct {
	Flags   uint32
	Snaplen uint32
}

// PassthruCounter is one value of passthru's per-CPU counters map.
type PassthruCounter struct {
	Packets uint64
	Bytes   uint64
}

// Names of the objects in the passthru collection.
const (
	ProgPassthruXDP       = "passthru_xdp"
	ProgPassthruTC        = "passthru_tc"
	ProgPassthruTCIngress = "passthru_tc_ingress"
	MapPassthruCounters   = "counters"
	MapPassthruPorts      = "ports"
	MapPassthruConfig     = "config"
	MapPassthruScratch    = "scratch"
	MapPassthruEvents     = "events"
)

var errNoPassthru = fmt.Errorf("passthru: %w: no object for this architecture (bpf2go builds bpfel only)", ebpf.ErrNotSupported)

// LoadPassthruSpec fails: there is no object for this architecture.
func LoadPassthruSpec() (*ebpf.CollectionSpec, error) { return nil, errNoPassthru }

// LoadPassthruObjects fails: there is no object for this architecture.
func LoadPassthruObjects(*PassthruObjects, uint32, *ebpf.CollectionOptions) error {
	return errNoPassthru
}
