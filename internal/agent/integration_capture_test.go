package agent

// TestIntegrationCapture runs the real pktvisord binary on a 4-queue veth
// between two network namespaces and checks its live capture paths:
// pcap_source af_packet (the reference), af_xdp and auto (which must pick
// AF_XDP on an interface without addresses). For each it sends exactly
// capN UDP packets from many 5-tuples spread over the sender's TX queues
// (on veth, the receiver's RX queue is the sender's TX queue) and compares
// the REST counters and the kernel counters of the policy info with that
// number. It also restarts on an interface with a stale XDP program, runs
// the agent without CAP_BPF/CAP_NET_ADMIN/CAP_NET_RAW/CAP_SYS_ADMIN, and
// takes the interface down and up while capturing. af_xdp_generic repeats
// the af_xdp batch with xdp_mode generic. ebpf, ebpf_generic and
// ebpf_prefilter give the agent's veth end an address (pcap_source ebpf is
// for host interfaces), run a UDP echo server on it and check that the
// host stack still gets every packet while the agent counts requests (in)
// and replies (out) exactly, and that prefilter_ports leaves the other
// traffic to the kernel's filtered_out counters.
//
// It needs root, ip, ethtool and capsh (libcap2-bin) or setpriv; without
// them it skips, unless PKTVISOR_REQUIRE_INTEGRATION=1.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	capN        = 20000 // packets per batch
	capSockets  = 80    // distinct UDP 5-tuples (capN/capSockets packets each)
	capSenders  = 4     // goroutines sharing the sockets
	capQueues   = 4     // RX/TX queues of both veth ends
	capAgentIP  = "10.220.0.1"
	capSenderIP = "10.220.0.2"
	capDstPort  = 9999
	capPort     = "10855" // agent REST port, inside the agent namespace
	capPolicy   = "cpol"
	capTap      = "ctap"
)

// capLab is the test bed: pvxa<sfx> (agent, veth xa<sfx> without an
// address) and pvxb<sfx> (sender, xb<sfx> = 10.220.0.2/24).
type capLab struct {
	dnsLab          // bins, dir, agentBin; get/getJSON over an HTTP client in the agent namespace
	repo     string // module root (for bpf/xdpcapture_bpfel.o)
	agentNS  string
	sendNS   string
	agentIf  string
	sendIf   string
	dropCaps []string // argv prefix that runs a command without the capabilities
	dropTool string
	// queueDelta is what each veth RX queue counted (ethtool -S
	// rx_queue_N_xdp_packets) during the last countBatch; the veth keeps
	// these counters across agents, hence the difference.
	queueDelta map[int]int64
}

func TestIntegrationCapture(t *testing.T) {
	bins := requireRootAndBinaries(t, "go", "ip", "ethtool")
	t0 := time.Now()
	l := &capLab{}
	l.bins = bins
	l.dir = t.TempDir()
	l.agentBin = buildAgent(t, bins["go"], l.dir)
	l.repo = filepath.Dir(strings.TrimSpace(runCmd(t, bins["go"], "env", "GOMOD")))
	t.Logf("built pktvisord in %v", time.Since(t0).Round(time.Millisecond))
	l.setup(t)

	t.Run("af_packet", func(t *testing.T) {
		a := l.startAgent(t, "af_packet", nil)
		info := l.countBatch(t, a, capN, "af_packet")
		if d := jint(info, "drops"); d != 0 {
			t.Errorf("af_packet: input drops = %d, want 0", d)
		}
		t.Run("down_up", func(t *testing.T) { l.downUp(t, a, "af_packet", capN) })
		l.stopClean(t, a)
	})
	t.Run("af_xdp", func(t *testing.T) {
		a := l.startAgent(t, "af_xdp", nil)
		info := l.countBatch(t, a, capN, "af_xdp")
		l.checkXDP(t, info, capN, l.queueDelta)
		t.Run("down_up", func(t *testing.T) {
			info := l.downUp(t, a, "af_xdp", capN)
			if info != nil {
				l.checkXDP(t, info, 2*capN, nil)
			}
		})
		l.stopClean(t, a)
		if st := l.xdpState(t); st.attached {
			t.Errorf("after SIGTERM an XDP program is still attached to %s: %s", l.agentIf, st.line)
		}
	})
	t.Run("af_xdp_generic", func(t *testing.T) {
		a := l.startAgent(t, "af_xdp", nil, "xdp_mode: generic")
		if st := l.xdpState(t); !st.attached || st.mode != "xdpgeneric" || st.name != "xdp_capture" {
			t.Errorf("xdp_mode generic: ip link shows %s, want an xdpgeneric xdp_capture program", st.line)
		}
		info := l.countBatch(t, a, capN, "af_xdp generic")
		if m, _ := info["xdp_mode"].(string); m != "generic" {
			t.Errorf("xdp_mode generic: info xdp_mode = %v, want generic (info %v)", info["xdp_mode"], info)
		}
		l.checkXDP(t, info, capN, l.queueDelta)
		l.stopClean(t, a)
		if st := l.xdpState(t); st.attached {
			t.Errorf("after SIGTERM an XDP program is still attached to %s: %s", l.agentIf, st.line)
		}
	})
	t.Run("auto", func(t *testing.T) {
		a := l.startAgent(t, "auto", nil)
		info := l.policyInput(t, a)
		if src, _ := jpath(info, "pcap_source"); src != "af_xdp" {
			t.Errorf("auto on an interface without addresses: pcap_source %v, want af_xdp (info %v)", src, info)
		}
		if fb, ok := jpath(info, "fallbacks"); ok {
			t.Errorf("auto: info lists fallbacks %v, want none (AF_XDP should just work as root on veth)", fb)
		}
		l.noErrorInfo(t, info, "auto")
		info = l.countBatch(t, a, capN, "auto")
		l.checkXDP(t, info, capN, l.queueDelta)
		l.stopClean(t, a)
	})
	t.Run("ebpf", func(t *testing.T) { l.ebpfPassThrough(t, "", false) })
	t.Run("ebpf_generic", func(t *testing.T) { l.ebpfPassThrough(t, "generic", false) })
	t.Run("ebpf_prefilter", func(t *testing.T) { l.ebpfPassThrough(t, "", true) })
	t.Run("stale_program", func(t *testing.T) { l.staleProgram(t) })
	t.Run("no_privilege", func(t *testing.T) { l.noPrivilege(t) })
	t.Logf("TestIntegrationCapture total %v", time.Since(t0).Round(time.Millisecond))
}

// setup creates the namespaces and the 4-queue veth, static neighbours on
// both sides, and picks the capability-dropping tool.
func (l *capLab) setup(t *testing.T) {
	t.Helper()
	sfx := randSuffix(t)
	l.agentNS, l.sendNS = "pvxa"+sfx, "pvxb"+sfx
	l.agentIf, l.sendIf = "xa"+sfx, "xb"+sfx
	addNetns(t, l.agentNS)
	addNetns(t, l.sendNS)
	q := strconv.Itoa(capQueues)
	runCmd(t, "ip", "link", "add", l.agentIf, "numtxqueues", q, "numrxqueues", q, "netns", l.agentNS,
		"type", "veth", "peer", "name", l.sendIf, "numtxqueues", q, "numrxqueues", q, "netns", l.sendNS)
	// Runs before the namespaces are deleted: no XDP program outlives the
	// test even if an agent was killed while holding one.
	t.Cleanup(func() {
		for _, m := range []string{"xdpgeneric", "xdpdrv"} {
			_, _ = runCmdErr("ip", "-n", l.agentNS, "link", "set", "dev", l.agentIf, m, "off")
		}
	})
	runCmd(t, "ip", "-n", l.sendNS, "addr", "add", capSenderIP+"/24", "dev", l.sendIf)
	runCmd(t, "ip", "-n", l.agentNS, "link", "set", l.agentIf, "up")
	runCmd(t, "ip", "-n", l.sendNS, "link", "set", l.sendIf, "up")
	runCmd(t, "ip", "-n", l.sendNS, "neigh", "replace", capAgentIP, "lladdr", linkMAC(t, l.agentNS, l.agentIf),
		"dev", l.sendIf, "nud", "permanent")
	runCmd(t, "ip", "-n", l.agentNS, "neigh", "replace", capSenderIP, "lladdr", linkMAC(t, l.sendNS, l.sendIf),
		"dev", l.agentIf, "nud", "permanent")
	l.waitCarrier(t)
	l.http = netnsClient(t, l.agentNS)

	if p, err := exec.LookPath("capsh"); err == nil {
		l.dropTool = "capsh"
		l.dropCaps = []string{p, "--drop=cap_bpf,cap_net_admin,cap_net_raw,cap_sys_admin", "--"}
	} else if p, err := exec.LookPath("setpriv"); err == nil {
		l.dropTool = "setpriv"
		l.dropCaps = []string{p, "--bounding-set", "-bpf,-net_admin,-net_raw,-sys_admin",
			"--inh-caps", "-all", "--ambient-caps", "-all"}
	}
	t.Logf("namespaces %s/%s, veth %s/%s with %d queues each", l.agentNS, l.sendNS, l.agentIf, l.sendIf, capQueues)
}

// waitCarrier waits until both veth ends report LOWER_UP.
func (l *capLab) waitCarrier(t *testing.T) {
	t.Helper()
	var a, b string
	ok := poll(5*time.Second, 20*time.Millisecond, func() bool {
		a, _ = runCmdErr("ip", "-n", l.agentNS, "link", "show", "dev", l.agentIf)
		b, _ = runCmdErr("ip", "-n", l.sendNS, "link", "show", "dev", l.sendIf)
		return strings.Contains(a, "LOWER_UP") && strings.Contains(b, "LOWER_UP")
	})
	if !ok {
		t.Fatalf("veth not up within 5 s:\n%s\n%s", a, b)
	}
}

// writeConfig writes the agent's config; extra are more tap config lines
// ("xdp_mode: generic").
func (l *capLab) writeConfig(t *testing.T, source string, extra ...string) string {
	t.Helper()
	var more string
	for _, e := range extra {
		more += "\n        " + e
	}
	cfg := fmt.Sprintf(`version: "1.0"
visor:
  taps:
    %s:
      input_type: pcap
      config:
        iface: %s
        pcap_source: %s%s
  policies:
    %s:
      kind: collection
      input:
        tap: %s
        input_type: pcap
      handlers:
        modules:
          net:
            type: net
`, capTap, l.agentIf, source, more, capPolicy, capTap)
	path := filepath.Join(t.TempDir(), "pktvisord.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// agentArgv is the command line of an agent in the agent namespace; wrap
// (a capability-dropping prefix) goes between ip netns exec and the agent.
func (l *capLab) agentArgv(cfgPath string, wrap []string) []string {
	argv := []string{"ip", "netns", "exec", l.agentNS}
	args := []string{l.agentBin, "-p", capPort, "-l", "127.0.0.1", "--periods", "2", "--config", cfgPath}
	if len(wrap) == 0 {
		return append(argv, args...)
	}
	argv = append(argv, wrap...)
	if l.dropTool == "capsh" {
		// capsh runs /bin/bash with the arguments after --.
		return append(argv, "-c", "exec "+strings.Join(args, " "))
	}
	return append(argv, args...)
}

// startAgent starts an agent with pcap_source source (and the extra tap
// config lines) and waits until its policy answers; it fails the test if
// the agent exits first.
func (l *capLab) startAgent(t *testing.T, source string, wrap []string, extra ...string) *agent {
	t.Helper()
	ts := time.Now()
	p := startProc(t, "pktvisord "+source, l.agentArgv(l.writeConfig(t, source, extra...), wrap)...)
	a := &agent{p: p, pid: p.cmd.Process.Pid, base: "http://127.0.0.1:" + capPort}
	ok := poll(15*time.Second, 50*time.Millisecond, func() bool {
		if p.exited() {
			return true
		}
		st, _, _ := l.get(a.base + "/api/v1/policies/" + capPolicy)
		return st == http.StatusOK
	})
	if !ok || p.exited() {
		t.Fatalf("pktvisord (%s) did not serve its policy within 15 s (exited: %v, %v)\n%s", source, p.exited(), p.err, p.out.String())
	}
	t.Logf("agent (%s) up in %v, pid %d", strings.Join(append([]string{source}, extra...), ", "), time.Since(ts).Round(time.Millisecond), a.pid)
	return a
}

// policyInput returns the pcap info object of the policy's one input.
func (l *capLab) policyInput(t *testing.T, a *agent) map[string]any {
	t.Helper()
	a.mustBeAlive(t)
	m := l.getJSON(t, a.base+"/api/v1/policies/"+capPolicy)
	ins, ok := jpath(m, capPolicy, "input")
	im, _ := ins.(map[string]any)
	if !ok || len(im) != 1 {
		t.Fatalf("policy info: want exactly one input, got %v", ins)
	}
	for name, v := range im {
		info, ok := jpath(v, "pcap")
		if !ok {
			t.Fatalf("policy info: input %s has no pcap object: %v", name, v)
		}
		out := info.(map[string]any)
		if r, ok := jpath(v, "input", "running"); ok {
			out["_running"] = r
		}
		return out
	}
	return nil
}

// noErrorInfo checks that the input runs and reports no error; the only
// af_xdp_fallbacks allowed are the zero-copy ones veth always has.
func (l *capLab) noErrorInfo(t *testing.T, info map[string]any, what string) {
	t.Helper()
	if e, ok := info["error"]; ok {
		t.Errorf("%s: input info has error %v", what, e)
	}
	if r, _ := info["_running"].(bool); !r {
		t.Errorf("%s: input running = %v, want true", what, info["_running"])
	}
	if fb, ok := info["af_xdp_fallbacks"].([]any); ok {
		for _, f := range fb {
			if s, _ := f.(string); !strings.HasPrefix(s, "zero-copy:") {
				t.Errorf("%s: af_xdp_fallbacks has %q, want only zero-copy entries (veth has no zero-copy)", what, s)
			}
		}
	}
}

// netUDP reads packets.udp of the net handler in bucket/0.
func (l *capLab) netUDP(a *agent) (int64, map[string]any) {
	st, _, b := l.get(fmt.Sprintf("%s/api/v1/policies/%s/metrics/bucket/0", a.base, capPolicy))
	if st != http.StatusOK {
		return -1, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil {
		return -1, nil
	}
	return jint(m, capPolicy, capPolicy+"-"+capTap+"-net", "packets", "udp"), m
}

// waitUDP polls bucket/0 until packets.udp equals want and stays there for
// 1.1 s (or overshoots, or timeout passes); it returns the last value.
func (l *capLab) waitUDP(t *testing.T, a *agent, want int64, timeout time.Duration) (int64, map[string]any) {
	t.Helper()
	var got int64 = -1
	var last map[string]any
	var since time.Time
	poll(timeout, 150*time.Millisecond, func() bool {
		if a.p.exited() {
			return true
		}
		got, last = l.netUDP(a)
		if got != want {
			since = time.Time{}
			return got > want
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) > 1100*time.Millisecond
	})
	return got, last
}

// countBatch sends capN packets and checks bucket/0 packets.udp reaches
// capN + what was counted before; it returns the input info.
func (l *capLab) countBatch(t *testing.T, a *agent, n int, what string) map[string]any {
	t.Helper()
	before, _ := l.netUDP(a)
	if before < 0 {
		before = 0
	}
	q0 := l.queueStats(t)
	r := l.send(t, n)
	want := before + int64(n)
	ts := time.Now()
	got, m := l.waitUDP(t, a, want, 15*time.Second)
	l.queueDelta = map[int]int64{}
	for q, v := range l.queueStats(t) {
		l.queueDelta[q] = v - q0[q]
	}
	a.mustBeAlive(t)
	info := l.policyInput(t, a)
	if got != want {
		t.Errorf("%s: bucket/0 net packets.udp = %d, want exactly %d (%d before + %d sent); net packets %v; input info %v",
			what, got, want, before, n, func() any { v, _ := jpath(m, capPolicy, capPolicy+"-"+capTap+"-net", "packets"); return v }(), info)
	}
	l.noErrorInfo(t, info, what)
	t.Logf("%s: sent %d in %v (%d ENOBUFS retries, %.0f pps), counted udp %d (settled in %v); input packets %d, drops %d, workers %d",
		what, n, r.took.Round(time.Millisecond), r.retries, float64(n)/r.took.Seconds(), got,
		time.Since(ts).Round(time.Millisecond), jint(info, "packets"), jint(info, "drops"), jint(info, "workers"))
	return info
}

type sendResult struct {
	retries int64
	took    time.Duration
}

// send transmits exactly n UDP datagrams to capAgentIP:capDstPort from
// capSockets sockets (distinct source ports, so their TX queues are picked
// by distinct hashes) in the sender namespace. IP_RECVERR makes a frame the
// veth dropped (NET_XMIT_DROP) come back as ENOBUFS instead of being
// silently counted as sent; it is then resent.
func (l *capLab) send(t *testing.T, n int) sendResult {
	t.Helper()
	if n%capSockets != 0 {
		t.Fatalf("send: %d is not a multiple of %d sockets", n, capSockets)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conns := make([]net.Conn, capSockets)
	for i := range conns {
		c, err := dialInNetns(ctx, l.sendNS, "udp4", fmt.Sprintf("%s:%d", capAgentIP, capDstPort))
		if err != nil {
			t.Fatalf("sender socket %d: %v", i, err)
		}
		defer c.Close()
		rc, err := c.(*net.UDPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1) }); err != nil || serr != nil {
			t.Fatalf("IP_RECVERR: %v %v", err, serr)
		}
		conns[i] = c
	}
	per := n / capSockets
	var retries atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, capSenders)
	ts := time.Now()
	for w := 0; w < capSenders; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			payload := make([]byte, 18)
			var mine []net.Conn
			for i := w; i < len(conns); i += capSenders {
				mine = append(mine, conns[i])
			}
			for k := 0; k < per; k++ {
				for ci, c := range mine {
					copy(payload, fmt.Sprintf("%02d%03d%06d", w, ci, k))
					for {
						_, err := c.Write(payload)
						if err == nil {
							break
						}
						if errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EAGAIN) {
							retries.Add(1)
							time.Sleep(50 * time.Microsecond)
							continue
						}
						errs <- fmt.Errorf("sender %d socket %d packet %d: %w", w, ci, k, err)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	took := time.Since(ts)
	close(errs)
	for err := range errs {
		t.Fatalf("send: %v", err)
	}
	return sendResult{retries: retries.Load(), took: took}
}

// queueStats returns the per-RX-queue XDP packet counts of the agent's
// veth (ethtool -S rx_queue_N_xdp_packets; veth counts them when its NAPI
// path runs, i.e. with a native XDP program).
var ethtoolQueueRE = regexp.MustCompile(`rx_queue_(\d+)_xdp_packets:\s+(\d+)`)

func (l *capLab) queueStats(t *testing.T) map[int]int64 {
	t.Helper()
	out := runCmd(t, "ip", "netns", "exec", l.agentNS, "ethtool", "-S", l.agentIf)
	q := map[int]int64{}
	for _, m := range ethtoolQueueRE.FindAllStringSubmatch(out, -1) {
		i, _ := strconv.Atoi(m[1])
		v, _ := strconv.ParseInt(m[2], 10, 64)
		q[i] = v
	}
	return q
}

// checkXDP compares the kernel counters of an af_xdp input with total, the
// packets sent since the program was attached, and, when qs (the per-RX-
// queue packets of the batch) is given, checks the batch used several
// queues.
func (l *capLab) checkXDP(t *testing.T, info map[string]any, total int64, qs map[int]int64) {
	t.Helper()
	if src, _ := info["pcap_source"].(string); src != "af_xdp" {
		t.Errorf("pcap_source = %q, want af_xdp", src)
		return
	}
	mode, _ := info["xdp_mode"].(string)
	if mode != "native" && mode != "generic" {
		t.Errorf("xdp_mode = %v, want native or generic", info["xdp_mode"])
	}
	if zc, ok := info["zero_copy"].(bool); !ok || zc {
		t.Errorf("zero_copy = %v, want false (veth has no zero-copy)", info["zero_copy"])
	}
	if q := jint(info, "af_xdp_queues"); q != capQueues {
		t.Errorf("af_xdp_queues = %d, want %d (one AF_XDP socket per RX queue)", q, capQueues)
	}
	// The queues' sockets are spread over one worker per CPU.
	if w, want := jint(info, "workers"), int64(min(capQueues, runtime.NumCPU())); w != want {
		t.Errorf("workers = %d, want %d (the %d queues over one worker per CPU)", w, want, capQueues)
	}
	if p := jint(info, "packets"); p != total {
		t.Errorf("input packets (sum of the sockets' packets) = %d, want %d", p, total)
	}
	if d := jint(info, "drops"); d != 0 {
		t.Errorf("input drops = %d, want 0", d)
	}
	k, ok := jpath(info, "kernel")
	if !ok {
		t.Errorf("input info has no kernel object: %v", info)
		return
	}
	xdp := func(name string) int64 { return jint(k, "xdp", name) }
	for _, c := range []struct {
		name string
		want int64
	}{{"redirected", total}, {"udp", total}, {"ipv4", total}, {"ipv6", 0}, {"tcp", 0}, {"other_l3", 0},
		{"other_l4", 0}, {"parse_errors", 0}, {"redirect_failed", 0}, {"filtered_out", 0}} {
		if got := xdp(c.name); got != c.want {
			t.Errorf("kernel.xdp.%s = %d, want %d", c.name, got, c.want)
		}
	}
	socks, _ := jpath(k, "sockets")
	sl, _ := socks.([]any)
	if len(sl) != capQueues {
		t.Errorf("kernel.sockets has %d entries, want %d: %v", len(sl), capQueues, socks)
	}
	seen := map[int64]bool{}
	for _, s := range sl {
		q := jint(s, "queue")
		seen[q] = true
		for _, f := range []string{"rx_dropped", "rx_ring_full", "rx_invalid_descs"} {
			if v := jint(s, f); v != 0 {
				t.Errorf("kernel.sockets[queue %d].%s = %d, want 0", q, f, v)
			}
		}
	}
	if len(seen) != len(sl) {
		t.Errorf("kernel.sockets: duplicate queues: %v", socks)
	}
	t.Logf("xdp_mode %s; kernel.xdp redirected %d udp %d ipv4 %d redirect_failed %d; input packets %d drops %d",
		mode, xdp("redirected"), xdp("udp"), xdp("ipv4"), xdp("redirect_failed"), jint(info, "packets"), jint(info, "drops"))
	if qs == nil {
		return
	}
	// The info's per-socket entries carry no packet count, so which RX
	// queues carried the traffic comes from the veth's own counters.
	var sum int64
	used := 0
	var parts []string
	keys := make([]int, 0, len(qs))
	for q := range qs {
		keys = append(keys, q)
	}
	sort.Ints(keys)
	for _, q := range keys {
		sum += qs[q]
		if qs[q] > 0 {
			used++
		}
		parts = append(parts, fmt.Sprintf("q%d=%d", q, qs[q]))
	}
	t.Logf("veth RX queues (ethtool -S rx_queue_N_xdp_packets): %s", strings.Join(parts, " "))
	if mode == "native" {
		if sum != total {
			t.Errorf("ethtool rx_queue_*_xdp_packets sum %d, want %d", sum, total)
		}
		if used < 2 {
			t.Errorf("only %d RX queue(s) carried traffic (%s), want more than one", used, strings.Join(parts, " "))
		}
	} else {
		t.Logf("generic XDP: veth keeps no per-queue XDP counters, RX queue spread not checked")
	}
}

// downUp takes the agent's interface down for 1 s and up again, sends
// another batch and checks it is counted; it returns the input info.
func (l *capLab) downUp(t *testing.T, a *agent, what string, n int) map[string]any {
	t.Helper()
	before, _ := l.netUDP(a)
	runCmd(t, "ip", "-n", l.agentNS, "link", "set", l.agentIf, "down")
	time.Sleep(time.Second)
	runCmd(t, "ip", "-n", l.agentNS, "link", "set", l.agentIf, "up")
	l.waitCarrier(t)
	if out := runCmd(t, "ip", "-n", l.sendNS, "neigh", "show", capAgentIP); !strings.Contains(out, "PERMANENT") {
		t.Fatalf("static neighbour of %s lost after down/up: %q", capAgentIP, out)
	}
	time.Sleep(200 * time.Millisecond) // let a reader that failed record it
	a.mustBeAlive(t)
	mid := l.policyInput(t, a)
	timeout := 15 * time.Second
	if e, ok := mid["error"]; ok {
		t.Logf("%s: after down/up, before sending: input running %v, error %q", what, mid["_running"], e)
		timeout = 3 * time.Second // the input says it stopped: don't wait long
	}
	r := l.send(t, n)
	want := before + int64(n)
	got, _ := l.waitUDP(t, a, want, timeout)
	a.mustBeAlive(t)
	info := l.policyInput(t, a)
	t.Logf("%s down/up: sent %d in %v (%d retries); bucket/0 udp %d -> %d (want %d); input running %v, packets %d, drops %d, error %v",
		what, n, r.took.Round(time.Millisecond), r.retries, before, got, want, info["_running"],
		jint(info, "packets"), jint(info, "drops"), info["error"])
	if got != want {
		t.Errorf("%s: after the interface went down and up, bucket/0 packets.udp = %d, want %d (%d before + %d sent): "+
			"the second batch was not counted (%d of it seen); input running %v, error %v, input packets %d (the sources' own count, vs %d counted by the policy)",
			what, got, want, before, n, got-before, info["_running"], info["error"], jint(info, "packets"), got)
		return nil
	}
	l.noErrorInfo(t, info, what+" after down/up")
	return info
}

// stopClean sends SIGTERM and expects a clean exit without error logs.
func (l *capLab) stopClean(t *testing.T, a *agent) {
	t.Helper()
	err, inTime := a.p.stop(10 * time.Second)
	if !inTime || err != nil {
		t.Errorf("pktvisord: SIGTERM: exited in time %v, error %v; want a clean exit within 10 s", inTime, err)
	}
	if out := a.p.out.String(); strings.Contains(out, "panic") || strings.Contains(out, "level=ERROR") {
		t.Errorf("pktvisord logged a panic or an error:\n%s", tail(out, 3000))
	}
}

type xdpState struct {
	attached bool
	mode     string // xdp (native), xdpgeneric, xdpmulti, ... ("" if none)
	id       string
	name     string
	line     string
}

var (
	ipXDPModeRE = regexp.MustCompile(`mtu \d+ (xdp\S*) `)
	ipXDPProgRE = regexp.MustCompile(`prog/xdp id (\d+)(?: name (\S+))?`)
)

// xdpState parses `ip -n <agent ns> link show <if>`.
func (l *capLab) xdpState(t *testing.T) xdpState {
	t.Helper()
	out := runCmd(t, "ip", "-n", l.agentNS, "link", "show", "dev", l.agentIf)
	s := xdpState{line: strings.Join(strings.Fields(out), " ")}
	if m := ipXDPModeRE.FindStringSubmatch(out); m != nil {
		s.mode = m[1]
	}
	if m := ipXDPProgRE.FindStringSubmatch(out); m != nil {
		s.attached, s.id, s.name = true, m[1], m[2]
	}
	return s
}

// staleProgram: kill -9 an af_xdp agent and look at what it left; then put
// a stale xdp_capture on the interface through netlink (what an agent that
// attached without a bpf_link would leave) in each mode, and check that a
// new agent starts, replaces it and counts, and leaves nothing after
// SIGTERM.
func (l *capLab) staleProgram(t *testing.T) {
	a := l.startAgent(t, "af_xdp", nil)
	st := l.xdpState(t)
	if !st.attached || st.name != "xdp_capture" {
		t.Fatalf("af_xdp agent running but ip link shows no xdp_capture program: %s", st.line)
	}
	t.Logf("running agent: ip link shows mode %s, prog id %s name %s", st.mode, st.id, st.name)
	if err := a.p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.p.done
	var after xdpState
	gone := poll(2*time.Second, 20*time.Millisecond, func() bool { after = l.xdpState(t); return !after.attached })
	if gone {
		t.Logf("after kill -9: no XDP program left on %s (the agent attaches through a bpf_link, which the kernel "+
			"releases with the dead process's fds): %s", l.agentIf, after.line)
	} else {
		t.Logf("after kill -9: XDP program still attached 2 s later: %s", after.line)
	}
	// A new agent on the same interface right after the kill.
	a2 := l.startAgent(t, "af_xdp", nil)
	info := l.countBatch(t, a2, capN, "af_xdp after kill -9")
	l.checkXDP(t, info, capN, nil)
	l.stopClean(t, a2)
	if st := l.xdpState(t); st.attached {
		t.Errorf("after SIGTERM an XDP program is still attached: %s", st.line)
	}

	obj := filepath.Join(l.repo, "bpf", "xdpcapture_bpfel.o")
	if _, err := os.Stat(obj); err != nil {
		t.Logf("no %s: netlink-attached stale program not tested (%v)", obj, err)
		return
	}
	for _, m := range []struct{ ipMode, shown string }{{"xdpgeneric", "xdpgeneric"}, {"xdpdrv", "xdp"}} {
		t.Run("netlink_"+m.ipMode, func(t *testing.T) {
			runCmd(t, "ip", "-n", l.agentNS, "link", "set", "dev", l.agentIf, m.ipMode, "obj", obj, "sec", "xdp")
			stale := l.xdpState(t)
			if !stale.attached || stale.mode != m.shown || stale.name != "xdp_capture" {
				t.Fatalf("ip link set %s obj: want a %s xdp_capture, ip link shows %s", m.ipMode, m.shown, stale.line)
			}
			t.Logf("stale program: mode %s id %s", stale.mode, stale.id)
			a := l.startAgent(t, "af_xdp", nil)
			now := l.xdpState(t)
			if !now.attached || now.id == stale.id || now.mode != "xdp" && now.mode != "xdpgeneric" {
				t.Errorf("agent running: ip link shows %s; want the agent's own program (not stale id %s) in one mode", now.line, stale.id)
			}
			info := l.countBatch(t, a, capN, "af_xdp over stale "+m.ipMode)
			l.checkXDP(t, info, capN, nil)
			if _, ok := info["replaced"]; !ok {
				t.Logf("note: the info JSON does not say that a stale program (id %s) was detached; keys: %v", stale.id, keys(info))
			}
			if out := a.p.out.String(); !strings.Contains(out, "stale") && !strings.Contains(out, "replac") && !strings.Contains(out, "detach") {
				t.Logf("note: the agent logged nothing about detaching the stale program:\n%s", strings.TrimSpace(out))
			}
			l.stopClean(t, a)
			if st := l.xdpState(t); st.attached {
				t.Errorf("after SIGTERM an XDP program is still attached: %s", st.line)
			}
		})
	}
}

func keys(m map[string]any) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// noPrivilege runs the agent with pcap_source auto but without CAP_BPF,
// CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN: it must fall back with a
// clear reason in the info or exit with one clear line about permissions.
func (l *capLab) noPrivilege(t *testing.T) {
	if l.dropTool == "" {
		msg := "neither capsh (libcap2-bin) nor setpriv (util-linux) is installed"
		if os.Getenv(requireEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// The tool really drops them: the effective, permitted and bounding
	// sets of a process it starts lack all four.
	probe := append(append([]string{"netns", "exec", l.agentNS}, l.dropCaps...), "-c", "grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status")
	if l.dropTool == "setpriv" {
		probe = append(append([]string{"netns", "exec", l.agentNS}, l.dropCaps...), "grep", "-E", "^Cap(Eff|Prm|Bnd)", "/proc/self/status")
	}
	capsOut := runCmd(t, "ip", probe...)
	for _, line := range strings.Split(strings.TrimSpace(capsOut), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 16, 64)
		if err != nil {
			continue
		}
		for _, c := range []uint{unix.CAP_BPF, unix.CAP_NET_ADMIN, unix.CAP_NET_RAW, unix.CAP_SYS_ADMIN} {
			if v&(1<<c) != 0 {
				t.Fatalf("%s did not drop capability %d: %s", l.dropTool, c, capsOut)
			}
		}
	}
	t.Logf("%s: %s", l.dropTool, strings.Join(strings.Fields(capsOut), " "))

	started := time.Now()
	p := startProc(t, "pktvisord auto without caps", l.agentArgv(l.writeConfig(t, "auto"), l.dropCaps)...)
	a := &agent{p: p, pid: p.cmd.Process.Pid, base: "http://127.0.0.1:" + capPort}
	var st int
	var body []byte
	poll(10*time.Second, 50*time.Millisecond, func() bool {
		if p.exited() {
			return true
		}
		st, _, body = l.get(a.base + "/api/v1/policies/" + capPolicy)
		return st == http.StatusOK
	})
	permRE := regexp.MustCompile(`(?i)permi|not permitted|CAP_|privilege`)
	if p.exited() {
		code := -1
		if ee, ok := p.err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		msg := strings.TrimSpace(p.out.String())
		t.Logf("outcome: the agent exited (status %d, %v) with:\n%s", code, p.err, msg)
		if code == 0 || p.err == nil {
			t.Errorf("agent without capabilities exited with status 0, want non-zero")
		}
		lines := strings.Split(msg, "\n")
		last := lines[len(lines)-1]
		if !permRE.MatchString(last) {
			t.Errorf("exit message %q does not mention the missing permission", last)
		}
		if n := len(lines); n != 1 {
			t.Errorf("the agent wrote %d lines before exiting, want one clear line:\n%s", n, msg)
		}
		if took := time.Since(started); took > 5*time.Second {
			t.Errorf("the agent took %v to fail, want < 5 s", took)
		}
		t.Logf("exit line: %d characters", len(last))
		return
	}
	if st != http.StatusOK {
		t.Fatalf("agent without capabilities neither exited nor served its policy within 10 s (last status %d: %s)\n%s", st, body, p.out.String())
	}
	info := l.policyInput(t, a)
	t.Logf("outcome: the agent kept running: pcap_source %v, fallbacks %v, error %v", info["pcap_source"], info["fallbacks"], info["error"])
	fb, _ := info["fallbacks"].([]any)
	if len(fb) == 0 {
		t.Errorf("agent without capabilities runs with pcap_source %v and no fallbacks listed; want the reason AF_XDP was not used", info["pcap_source"])
	}
	found := false
	for _, f := range fb {
		s, _ := f.(string)
		found = found || permRE.MatchString(s)
	}
	if !found {
		t.Errorf("fallbacks %v do not name the missing permission", fb)
	}
	if info["pcap_source"] == "af_xdp" {
		t.Errorf("pcap_source af_xdp without CAP_BPF/CAP_NET_ADMIN: capability drop ineffective?")
	}
	l.stopClean(t, a)
}

const (
	ebpfN        = 5000 // request/reply exchanges per ebpf subtest
	ebpfWorkers  = 50   // sender sockets, one exchange in flight each
	ebpfPort     = capDstPort
	ebpfDeadPort = 9998 // no listener: the host answers ICMP port unreachable
)

// inNetns runs fn on a locked OS thread that has joined network namespace
// ns; sockets fn creates stay in ns.
func inNetns(ns string, fn func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- err
			return
		}
		defer target.Close()
		if err := setns(target.Fd()); err != nil {
			runtime.UnlockOSThread()
			ch <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		err = fn()
		if setns(orig.Fd()) == nil {
			runtime.UnlockOSThread()
		}
		ch <- err
	}()
	return <-ch
}

func listenUDPInNetns(t *testing.T, ns, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := inNetns(ns, func() error {
		ua, err := net.ResolveUDPAddr("udp4", addr)
		if err != nil {
			return err
		}
		c, err = net.ListenUDP("udp4", ua)
		return err
	})
	if err != nil {
		t.Fatalf("listen udp %s in %s: %v", addr, ns, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// snmp reads the Udp and Icmp rows of /proc/net/snmp in namespace ns as
// "Udp.InDatagrams" -> value.
func (l *capLab) snmp(t *testing.T, ns string) map[string]int64 {
	t.Helper()
	out := runCmd(t, "ip", "netns", "exec", ns, "cat", "/proc/net/snmp")
	lines := strings.Split(out, "\n")
	m := map[string]int64{}
	for i := 0; i+1 < len(lines); i += 2 {
		h, v := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(h) != len(v) || len(h) == 0 || h[0] != v[0] {
			continue
		}
		p := strings.TrimSuffix(h[0], ":")
		for j := 1; j < len(h); j++ {
			n, _ := strconv.ParseInt(v[j], 10, 64)
			m[p+"."+h[j]] = n
		}
	}
	return m
}

type echoServer struct {
	conn     *net.UDPConn
	received atomic.Int64
	replied  atomic.Int64
	errs     atomic.Int64
	done     chan struct{}
}

// startEchoServer listens on capAgentIP:ebpfPort in the agent namespace,
// counts the datagrams and sends each back.
func (l *capLab) startEchoServer(t *testing.T) *echoServer {
	t.Helper()
	s := &echoServer{conn: listenUDPInNetns(t, l.agentNS, fmt.Sprintf("%s:%d", capAgentIP, ebpfPort)), done: make(chan struct{})}
	_ = s.conn.SetReadBuffer(4 << 20)
	go func() {
		defer close(s.done)
		buf := make([]byte, 2048)
		for {
			n, from, err := s.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				s.errs.Add(1)
				continue
			}
			s.received.Add(1)
			if _, err := s.conn.WriteToUDPAddrPort(buf[:n], from); err != nil {
				s.errs.Add(1)
				continue
			}
			s.replied.Add(1)
		}
	}()
	t.Cleanup(func() { s.conn.Close(); <-s.done })
	return s
}

type exchangeResult struct {
	replies, lost, bad int64
	took               time.Duration
}

// exchange sends n requests to capAgentIP:ebpfPort from ebpfWorkers sockets
// in the sender namespace, each waiting for its reply before the next
// (so at most ebpfWorkers datagrams are in flight and no queue on the way
// overflows); with dead, each request is preceded by a datagram to
// ebpfDeadPort from the same socket. The sockets are unconnected and have
// no IP_RECVERR: the ICMP errors of the dead port are not reported to them.
func (l *capLab) exchange(t *testing.T, n int, dead bool) exchangeResult {
	t.Helper()
	if n%ebpfWorkers != 0 {
		t.Fatalf("exchange: %d is not a multiple of %d workers", n, ebpfWorkers)
	}
	srv := netip.MustParseAddrPort(fmt.Sprintf("%s:%d", capAgentIP, ebpfPort))
	deadAddr := netip.MustParseAddrPort(fmt.Sprintf("%s:%d", capAgentIP, ebpfDeadPort))
	conns := make([]*net.UDPConn, ebpfWorkers)
	for i := range conns {
		conns[i] = listenUDPInNetns(t, l.sendNS, capSenderIP+":0")
	}
	var replies, lost, bad atomic.Int64
	errs := make(chan error, ebpfWorkers)
	var wg sync.WaitGroup
	ts := time.Now()
	for w, c := range conns {
		wg.Add(1)
		go func(w int, c *net.UDPConn) {
			defer wg.Done()
			req := make([]byte, 16)
			buf := make([]byte, 2048)
			for k := 0; k < n/ebpfWorkers; k++ {
				copy(req, fmt.Sprintf("q%03d-%07d", w, k))
				if dead {
					if _, err := c.WriteToUDPAddrPort(req, deadAddr); err != nil {
						errs <- fmt.Errorf("worker %d: send to dead port: %w", w, err)
						return
					}
				}
				if _, err := c.WriteToUDPAddrPort(req, srv); err != nil {
					errs <- fmt.Errorf("worker %d: send request %d: %w", w, k, err)
					return
				}
				_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
				for {
					m, from, err := c.ReadFromUDPAddrPort(buf)
					if err != nil {
						lost.Add(1) // no resend: every request is counted once
						break
					}
					if from != srv || !bytes.Equal(buf[:m], req) {
						bad.Add(1) // a late reply to an earlier, timed-out request
						continue
					}
					replies.Add(1)
					break
				}
			}
		}(w, c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("exchange: %v", err)
	}
	return exchangeResult{replies: replies.Load(), lost: lost.Load(), bad: bad.Load(), took: time.Since(ts)}
}

// ebpfPassThrough gives the agent's veth end capAgentIP (an ordinary host
// interface, what pcap_source ebpf is for), runs a UDP echo server there
// and an agent with pcap_source ebpf (xdp_mode xdpMode unless empty; with
// prefilter, prefilter_ports [ebpfPort]), exchanges ebpfN requests and
// replies with the sender namespace (with prefilter also ebpfN datagrams
// to ebpfDeadPort, each answered by the host with an ICMP port
// unreachable), and checks the server got everything, the agent counted
// exactly the selected traffic with its direction, and the kernel counters.
func (l *capLab) ebpfPassThrough(t *testing.T, xdpMode string, prefilter bool) {
	const n = ebpfN
	runCmd(t, "ip", "-n", l.agentNS, "addr", "add", capAgentIP+"/24", "dev", l.agentIf)
	t.Cleanup(func() {
		if out, err := runCmdErr("ip", "-n", l.agentNS, "addr", "del", capAgentIP+"/24", "dev", l.agentIf); err != nil {
			t.Errorf("cleanup: remove %s from %s: %v: %s", capAgentIP, l.agentIf, err, out)
		}
	})
	// The down/up subtests flushed the agent side's static neighbour (a
	// device going down drops even permanent entries): restore it, or the
	// first reply would need an ARP exchange (two frames the programs see).
	runCmd(t, "ip", "-n", l.agentNS, "neigh", "replace", capSenderIP, "lladdr", linkMAC(t, l.sendNS, l.sendIf),
		"dev", l.agentIf, "nud", "permanent")
	if prefilter {
		// Every datagram to the dead port gets its ICMP port unreachable
		// (no rate limit), so the egress counts are exact.
		old := strings.TrimSpace(runCmd(t, "ip", "netns", "exec", l.agentNS, "sysctl", "-n", "net.ipv4.icmp_ratemask"))
		runCmd(t, "ip", "netns", "exec", l.agentNS, "sysctl", "-q", "-w", "net.ipv4.icmp_ratemask=0")
		t.Cleanup(func() {
			_, _ = runCmdErr("ip", "netns", "exec", l.agentNS, "sysctl", "-q", "-w", "net.ipv4.icmp_ratemask="+old)
		})
	}
	srv := l.startEchoServer(t)
	var extra []string
	wantMode := "native" // auto: veth takes XDP in the driver
	if xdpMode != "" {
		extra = append(extra, "xdp_mode: "+xdpMode)
		wantMode = xdpMode
	}
	if prefilter {
		extra = append(extra, fmt.Sprintf("prefilter_ports: [%d]", ebpfPort))
	}
	a := l.startAgent(t, "ebpf", nil, extra...)
	what := "ebpf"
	if len(extra) > 0 {
		what += " (" + strings.Join(extra, ", ") + ")"
	}

	info := l.policyInput(t, a)
	if src, _ := info["pcap_source"].(string); src != "ebpf" {
		t.Fatalf("%s: pcap_source %v, want ebpf (info %v)", what, info["pcap_source"], info)
	}
	if m, _ := info["ebpf_mode"].(string); m != wantMode {
		t.Errorf("%s: ebpf_mode %v, want %s (ebpf_fallbacks %v)", what, info["ebpf_mode"], wantMode, info["ebpf_fallbacks"])
	}
	if fb, ok := info["ebpf_fallbacks"]; ok {
		t.Errorf("%s: ebpf_fallbacks %v, want none", what, fb)
	}
	if hs, _ := jpath(info, "host_spec"); !strings.Contains(fmt.Sprint(hs), capAgentIP) {
		t.Errorf("%s: host_spec %v does not contain the interface's address %s", what, hs, capAgentIP)
	}
	wantShown := map[string]string{"native": "xdp", "generic": "xdpgeneric"}[wantMode]
	if st := l.xdpState(t); !st.attached || st.mode != wantShown {
		t.Errorf("%s: ip link shows %s, want an %s program", what, st.line, wantShown)
	} else {
		t.Logf("ip link: mode %s prog id %s name %s", st.mode, st.id, st.name)
	}
	if prefilter {
		if pf := fmt.Sprint(info["prefilter_ports"]); pf != fmt.Sprintf("[%d]", ebpfPort) {
			t.Errorf("%s: info prefilter_ports %s, want [%d]", what, pf, ebpfPort)
		}
	}

	snmp0 := l.snmp(t, l.agentNS)
	r := l.exchange(t, n, prefilter)
	// The ICMP errors leave after the last datagram; give them a moment.
	var snmp1 map[string]int64
	poll(2*time.Second, 50*time.Millisecond, func() bool {
		snmp1 = l.snmp(t, l.agentNS)
		return !prefilter || snmp1["Icmp.OutDestUnreachs"]-snmp0["Icmp.OutDestUnreachs"] >= n
	})
	d := func(k string) int64 { return snmp1[k] - snmp0[k] }
	t.Logf("%s: %d exchanges in %v (%.0f/s): %d replies, %d lost, %d stray; server received %d, replied %d, errors %d; "+
		"agent ns Udp InDatagrams +%d NoPorts +%d RcvbufErrors +%d InErrors +%d, Icmp OutDestUnreachs +%d",
		what, n, r.took.Round(time.Millisecond), float64(n)/r.took.Seconds(), r.replies, r.lost, r.bad,
		srv.received.Load(), srv.replied.Load(), srv.errs.Load(),
		d("Udp.InDatagrams"), d("Udp.NoPorts"), d("Udp.RcvbufErrors"), d("Udp.InErrors"), d("Icmp.OutDestUnreachs"))
	if got := srv.received.Load(); got != n || srv.replied.Load() != n || r.replies != n {
		t.Errorf("%s: host stack: server received %d and replied %d, client got %d replies (%d lost); want all %d (the capture must pass every packet on)",
			what, got, srv.replied.Load(), r.replies, r.lost, n)
	}
	wantNoPorts := int64(0)
	if prefilter {
		wantNoPorts = n
	}
	if got := d("Udp.NoPorts"); got != wantNoPorts {
		t.Errorf("%s: agent namespace Udp NoPorts +%d, want %d (datagrams to port %d reaching the host)", what, got, wantNoPorts, ebpfDeadPort)
	}
	if got := d("Icmp.OutDestUnreachs"); got != wantNoPorts {
		t.Errorf("%s: agent namespace Icmp OutDestUnreachs +%d, want %d", what, got, wantNoPorts)
	}

	want := int64(2 * n) // requests in, replies out; the dead port's traffic is filtered in the kernel
	got, m := l.waitUDP(t, a, want, 15*time.Second)
	a.mustBeAlive(t)
	pk, _ := jpath(m, capPolicy, capPolicy+"-"+capTap+"-net", "packets")
	p := func(k string) int64 { return jint(pk, k) }
	if got != want {
		t.Errorf("%s: bucket/0 net packets.udp = %d, want exactly %d (%d requests + %d replies); net packets %v",
			what, got, want, n, n, pk)
	}
	for _, c := range []struct {
		k string
		v int64
	}{{"in", n}, {"out", n}, {"unknown_dir", 0}, {"total", 2 * n}, {"tcp", 0}, {"other_l4", 0}, {"ipv6", 0}} {
		if v := p(c.k); v != c.v {
			t.Errorf("%s: bucket/0 net packets.%s = %d, want %d (net packets %v)", what, c.k, v, c.v, pk)
		}
	}
	if prefilter {
		// The packets the kernel pre-filter kept (both directions) reach
		// net's filtered with the next statistics refresh (every second).
		var f int64
		if !poll(5*time.Second, 100*time.Millisecond, func() bool {
			_, m := l.waitUDP(t, a, want, time.Second)
			pk, _ := jpath(m, capPolicy, capPolicy+"-"+capTap+"-net", "packets")
			f = jint(pk, "filtered")
			return f == 2*n
		}) {
			t.Errorf("%s: net packets.filtered = %d, want %d (kernel filtered_out, ingress + egress)", what, f, 2*n)
		}
	}
	info = l.policyInput(t, a)
	l.noErrorInfo(t, info, what)
	if v := jint(info, "packets"); v != want {
		t.Errorf("%s: input packets %d, want %d", what, v, want)
	}
	if v := jint(info, "drops"); v != 0 {
		t.Errorf("%s: input drops %d, want 0", what, v)
	}
	k, ok := jpath(info, "kernel", "ebpf")
	if !ok {
		t.Fatalf("%s: info has no kernel.ebpf object: %v", what, info)
	}
	dead := int64(0)
	if prefilter {
		dead = n
	}
	exp := []struct {
		k string
		v int64
	}{
		{"ingress_udp_packets", n + dead}, {"ingress_ipv4_packets", n + dead}, {"ingress_captured_packets", n},
		{"ingress_filtered_out_packets", dead},
		{"egress_udp_packets", n}, {"egress_ipv4_packets", n + dead}, {"egress_captured_packets", n},
		{"egress_other_l4_packets", dead}, // ICMP port unreachable
		{"egress_filtered_out_packets", dead},
		{"delivered_packets", 2 * n},
	}
	for _, dir := range []string{"ingress", "egress"} {
		exp = append(exp, []struct {
			k string
			v int64
		}{{dir + "_ipv6_packets", 0}, {dir + "_tcp_packets", 0}, {dir + "_other_l3_packets", 0},
			{dir + "_parse_errors_packets", 0}, {dir + "_ringbuf_full_packets", 0}}...)
	}
	exp = append(exp, struct {
		k string
		v int64
	}{"malformed_records", 0})
	if !prefilter {
		exp = append(exp, struct {
			k string
			v int64
		}{"ingress_other_l4_packets", 0})
	}
	for _, c := range exp {
		if v := jint(k, c.k); v != c.v {
			t.Errorf("%s: kernel.ebpf.%s = %d, want %d", what, c.k, v, c.v)
		}
	}
	t.Logf("%s: ebpf_mode %v; bucket/0 udp %d (in %d, out %d, total %d); input packets %d drops %d; kernel.ebpf ingress udp %d captured %d filtered_out %d, egress udp %d other_l4 %d captured %d filtered_out %d, delivered %d",
		what, info["ebpf_mode"], got, p("in"), p("out"), p("total"), jint(info, "packets"), jint(info, "drops"),
		jint(k, "ingress_udp_packets"), jint(k, "ingress_captured_packets"), jint(k, "ingress_filtered_out_packets"),
		jint(k, "egress_udp_packets"), jint(k, "egress_other_l4_packets"), jint(k, "egress_captured_packets"),
		jint(k, "egress_filtered_out_packets"), jint(k, "delivered_packets"))
	l.stopClean(t, a)
	if st := l.xdpState(t); st.attached {
		t.Errorf("%s: after SIGTERM an XDP program is still attached to %s: %s", what, l.agentIf, st.line)
	}
}
