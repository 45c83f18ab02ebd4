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
// takes the interface down and up while capturing.
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
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

func (l *capLab) writeConfig(t *testing.T, source string) string {
	t.Helper()
	cfg := fmt.Sprintf(`version: "1.0"
visor:
  taps:
    %s:
      input_type: pcap
      config:
        iface: %s
        pcap_source: %s
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
`, capTap, l.agentIf, source, capPolicy, capTap)
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

// startAgent starts an agent with pcap_source source and waits until its
// policy answers; it fails the test if the agent exits first.
func (l *capLab) startAgent(t *testing.T, source string, wrap []string) *agent {
	t.Helper()
	ts := time.Now()
	p := startProc(t, "pktvisord "+source, l.agentArgv(l.writeConfig(t, source), wrap)...)
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
	t.Logf("agent (%s) up in %v, pid %d", source, time.Since(ts).Round(time.Millisecond), a.pid)
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
	if w := jint(info, "workers"); w != capQueues {
		t.Errorf("workers = %d, want %d (one AF_XDP socket per RX queue)", w, capQueues)
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
