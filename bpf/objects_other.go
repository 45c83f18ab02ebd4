//go:build linux && !(386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm)

package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// Objects mirrors the generated objects on architectures without a
// generated object (big endian: only -target bpfel is built), so callers
// compile and get an error wrapping ebpf.ErrNotSupported at run time.
type Objects struct {
	XdpCapture *ebpf.Program
	Counters   *ebpf.Map
	Ports      *ebpf.Map
	Config     *ebpf.Map
	Xsks       *ebpf.Map
}

// Close releases whatever is set.
func (o *Objects) Close() error {
	var errs []error
	if o.XdpCapture != nil {
		errs = append(errs, o.XdpCapture.Close())
	}
	for _, m := range []*ebpf.Map{o.Counters, o.Ports, o.Config, o.Xsks} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}

// Counter is one value of the per-CPU counters map.
type Counter struct {
	Packets uint64
	Bytes   uint64
}

// Config is the value of the config map (key 0).
type Config struct {
	Flags uint32
}

// Names of the objects in the collection.
const (
	ProgXDPCapture = "xdp_capture"
	MapCounters    = "counters"
	MapPorts       = "ports"
	MapConfig      = "config"
	MapXsks        = "xsks"
)

var errNoObject = fmt.Errorf("xdp_capture: %w: no object for this architecture (bpf2go builds bpfel only)", ebpf.ErrNotSupported)

// LoadSpec fails: there is no object for this architecture.
func LoadSpec() (*ebpf.CollectionSpec, error) { return nil, errNoObject }

// LoadObjects fails: there is no object for this architecture.
func LoadObjects(*Objects, *ebpf.CollectionOptions) error { return errNoObject }
