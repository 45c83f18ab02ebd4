package pcap

import (
	"context"
	"errors"
	"fmt"
	"maps"
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
	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/input"
)

// Type is the input type; Version its version.
const (
	Type    = "pcap"
	Version = "1.0"
)

// Keys are the config keys of a pcap input (pktvisor §3.1, plus
// "workers", "prefilter_ports", "prefilter_drop" and "xdp_mode"). The
// first documentedKeys are listed in the error for an unknown key.
var Keys = []string{"iface", "bpf", "host_spec", "pcap_source", "pcap_file",
	"tcp_packet_reassembly_cache_limit", "debug", "workers", "prefilter_ports", "prefilter_drop", "xdp_mode", "_internal_tap_name",
	"_internal_no_map", "_internal_stdin", "_internal_allow_pipe"}

const documentedKeys = 11

func init() {
	input.Register(input.Info{
		Type: Type, Version: Version,
		Produces:   []event.Kind{event.KindPacket, event.KindDNS, event.KindDHCP, event.KindInputStats},
		ConfigKeys: Keys,
		Validate:   Validate,
		Open:       Open,
	})
}

// MaxWorkers bounds the workers key: each live worker owns a capture ring
// (tens of MB) and its decoder; more is a configuration error. A live
// input runs at most one worker per CPU (see [liveWorkers]).
const MaxWorkers = 64

// liveWorkers is the number of workers of a live input asked for n (0:
// the default): one per CPU, and never more, since more workers than
// CPUs only add rings and wake-ups. The effective number is the input's
// "workers" in its info.
func liveWorkers(n int) int {
	if n == 0 {
		return runtime.NumCPU()
	}
	return min(n, runtime.NumCPU())
}

// MaxFilterLen bounds a bpf expression: libpcap's optimizer is
// superlinear in it, and a filter of a few KB already takes seconds.
const MaxFilterLen = 4096

// Validate checks a pcap input's config without opening anything: keys,
// values and, for a live interface, the bpf expression's syntax.
func Validate(cfg map[string]any) error {
	p, err := parseParams(cfg)
	if err != nil {
		return err
	}
	if p.expr != "" && p.file == "" {
		if _, err := bpfc.CompileRaw(p.expr, 1, 65535); err != nil && !errors.Is(err, bpfc.ErrNotSupported) {
			return input.Invalid("bpf %q: %v", p.expr, err)
		}
	}
	return nil
}

// params is a pcap input's validated config.
type params struct {
	file          string
	expr          string          // bpf
	hosts         decode.HostSpec // host_spec and the interface's addresses
	ifaceAddrs    decode.HostSpec // the interface's addresses alone
	tcpFlows      int
	workers       int // 0: one per CPU (live), 1 (file); at most MaxWorkers
	iface         string
	source        string
	prefilter     []uint16
	prefilterDrop bool
	xdpA          afxdp.AttachMode
	xdpE          ebpfcap.Mode
	loopback      bool
	noMap         bool // read pcap_file with read(2), not mapped (tests)
	// stdin reads the capture from standard input (pktvisor-reader's
	// FILE "-") instead of opening pcap_file, which only names it.
	stdin bool
	// allowPipe lets pcap_file name a pipe or device (pktvisor-reader's
	// FILE); the agent takes regular files only.
	allowPipe bool
}

func parseParams(cfg map[string]any) (*params, error) {
	for k := range cfg {
		if !slices.Contains(Keys, k) {
			return nil, input.Invalid("%s is an invalid/unsupported config for a pcap input. The valid configs are: %s", k, strings.Join(Keys[:documentedKeys], ", "))
		}
	}
	p := &params{file: stringOf(cfg["pcap_file"]), expr: stringOf(cfg["bpf"]), noMap: cfg["_internal_no_map"] == true,
		stdin: cfg["_internal_stdin"] == true, allowPipe: cfg["_internal_allow_pipe"] == true}
	if p.stdin && p.file == "" {
		p.file = "-"
	}
	if len(p.expr) > MaxFilterLen {
		return nil, input.Invalid("bpf: the expression is %d bytes, longer than the %d-byte limit", len(p.expr), MaxFilterLen)
	}
	hosts, err := decode.ParseHostSpec(stringOf(cfg["host_spec"]))
	if err != nil {
		return nil, input.Invalid("host_spec: %v", err)
	}
	p.hosts = hosts
	if v, ok := cfg["tcp_packet_reassembly_cache_limit"]; ok {
		if n, ok := v.(uint64); ok {
			p.tcpFlows = int(n)
		}
	}
	if v, ok := cfg["workers"]; ok {
		n, ok := v.(uint64)
		if !ok {
			return nil, input.Invalid("workers: %q is not a number of workers (1 to %d)", stringOf(v), MaxWorkers)
		}
		if n > MaxWorkers {
			return nil, input.Invalid("workers: %d is above the limit of %d", n, MaxWorkers)
		}
		p.workers = int(n) // 0: the default
	}
	if v, ok := cfg["prefilter_ports"]; ok {
		// af_xdp and ebpf only: the kernel program passes on (uncopied)
		// every packet whose ports are not listed; it is counted there.
		list, ok := v.([]string)
		if !ok {
			return nil, input.Invalid("prefilter_ports must be a list of port numbers")
		}
		for _, s := range list {
			n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
			if err != nil || n == 0 {
				return nil, input.Invalid("prefilter_ports: %q is not a port number", s)
			}
			p.prefilter = append(p.prefilter, uint16(n))
		}
	}
	// prefilter_drop (af_xdp, dedicated capture ports): frames the
	// pre-filter leaves are dropped instead of passed to the host stack.
	p.prefilterDrop = cfg["prefilter_drop"] == true
	// xdp_mode picks the XDP hook of af_xdp and ebpf: native (driver),
	// generic (skb) or auto (native, falling back to generic; ebpf then
	// TCX ingress).
	switch m := stringOf(cfg["xdp_mode"]); m {
	case "", "auto":
	case "native":
		p.xdpA, p.xdpE = afxdp.ModeNative, ebpfcap.ModeNative
	case "generic":
		p.xdpA, p.xdpE = afxdp.ModeGeneric, ebpfcap.ModeGeneric
	default:
		return nil, input.Invalid("xdp_mode %q: want native, generic or auto", m)
	}
	p.source = stringOf(cfg["pcap_source"])
	if p.source == "" {
		p.source = "auto"
	}
	return p, nil
}

// Open opens a pcap input: a capture file (pcap_file) or a live interface
// with pcap_source af_xdp (dedicated capture interfaces: AF_XDP takes the
// packets), ebpf (host pass-through: XDP/TC programs copy headers and pass
// every packet on), af_packet, libpcap or auto (the default): AF_XDP only
// on an interface without addresses, else ebpf, then af_packet, then
// libpcap, each fallback's reason in the input's info.
func Open(ctx context.Context, c input.Config) (input.Stream, error) {
	p, err := parseParams(c.Map)
	if err != nil {
		return nil, err
	}
	if p.file != "" {
		return openFile(p)
	}
	spec := stringOf(c.Map["iface"])
	if spec == "" {
		return nil, input.Invalid("a pcap input needs iface or pcap_file")
	}
	if p.iface, err = netif.Resolve(spec); err != nil {
		return nil, input.Invalid("iface %q: %v", spec, err)
	}
	if addrs, err := netif.Addrs(p.iface); err == nil {
		for _, a := range addrs {
			p.hosts.Add(a)
			p.ifaceAddrs.Add(a)
		}
	}
	p.loopback, _ = netif.IsLoopback(p.iface)
	p.workers = liveWorkers(p.workers)
	b, fallbacks, err := openBackend(p, autoChain)
	if err != nil {
		if errors.Is(err, input.ErrInvalid) {
			return nil, err // a bad bpf expression, not a capture failure
		}
		if len(fallbacks) > 0 {
			return nil, fmt.Errorf("open %s (after %s): %w", p.iface, strings.Join(fallbacks, "; "), err)
		}
		return nil, fmt.Errorf("open %s with %s: %w", p.iface, p.source, err)
	}
	return newLive(p, b, liveInfo(p, b, fallbacks)), nil
}

// liveInfo is the info JSON of a live input: the interface, what the
// winning backend reported, and why the others lost.
func liveInfo(p *params, b *backend, fallbacks []string) map[string]any {
	info := map[string]any{"iface": p.iface}
	maps.Copy(info, b.info)
	info["pcap_source"] = b.name
	if len(fallbacks) > 0 {
		info["fallbacks"] = fallbacks
	}
	info["host_spec"] = p.hosts.String()
	return info
}

// backend is what one capture backend opened: everything it made is in
// here, so an attempt that loses leaves nothing behind.
type backend struct {
	name    string
	sources []capture.Source
	info    map[string]any
	// filter is a user-space frame filter (bpf) when the backend cannot
	// filter in the kernel.
	filter func([]byte) bool
	// cleanup detaches kernel programs the sources needed; it runs after
	// the sources are closed.
	cleanup func()
	// kernel returns live kernel-side counters for the info JSON.
	kernel func() map[string]any
	// kernelFiltered returns the cumulative packets a kernel pre-filter
	// kept from user space.
	kernelFiltered func() uint64
}

func (b *backend) close() {
	for _, s := range b.sources {
		s.Close()
	}
	if b.cleanup != nil {
		b.cleanup()
	}
}

// attempt is one row of the fallback table of pcap_source auto.
type attempt struct {
	name string
	// skip returns why the backend is not tried on this interface ("").
	skip func(p *params) string
	open func(p *params) (*backend, error)
}

// autoChain is the fallback order of pcap_source auto (DESIGN §2): AF_XDP
// only on an interface without addresses (it takes the packets from the
// host), the eBPF pass-through except on loopback, then AF_PACKET, then
// libpcap. A configuration error of a backend (a bad bpf expression)
// stops the chain.
var autoChain = []attempt{
	{"af_xdp", func(p *params) string {
		if !p.ifaceAddrs.Empty() {
			return "not used on an interface with addresses (it would take the host's packets)"
		}
		return ""
	}, openAFXDP},
	{"ebpf", func(p *params) string {
		if p.loopback {
			return "not used on a loopback interface (each packet crosses both hooks)"
		}
		return ""
	}, openEBPF},
	{"af_packet", nil, openAFPacket},
	{"libpcap", nil, openLibpcap},
}

// openBackend opens pcap_source p.source, or walks chain for auto. It
// returns the reasons of the attempts that lost, in order.
func openBackend(p *params, chain []attempt) (*backend, []string, error) {
	if p.source != "auto" {
		for _, a := range chain {
			if a.name == p.source {
				b, err := a.open(p)
				return b, nil, err
			}
		}
		return nil, nil, input.Invalid("pcap_source %q: want af_xdp, ebpf, af_packet, libpcap or auto", p.source)
	}
	var fallbacks []string
	var err error
	for i, a := range chain {
		if a.skip != nil {
			if why := a.skip(p); why != "" {
				fallbacks = append(fallbacks, a.name+": "+why)
				continue
			}
		}
		var b *backend
		b, err = a.open(p)
		if err == nil {
			return b, fallbacks, nil
		}
		if errors.Is(err, input.ErrInvalid) {
			return nil, fallbacks, err
		}
		if i < len(chain)-1 {
			fallbacks = append(fallbacks, a.name+": "+err.Error())
		}
	}
	return nil, fallbacks, err
}

func openAFPacket(p *params) (*backend, error) {
	var filter []unix.SockFilter
	if p.expr != "" {
		raw, err := bpfc.CompileRaw(p.expr, 1, 65535)
		if err != nil {
			return nil, input.Invalid("bpf %q: %v", p.expr, err)
		}
		for _, r := range raw {
			filter = append(filter, unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K})
		}
	}
	srcs, err := afpacket.OpenGroup(afpacket.Config{Iface: p.iface, Filter: filter,
		Fanout: &afpacket.Fanout{Mode: afpacket.FanoutHash}}, p.workers)
	if err != nil {
		return nil, err
	}
	b := &backend{name: "af_packet", info: map[string]any{}}
	for _, s := range srcs {
		b.sources = append(b.sources, s)
	}
	return b, nil
}

func openAFXDP(p *params) (*backend, error) {
	socks, prog, err := afxdp.OpenAll(p.iface, afxdp.Config{Program: afxdp.ProgramOptions{Mode: p.xdpA}})
	if err != nil {
		return nil, err
	}
	b := &backend{name: "af_xdp", info: map[string]any{}, cleanup: func() { prog.Close() }}
	fail := func(err error) (*backend, error) {
		for _, s := range socks {
			s.Close()
		}
		b.close()
		return nil, err
	}
	if len(p.prefilter) > 0 {
		set := prog.SetPortFilter
		if p.prefilterDrop {
			set = prog.SetPortFilterDrop
			b.info["prefilter_drop"] = true
		}
		if err := set(p.prefilter); err != nil {
			return fail(fmt.Errorf("set XDP port pre-filter: %w", err))
		}
		b.info["prefilter_ports"] = p.prefilter
	}
	if p.expr != "" {
		// AF_XDP has no kernel BPF filter: the expression runs in user space.
		m, err := bpfc.Compile(p.expr, 1, 65535)
		if err != nil {
			return fail(input.Invalid("bpf %q: %v", p.expr, err))
		}
		b.filter = m
	}
	// One worker per CPU (or the tap's workers), each reading a group of
	// queues: more workers than CPUs only add wake-ups.
	groups, err := afxdp.Groups(socks, p.workers)
	if err != nil {
		return fail(err)
	}
	b.sources = groups
	b.kernelFiltered = func() uint64 {
		c, err := prog.Counters()
		if err != nil {
			return 0
		}
		return c["filtered_out"]
	}
	b.kernel = func() map[string]any {
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
	b.info["xdp_mode"] = prog.Mode().String()
	if r := prog.Replaced(); len(r) > 0 {
		// A program left behind (a killed agent, another tool) was detached
		// so this one could attach.
		b.info["xdp_replaced"] = r
	}
	fb := prog.Fallbacks()
	for _, s := range socks {
		fb = append(fb, s.Fallbacks()...)
	}
	b.info["af_xdp_queues"] = len(socks)
	b.info["zero_copy"] = len(socks) > 0 && socks[0].ZeroCopy()
	if len(fb) > 0 {
		b.info["af_xdp_fallbacks"] = fb
	}
	return b, nil
}

func openEBPF(p *params) (*backend, error) {
	if p.loopback {
		return nil, input.Invalid("pcap_source ebpf on loopback interface %s would see every packet twice (leaving and arriving); use af_packet or libpcap", p.iface)
	}
	src, err := ebpfcap.Open(ebpfcap.Config{Iface: p.iface, Ports: p.prefilter, Mode: p.xdpE})
	if err != nil {
		return nil, err
	}
	b := &backend{name: "ebpf", sources: []capture.Source{src}, info: map[string]any{}}
	if p.expr != "" {
		// The pass-through programs filter by port only: the expression
		// runs in user space.
		m, err := bpfc.Compile(p.expr, 1, 65535)
		if err != nil {
			b.close()
			return nil, input.Invalid("bpf %q: %v", p.expr, err)
		}
		b.filter = m
	}
	if len(p.prefilter) > 0 {
		b.info["prefilter_ports"] = p.prefilter
	}
	b.info["ebpf_mode"] = src.Mode().String()
	if fb := src.Fallbacks(); len(fb) > 0 {
		b.info["ebpf_fallbacks"] = fb
	}
	b.kernel = func() map[string]any {
		k := map[string]any{}
		if c, err := src.Counters(); err == nil {
			k["ebpf"] = c
		}
		return k
	}
	b.kernelFiltered = func() uint64 {
		c, err := src.Counters()
		if err != nil {
			return 0
		}
		return c["ingress_filtered_out_packets"] + c["egress_filtered_out_packets"]
	}
	return b, nil
}

func openLibpcap(p *params) (*backend, error) {
	s, err := libpcap.Open(libpcap.Config{Iface: p.iface, Filter: p.expr, Promisc: true})
	if err != nil {
		return nil, err
	}
	return &backend{name: "libpcap", sources: []capture.Source{s}, info: map[string]any{}}, nil
}

func stringOf(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
