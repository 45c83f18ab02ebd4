//go:build (386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm) && linux

package bpf

import "github.com/cilium/ebpf"

// Objects are the loaded xdp_capture program and its maps
// (XdpCapture; Counters, Ports, Config, Xsks). Close releases them.
type Objects = xdpcaptureObjects

// Counter is one value of the per-CPU counters map.
type Counter = xdpcaptureCounter

// Config is the value of the config map (key 0).
type Config = xdpcaptureConfig

// Names of the objects in the collection.
const (
	ProgXDPCapture = xdpcaptureProgXdpCapture
	MapCounters    = xdpcaptureMapCounters
	MapPorts       = xdpcaptureMapPorts
	MapConfig      = xdpcaptureMapConfig
	MapXsks        = xdpcaptureMapXsks
)

// LoadSpec parses the embedded object. It needs no privileges.
func LoadSpec() (*ebpf.CollectionSpec, error) { return loadXdpcapture() }

// LoadObjects loads the program and creates its maps in the kernel; it
// needs CAP_BPF (and CAP_NET_ADMIN to attach later) or root.
func LoadObjects(objs *Objects, opts *ebpf.CollectionOptions) error {
	return loadXdpcaptureObjects(objs, opts)
}
