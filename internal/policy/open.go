package policy

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
	"github.com/pktvisor-go/pktvisor/internal/capture/afpacket"
	"github.com/pktvisor-go/pktvisor/internal/capture/afxdp"
	"github.com/pktvisor-go/pktvisor/internal/capture/bpfc"
	"github.com/pktvisor-go/pktvisor/internal/capture/ebpfcap"
	"github.com/pktvisor-go/pktvisor/internal/capture/libpcap"
	"github.com/pktvisor-go/pktvisor/internal/capture/netif"
	"github.com/pktvisor-go/pktvisor/internal/decode"
)

// pcapKeys are the config keys of a pcap input (pktvisor §3.1, plus
// "workers", the number of worker goroutines: AF_PACKET sockets, or
// goroutines the AF_XDP queues are spread over).
var pcapKeys = []string{"iface", "bpf", "host_spec", "pcap_source", "pcap_file",
	"tcp_packet_reassembly_cache_limit", "debug", "workers", "prefilter_ports", "prefilter_drop", "xdp_mode", "_internal_tap_name"}

// OpenInput is the Opener of the agent: pcap inputs from a capture file
// (pcap_file) or a live interface with pcap_source af_xdp (dedicated
// capture interfaces: AF_XDP takes the packets), ebpf (host pass-through:
// XDP/TC programs copy headers and pass every packet on), af_packet,
// libpcap or auto (the default): AF_XDP only on an interface without
// addresses, else ebpf, then af_packet, then libpcap, each fallback's reason
// in the input's info.
func OpenInput(ctx context.Context, typ string, cfg map[string]any) (Opened, error) {
	if typ != "pcap" {
		return Opened{}, errf(ErrInvalid, "input type '%s' is not supported by this version (pcap only)", typ)
	}
	for k := range cfg {
		if !slices.Contains(pcapKeys, k) {
			return Opened{}, errf(ErrInvalid, "%s is an invalid/unsupported config for a pcap input. The valid configs are: %s", k, strings.Join(pcapKeys[:11], ", "))
		}
	}
	expr := stringOf(cfg["bpf"])
	if f := stringOf(cfg["pcap_file"]); f != "" {
		src, err := capture.OpenFile(f)
		if err != nil {
			return Opened{}, errf(ErrInvalid, "pcap_file: %v", err)
		}
		op := Opened{Sources: []capture.Source{src}, Info: map[string]any{"pcap_source": "file", "pcap_file": f},
			Recorded: true}
		if expr != "" {
			m, err := bpfc.Compile(expr, src.LinkType(), 0)
			if err != nil {
				src.Close()
				return Opened{}, errf(ErrInvalid, "bpf %q: %v", expr, err)
			}
			op.Filter = m
		}
		return op, nil
	}
	spec := stringOf(cfg["iface"])
	if spec == "" {
		return Opened{}, errf(ErrInvalid, "a pcap input needs iface or pcap_file")
	}
	iface, err := netif.Resolve(spec)
	if err != nil {
		return Opened{}, errf(ErrInvalid, "iface %q: %v", spec, err)
	}
	var hosts decode.HostSpec
	if addrs, err := netif.Addrs(iface); err == nil {
		for _, a := range addrs {
			hosts.Add(a)
		}
	}
	var prefilter []uint16
	if v, ok := cfg["prefilter_ports"]; ok {
		// af_xdp and ebpf only: the kernel program passes on (uncopied)
		// every packet whose ports are not listed; it is counted there.
		list, ok := v.([]string)
		if !ok {
			return Opened{}, errf(ErrInvalid, "prefilter_ports must be a list of port numbers")
		}
		for _, p := range list {
			n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
			if err != nil || n == 0 {
				return Opened{}, errf(ErrInvalid, "prefilter_ports: %q is not a port number", p)
			}
			prefilter = append(prefilter, uint16(n))
		}
	}
	// prefilter_drop (af_xdp, dedicated capture ports): frames the
	// pre-filter leaves are dropped instead of passed to the host stack.
	prefilterDrop := cfg["prefilter_drop"] == true
	// xdp_mode picks the XDP hook of af_xdp and ebpf: native (driver),
	// generic (skb) or auto (native, falling back to generic; ebpf then
	// TCX ingress).
	xdpMode := stringOf(cfg["xdp_mode"])
	var xdpA afxdp.AttachMode
	var xdpE ebpfcap.Mode
	switch xdpMode {
	case "", "auto":
	case "native":
		xdpA, xdpE = afxdp.ModeNative, ebpfcap.ModeNative
	case "generic":
		xdpA, xdpE = afxdp.ModeGeneric, ebpfcap.ModeGeneric
	default:
		return Opened{}, errf(ErrInvalid, "xdp_mode %q: want native, generic or auto", xdpMode)
	}
	workers := runtime.NumCPU()
	if n, ok := cfg["workers"].(uint64); ok && n > 0 {
		workers = int(n)
	}
	info := map[string]any{"iface": iface}
	source := stringOf(cfg["pcap_source"])
	if source == "" {
		source = "auto"
	}
	var fallbacks []string
	tryAFPacket := func() ([]capture.Source, error) {
		var filter []unix.SockFilter
		if expr != "" {
			raw, err := bpfc.CompileRaw(expr, 1, 65535)
			if err != nil {
				return nil, errf(ErrInvalid, "bpf %q: %v", expr, err)
			}
			for _, r := range raw {
				filter = append(filter, unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K})
			}
		}
		srcs, err := afpacket.OpenGroup(afpacket.Config{Iface: iface, Filter: filter,
			Fanout: &afpacket.Fanout{Mode: afpacket.FanoutHash}}, workers)
		if err != nil {
			return nil, err
		}
		out := make([]capture.Source, len(srcs))
		for i, s := range srcs {
			out[i] = s
		}
		return out, nil
	}
	var cleanup func()
	var kernel func() map[string]any
	var kernelFiltered func() uint64
	var userFilter func([]byte) bool
	tryAFXDP := func() ([]capture.Source, error) {
		socks, prog, err := afxdp.OpenAll(iface, afxdp.Config{Program: afxdp.ProgramOptions{Mode: xdpA}})
		if err != nil {
			return nil, err
		}
		cleanup = func() { prog.Close() }
		kernelFiltered = func() uint64 {
			c, err := prog.Counters()
			if err != nil {
				return 0
			}
			return c["filtered_out"]
		}
		if len(prefilter) > 0 {
			set := prog.SetPortFilter
			if prefilterDrop {
				set = prog.SetPortFilterDrop
				info["prefilter_drop"] = true
			}
			if err := set(prefilter); err != nil {
				cleanup()
				for _, s := range socks {
					s.Close()
				}
				return nil, fmt.Errorf("set XDP port pre-filter: %w", err)
			}
			info["prefilter_ports"] = prefilter
		}
		kernel = func() map[string]any {
			k := map[string]any{}
			if c, err := prog.Counters(); err == nil {
				k["xdp"] = c
			}
			var q []any
			for _, s := range socks {
				if st, err := s.XDPStats(); err == nil {
					q = append(q, map[string]any{"queue": s.Queue(), "rx_dropped": st.RxDropped,
						"rx_invalid_descs": st.RxInvalidDescs, "rx_ring_full": st.RxRingFull,
						"rx_fill_ring_empty_descs": st.RxFillRingEmptyDescs})
				}
			}
			k["sockets"] = q
			return k
		}
		info["xdp_mode"] = prog.Mode().String()
		if r := prog.Replaced(); len(r) > 0 {
			// A program left behind (a killed agent, another tool) was
			// detached so this one could attach.
			info["xdp_replaced"] = r
		}
		fb := prog.Fallbacks()
		for _, s := range socks {
			fb = append(fb, s.Fallbacks()...)
		}
		// One worker per CPU (or the tap's workers), each reading a
		// group of queues: more workers than CPUs only add wake-ups.
		out, err := afxdp.Groups(socks, workers)
		if err != nil {
			cleanup()
			for _, s := range socks {
				s.Close()
			}
			return nil, err
		}
		info["af_xdp_queues"] = len(socks)
		info["zero_copy"] = len(socks) > 0 && socks[0].ZeroCopy()
		if len(fb) > 0 {
			info["af_xdp_fallbacks"] = fb
		}
		if expr != "" {
			// AF_XDP has no kernel BPF filter: the expression runs in user space.
			m, err := bpfc.Compile(expr, 1, 65535)
			if err != nil {
				cleanup()
				for _, s := range socks {
					s.Close()
				}
				return nil, errf(ErrInvalid, "bpf %q: %v", expr, err)
			}
			userFilter = m
		}
		return out, nil
	}
	loopback, _ := netif.IsLoopback(iface)
	tryEBPF := func() ([]capture.Source, error) {
		if loopback {
			return nil, errf(ErrInvalid, "pcap_source ebpf on loopback interface %s would see every packet twice (leaving and arriving); use af_packet or libpcap", iface)
		}
		src, err := ebpfcap.Open(ebpfcap.Config{Iface: iface, Ports: prefilter, Mode: xdpE})
		if err != nil {
			return nil, err
		}
		if len(prefilter) > 0 {
			info["prefilter_ports"] = prefilter
		}
		info["ebpf_mode"] = src.Mode().String()
		if fb := src.Fallbacks(); len(fb) > 0 {
			info["ebpf_fallbacks"] = fb
		}
		kernel = func() map[string]any {
			k := map[string]any{}
			if c, err := src.Counters(); err == nil {
				k["ebpf"] = c
			}
			return k
		}
		kernelFiltered = func() uint64 {
			c, err := src.Counters()
			if err != nil {
				return 0
			}
			return c["ingress_filtered_out_packets"] + c["egress_filtered_out_packets"]
		}
		if expr != "" {
			// The pass-through programs filter by port only: the expression
			// runs in user space.
			m, err := bpfc.Compile(expr, 1, 65535)
			if err != nil {
				src.Close()
				return nil, errf(ErrInvalid, "bpf %q: %v", expr, err)
			}
			userFilter = m
		}
		return []capture.Source{src}, nil
	}
	tryLibpcap := func() ([]capture.Source, error) {
		s, err := libpcap.Open(libpcap.Config{Iface: iface, Filter: expr, Promisc: true})
		if err != nil {
			return nil, err
		}
		return []capture.Source{s}, nil
	}
	var srcs []capture.Source
	switch source {
	case "af_xdp":
		srcs, err = tryAFXDP()
	case "ebpf":
		srcs, err = tryEBPF()
	case "af_packet":
		srcs, err = tryAFPacket()
	case "libpcap":
		srcs, err = tryLibpcap()
	case "auto":
		if hosts.Empty() {
			// A dedicated capture interface (mirror/TAP port, no
			// addresses): AF_XDP may take its packets.
			srcs, err = tryAFXDP()
			if err == nil {
				source = "af_xdp"
				break
			}
			fallbacks = append(fallbacks, "af_xdp: "+err.Error())
		} else {
			fallbacks = append(fallbacks, "af_xdp: not used on an interface with addresses (it would take the host's packets)")
		}
		if loopback {
			fallbacks = append(fallbacks, "ebpf: not used on a loopback interface (each packet crosses both hooks)")
		} else {
			srcs, err = tryEBPF()
			if err == nil {
				source = "ebpf"
				break
			}
			if errors.Is(err, ErrInvalid) {
				break
			}
			fallbacks = append(fallbacks, "ebpf: "+err.Error())
		}
		srcs, err = tryAFPacket()
		if err != nil && !errors.Is(err, ErrInvalid) {
			fallbacks = append(fallbacks, "af_packet: "+err.Error())
			source = "libpcap"
			srcs, err = tryLibpcap()
		} else {
			source = "af_packet"
		}
	default:
		return Opened{}, errf(ErrInvalid, "pcap_source %q: want af_xdp, ebpf, af_packet, libpcap or auto", source)
	}
	if err != nil {
		if len(fallbacks) > 0 {
			return Opened{}, fmt.Errorf("open %s (after %s): %w", iface, strings.Join(fallbacks, "; "), err)
		}
		return Opened{}, fmt.Errorf("open %s with %s: %w", iface, source, err)
	}
	info["pcap_source"] = source
	if len(fallbacks) > 0 {
		info["fallbacks"] = fallbacks
	}
	return Opened{Sources: srcs, Hosts: []decode.HostSpec{hosts}, Info: info, Filter: userFilter, Cleanup: cleanup, Kernel: kernel,
		KernelFiltered: kernelFiltered}, nil
}
