//go:build (386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm) && linux

package bpf

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// PassthruObjects are the loaded passthru programs (PassthruXdp,
// PassthruTc for TCX egress, PassthruTcIngress) and the maps they share
// (Counters, Ports, Config, Scratch, Events). Close releases them.
type PassthruObjects = passthruObjects

// PassthruConfig is the value of passthru's config map (key 0).
type PassthruConfig = passthruConfig

// PassthruCounter is one value of passthru's per-CPU counters map.
type PassthruCounter = passthruCounter

// Names of the objects in the passthru collection.
const (
	ProgPassthruXDP       = passthruProgPassthruXdp
	ProgPassthruTC        = passthruProgPassthruTc
	ProgPassthruTCIngress = passthruProgPassthruTcIngress
	MapPassthruCounters   = passthruMapCounters
	MapPassthruPorts      = passthruMapPorts
	MapPassthruConfig     = passthruMapConfig
	MapPassthruScratch    = passthruMapScratch
	MapPassthruEvents     = passthruMapEvents
)

// LoadPassthruSpec parses the embedded passthru object. It needs no
// privileges.
func LoadPassthruSpec() (*ebpf.CollectionSpec, error) { return loadPassthru() }

// LoadPassthruObjects loads the passthru programs and creates their maps
// in the kernel, with an events ring buffer of ringSize bytes (0 means
// [PassthruRingSize]; otherwise a power of two multiple of the page
// size). It needs CAP_BPF and CAP_PERFMON (or root); attaching later
// needs CAP_NET_ADMIN.
func LoadPassthruObjects(objs *PassthruObjects, ringSize uint32, opts *ebpf.CollectionOptions) error {
	spec, err := loadPassthru()
	if err != nil {
		return err
	}
	if ringSize != 0 {
		spec.Maps[MapPassthruEvents].MaxEntries = ringSize
	}
	if err := spec.LoadAndAssign(objs, opts); err != nil {
		return fmt.Errorf("load passthru: %w", err)
	}
	return nil
}
