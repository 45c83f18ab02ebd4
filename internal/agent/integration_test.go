package agent

// TestIntegrationDNS runs the real pktvisord binary against real DNS traffic:
// unbound answers a zone in one network namespace, dig and dnsperf ask it
// from another, and pktvisord captures the veth between them (af_packet and
// libpcap). It checks the REST counters against the exact traffic sent, a
// real Prometheus server against the REST numbers, the admin API under
// traffic (including 1,000 add/delete cycles and the agent's RSS), and that
// bad command lines and configs fail fast with one clear line.
//
// It needs root and unbound, dig, dnsperf, prometheus and promtool
// (scripts/install-deps.sh installs them). Without them it skips, unless
// PKTVISOR_REQUIRE_INTEGRATION=1.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	itServerIP  = "10.210.0.1"
	itClientIP  = "10.210.0.2"
	itAgentPort = "10853" // inside the capture namespace, so it can't collide
	itPromPort  = "9090"
	itPolicy    = "itpol"
	itTap       = "vtap"
	itInstance  = "it1"
	itZone      = "it.pvtest" // names n1..n20 exist; everything else under pvtest. is NXDOMAIN
	itNames     = 20
	itAgg       = ".it.pvtest" // top_qname2 aggregate of every name we ask for

	// The dig mix and the dnsperf run; the assertions are derived from these.
	digExisting = 30 // A, NOERROR with one answer
	digNX       = 10 // A, NXDOMAIN
	digAAAA     = 5  // AAAA for existing names, NOERROR without answer (NODATA)
	perfQueries = 2000
	perfNXEvery = 10 // every 10th dnsperf query asks a name that doesn't exist
	perfQPS     = 2000

	churnCycles   = 1000
	churnBaseline = 50
	rssSlack      = 8 << 20
)

// dnsLab is the test bed shared by the subtests: two namespaces joined by a
// veth, unbound in one, the agent binary.
type dnsLab struct {
	bins     map[string]string
	dir      string
	agentBin string
	dnsNS    string // DNS server side
	capNS    string // client + capture side
	dnsIf    string
	capIf    string
	http     *http.Client // dials inside capNS
}

func TestIntegrationDNS(t *testing.T) {
	bins := requireRootAndBinaries(t, "go", "ip", "unbound", "dig", "dnsperf", "prometheus", "promtool")
	t0 := time.Now()
	lab := &dnsLab{bins: bins, dir: t.TempDir()}
	lab.agentBin = buildAgent(t, bins["go"], lab.dir)
	t.Logf("built pktvisord in %v", time.Since(t0).Round(time.Millisecond))

	t.Run("bad_input", func(t *testing.T) { testBadInput(t, lab.agentBin) })

	t1 := time.Now()
	lab.setupNetwork(t)
	lab.startUnbound(t)
	t.Logf("namespaces %s/%s and unbound ready in %v", lab.dnsNS, lab.capNS, time.Since(t1).Round(time.Millisecond))

	for _, src := range []string{"af_packet", "libpcap"} {
		t.Run(src, func(t *testing.T) {
			ts := time.Now()
			lab.scenario(t, src)
			t.Logf("%s scenario took %v", src, time.Since(ts).Round(time.Millisecond))
		})
	}
	t.Logf("TestIntegrationDNS total %v", time.Since(t0).Round(time.Millisecond))
}

// buildAgent builds ./cmd/pktvisord once, from the module root.
func buildAgent(t *testing.T, goBin, dir string) string {
	t.Helper()
	gomod := strings.TrimSpace(runCmd(t, goBin, "env", "GOMOD"))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD: not inside the module (%q)", gomod)
	}
	bin := filepath.Join(dir, "pktvisord")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/pktvisord")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/pktvisord: %v\n%s", err, out)
	}
	return bin
}

// setupNetwork creates pvdns<id> and pvcap<id> joined by a veth, with
// static neighbours so no ARP is sent while the test counts.
func (l *dnsLab) setupNetwork(t *testing.T) {
	t.Helper()
	id := randSuffix(t)
	l.dnsNS, l.capNS = "pvdns"+id, "pvcap"+id
	l.dnsIf, l.capIf = "pvd"+id, "pvc"+id
	addNetns(t, l.dnsNS)
	addNetns(t, l.capNS)
	runCmd(t, "ip", "link", "add", l.dnsIf, "netns", l.dnsNS, "type", "veth", "peer", "name", l.capIf, "netns", l.capNS)
	runCmd(t, "ip", "-n", l.dnsNS, "addr", "add", itServerIP+"/24", "dev", l.dnsIf)
	runCmd(t, "ip", "-n", l.capNS, "addr", "add", itClientIP+"/24", "dev", l.capIf)
	runCmd(t, "ip", "-n", l.dnsNS, "link", "set", l.dnsIf, "up")
	runCmd(t, "ip", "-n", l.capNS, "link", "set", l.capIf, "up")
	runCmd(t, "ip", "-n", l.capNS, "neigh", "replace", itServerIP, "lladdr", linkMAC(t, l.dnsNS, l.dnsIf), "dev", l.capIf, "nud", "permanent")
	runCmd(t, "ip", "-n", l.dnsNS, "neigh", "replace", itClientIP, "lladdr", linkMAC(t, l.capNS, l.capIf), "dev", l.dnsIf, "nud", "permanent")
	l.http = netnsClient(t, l.capNS)
}

// startUnbound serves the static zone on itServerIP:53 and waits until it
// answers. It never queries the network: iterator only, no forwarders, and
// every name asked is inside the static local zone.
func (l *dnsLab) startUnbound(t *testing.T) {
	t.Helper()
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
  interface: %s
  port: 53
  do-ip4: yes
  do-ip6: no
  do-udp: yes
  do-tcp: yes
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  module-config: "iterator"
  do-not-query-localhost: no
  access-control: 10.210.0.0/24 allow
  local-zone: "pvtest." static
`, itServerIP, l.dir)
	for i := 1; i <= itNames; i++ {
		fmt.Fprintf(&conf, "  local-data: \"n%d.%s. 60 IN A 10.99.0.%d\"\n", i, itZone, i)
	}
	conf.WriteString("remote-control:\n  control-enable: no\n")
	path := filepath.Join(l.dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "unbound", "ip", "netns", "exec", l.dnsNS, l.bins["unbound"], "-d", "-c", path)
	var last string
	ok := poll(10*time.Second, 100*time.Millisecond, func() bool {
		if p.exited() {
			return true
		}
		out, _ := runCmdErr("ip", "netns", "exec", l.capNS, l.bins["dig"], "+short", "+tries=1", "+time=1",
			"@"+itServerIP, "n1."+itZone, "A")
		last = strings.TrimSpace(out)
		return last == "10.99.0.1"
	})
	if !ok || p.exited() {
		t.Fatalf("unbound did not answer n1.%s within 10 s (last dig: %q, exited: %v)\n%s", itZone, last, p.exited(), p.out.String())
	}
}

// poll calls fn every interval until it returns true or timeout passes.
func poll(timeout, interval time.Duration, fn func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if fn() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// agent is one pktvisord process in the capture namespace.
type agent struct {
	p    *proc
	pid  int
	base string // http://127.0.0.1:port
}

func (l *dnsLab) startAgent(t *testing.T, source string) *agent {
	t.Helper()
	cfg := fmt.Sprintf(`version: "1.0"
visor:
  taps:
    %s:
      input_type: pcap
      config:
        iface: %s
        host_spec: "%s/32"
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
          dns:
            type: dns
          pcap:
            type: pcap
`, itTap, l.capIf, itClientIP, source, itPolicy, itTap)
	path := filepath.Join(t.TempDir(), "pktvisord.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "pktvisord", "ip", "netns", "exec", l.capNS, l.agentBin,
		"-p", itAgentPort, "-l", "127.0.0.1", "--admin-api", "--prom-instance", itInstance,
		"-H", itClientIP+"/32", "--periods", "2", "--config", path)
	a := &agent{p: p, pid: p.cmd.Process.Pid, base: "http://127.0.0.1:" + itAgentPort}
	ok := poll(15*time.Second, 50*time.Millisecond, func() bool {
		if p.exited() {
			return true
		}
		st, _, _ := l.get(a.base + "/api/v1/metrics/app")
		return st == http.StatusOK
	})
	if !ok || p.exited() {
		t.Fatalf("pktvisord (%s) did not serve /api/v1/metrics/app within 15 s (exited: %v)\n%s", source, p.exited(), p.out.String())
	}
	// ip netns exec execs the agent, so the pid is the agent's own.
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", a.pid)); err != nil || strings.TrimSpace(string(comm)) != "pktvisord" {
		t.Fatalf("pid %d is not pktvisord: comm %q, %v", a.pid, comm, err)
	}
	return a
}

// mustBeAlive fails the test at once if the agent has exited.
func (a *agent) mustBeAlive(t *testing.T) {
	t.Helper()
	if !a.p.exited() {
		return
	}
	hint := ""
	if a.p.err == nil {
		// Run returns 0 without a log line only after SIGINT/SIGTERM or
		// DELETE /api/v1/server, which this test never sends.
		hint = " (status 0 and no error logged: a graceful stop, i.e. a SIGINT/SIGTERM from outside this test?)"
	}
	t.Fatalf("pktvisord (pid %d) exited unexpectedly: %v%s\n%s", a.pid, a.p.err, hint, tail(a.p.out.String(), 4000))
}

// get fetches url inside the capture namespace.
func (l *dnsLab) get(u string) (int, http.Header, []byte) {
	return l.do(http.MethodGet, u, "", nil)
}

func (l *dnsLab) do(method, u, contentType string, body []byte) (int, http.Header, []byte) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := l.http.Do(req)
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	return resp.StatusCode, resp.Header, b
}

// getJSON fetches u and decodes a JSON object (numbers kept exact).
func (l *dnsLab) getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	st, h, b := l.get(u)
	if st != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body %s", u, st, b)
	}
	if ct := h.Get("Content-Type"); !strings.Contains(ct, "json") {
		t.Errorf("GET %s: Content-Type %q, want a JSON type", u, ct)
	}
	return decodeJSON(t, u, b)
}

func decodeJSON(t *testing.T, what string, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s: body is not a JSON object: %v\n%s", what, err, b)
	}
	return m
}

// jpath walks nested objects; ok is false if a key is missing.
func jpath(v any, path ...string) (any, bool) {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// jint returns the integer at path, or -1 if it is missing or not a number.
func jint(v any, path ...string) int64 {
	x, ok := jpath(v, path...)
	if !ok {
		return -1
	}
	n, ok := x.(json.Number)
	if !ok {
		return -1
	}
	i, err := n.Int64()
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil {
			return -1
		}
		return int64(math.Round(f))
	}
	return i
}

// topEstimate returns the estimate of item name in the top-N list at path.
func topEstimate(v any, name string, path ...string) int64 {
	x, ok := jpath(v, path...)
	if !ok {
		return -1
	}
	list, ok := x.([]any)
	if !ok {
		return -1
	}
	for _, e := range list {
		if n, _ := jpath(e, "name"); n == name {
			return jint(e, "estimate")
		}
	}
	return -1
}

// dnsTraffic is what the clients saw, from which the agent's counters follow.
type dnsTraffic struct {
	queries, replies          int64
	noerror, nxdomain, nodata int64
	qtypeA, qtypeAAAA         int64 // messages (queries + replies)
}

func (d *dnsTraffic) add(o dnsTraffic) {
	d.queries += o.queries
	d.replies += o.replies
	d.noerror += o.noerror
	d.nxdomain += o.nxdomain
	d.nodata += o.nodata
	d.qtypeA += o.qtypeA
	d.qtypeAAAA += o.qtypeAAAA
}

func (l *dnsLab) writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runDig sends a batch of queries with one dig process and checks every
// answer; it returns the traffic it caused.
func (l *dnsLab) runDig(t *testing.T, existing, nx, aaaa int, tag string) dnsTraffic {
	t.Helper()
	var b strings.Builder
	for i := 0; i < existing; i++ {
		fmt.Fprintf(&b, "n%d.%s A\n", i%itNames+1, itZone)
	}
	for i := 0; i < nx; i++ {
		fmt.Fprintf(&b, "%sx%d.%s A\n", tag, i+1, itZone)
	}
	for i := 0; i < aaaa; i++ {
		fmt.Fprintf(&b, "n%d.%s AAAA\n", i%itNames+1, itZone)
	}
	batch := l.writeFile(t, "dig-"+tag+".txt", b.String())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", l.capNS, l.bins["dig"], "@"+itServerIP,
		"+tries=1", "+time=3", "+noall", "+comments", "-f", batch).CombinedOutput()
	if err != nil {
		t.Fatalf("dig batch: %v\n%s", err, tail(string(out), 3000))
	}
	got := map[string]int{}
	status := ""
	for _, line := range strings.Split(string(out), "\n") {
		if _, rest, ok := strings.Cut(line, "status: "); ok {
			status, _, _ = strings.Cut(rest, ",")
		}
		if _, rest, ok := strings.Cut(line, "ANSWER: "); ok && status != "" {
			n, _, _ := strings.Cut(rest, ",")
			kind := status
			if status == "NOERROR" && n == "0" {
				kind = "NODATA"
			}
			got[kind]++
			status = ""
		}
	}
	want := map[string]int{}
	if existing > 0 {
		want["NOERROR"] = existing
	}
	if nx > 0 {
		want["NXDOMAIN"] = nx
	}
	if aaaa > 0 {
		want["NODATA"] = aaaa
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("dig answers %v, want %v (is unbound serving %s?)\n%s", got, want, itZone, tail(string(out), 3000))
	}
	n := int64(existing + nx + aaaa)
	return dnsTraffic{
		queries: n, replies: n,
		noerror: int64(existing + aaaa), nxdomain: int64(nx), nodata: int64(aaaa),
		qtypeA: 2 * int64(existing+nx), qtypeAAAA: 2 * int64(aaaa),
	}
}

// perfFile writes n dnsperf query lines: every perfNXEvery-th is a name
// that doesn't exist.
func (l *dnsLab) perfFile(t *testing.T, n int, tag string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i%perfNXEvery == perfNXEvery-1 {
			fmt.Fprintf(&b, "%sy%d.%s A\n", tag, i, itZone)
		} else {
			fmt.Fprintf(&b, "n%d.%s A\n", i%itNames+1, itZone)
		}
	}
	return l.writeFile(t, "dnsperf-"+tag+".txt", b.String())
}

var (
	perfSentRE      = regexp.MustCompile(`Queries sent:\s+(\d+)`)
	perfCompletedRE = regexp.MustCompile(`Queries completed:\s+(\d+)`)
	perfLostRE      = regexp.MustCompile(`Queries lost:\s+(\d+)`)
	perfRcodesRE    = regexp.MustCompile(`Response codes:\s+(.*)`)
	perfRcodeRE     = regexp.MustCompile(`([A-Z]+) (\d+) \(`)
)

// runPerf replays the query file once at perfQPS and returns what dnsperf
// reports it sent and got back.
func (l *dnsLab) runPerf(t *testing.T, file string) dnsTraffic {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", l.capNS, l.bins["dnsperf"], "-s", itServerIP,
		"-d", file, "-n", "1", "-Q", strconv.Itoa(perfQPS), "-t", "5").CombinedOutput()
	if err != nil {
		t.Fatalf("dnsperf: %v\n%s", err, out)
	}
	num := func(re *regexp.Regexp) int64 {
		m := re.FindSubmatch(out)
		if m == nil {
			t.Fatalf("dnsperf output lacks %s:\n%s", re, out)
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n
	}
	sent, completed, lost := num(perfSentRE), num(perfCompletedRE), num(perfLostRE)
	rc := map[string]int64{}
	if m := perfRcodesRE.FindSubmatch(out); m != nil {
		for _, c := range perfRcodeRE.FindAllSubmatch(m[1], -1) {
			rc[string(c[1])], _ = strconv.ParseInt(string(c[2]), 10, 64)
		}
	}
	if sent != perfQueries {
		t.Fatalf("dnsperf sent %d queries, want %d\n%s", sent, perfQueries, out)
	}
	if lost > 0 {
		// The counters below follow dnsperf's own numbers, so a lost reply
		// doesn't fail the test by itself; a reply arriving after dnsperf's
		// 5 s timeout would (it is on the wire but not in "completed").
		t.Logf("dnsperf lost %d of %d queries; expecting the agent to count what dnsperf completed", lost, sent)
	}
	return dnsTraffic{
		queries: sent, replies: completed,
		noerror: rc["NOERROR"], nxdomain: rc["NXDOMAIN"],
		qtypeA: sent + completed,
	}
}

// metricsURL is the policy metrics route.
func (a *agent) metricsURL(policy, kind string, n int) string {
	return fmt.Sprintf("%s/api/v1/policies/%s/metrics/%s/%d", a.base, policy, kind, n)
}

// waitCounts polls u until the dns handler's queries and replies reach the
// expected values and stay there across a window-cache period (1 s). It
// returns the last body.
func (l *dnsLab) waitCounts(t *testing.T, a *agent, u, policy, dnsHandler string, queries, replies int64) map[string]any {
	t.Helper()
	var last map[string]any
	var stableSince time.Time
	poll(20*time.Second, 150*time.Millisecond, func() bool {
		if a.p.exited() {
			return true
		}
		st, _, b := l.get(u)
		if st != http.StatusOK {
			return false
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var m map[string]any
		if d.Decode(&m) != nil {
			return false
		}
		last = m
		q := jint(m, policy, dnsHandler, "dns", "wire_packets", "queries")
		r := jint(m, policy, dnsHandler, "dns", "wire_packets", "replies")
		if q != queries || r != replies {
			stableSince = time.Time{}
			return q > queries || r > replies // overshoot: no point waiting
		}
		if stableSince.IsZero() {
			stableSince = time.Now()
		}
		return time.Since(stableSince) > 1100*time.Millisecond
	})
	a.mustBeAlive(t)
	if last == nil {
		t.Fatalf("GET %s never answered 200 with JSON", u)
	}
	return last
}

// scenario is one agent run with the given pcap_source.
func (l *dnsLab) scenario(t *testing.T, source string) {
	ts := time.Now()
	a := l.startAgent(t, source)
	dnsH := itPolicy + "-" + itTap + "-dns"
	netH := itPolicy + "-" + itTap + "-net"
	pcapH := itPolicy + "-" + itTap + "-pcap"
	t.Logf("agent (%s) up in %v, pid %d", source, time.Since(ts).Round(time.Millisecond), a.pid)
	ps := l.startPrometheus(t) // scrapes over the namespace's lo, not the veth

	// 5. Traffic: a known mix with dig, then a dnsperf run.
	ts = time.Now()
	var sent dnsTraffic
	sent.add(l.runDig(t, digExisting, digNX, digAAAA, "m"))
	sent.add(l.runPerf(t, l.perfFile(t, perfQueries, "m")))
	t.Logf("traffic: %d queries, %d replies (noerror %d, nxdomain %d, nodata %d) sent in %v",
		sent.queries, sent.replies, sent.noerror, sent.nxdomain, sent.nodata, time.Since(ts).Round(time.Millisecond))

	// 6. REST counters, first bucket 0 (uncached), then window 2.
	ts = time.Now()
	b0 := l.waitCounts(t, a, a.metricsURL(itPolicy, "bucket", 0), itPolicy, dnsH, sent.queries, sent.replies)
	w2 := l.waitCounts(t, a, a.metricsURL(itPolicy, "window", 2), itPolicy, dnsH, sent.queries, sent.replies)
	t.Logf("counters settled in %v", time.Since(ts).Round(time.Millisecond))
	for _, c := range []struct {
		name string
		m    map[string]any
	}{{"window/2", w2}, {"bucket/0", b0}} {
		l.checkCounters(t, c.name, c.m, dnsH, netH, pcapH, sent)
	}
	l.checkErrors(t, a)

	// 7. A real Prometheus scrapes the agent.
	ts = time.Now()
	l.checkPrometheus(t, a, ps, dnsH, jint(b0, itPolicy, dnsH, "dns", "wire_packets", "queries"))
	t.Logf("prometheus checks took %v", time.Since(ts).Round(time.Millisecond))

	// 8. Admin API under traffic.
	ts = time.Now()
	l.checkAdmin(t, a)
	t.Logf("admin API checks took %v", time.Since(ts).Round(time.Millisecond))
	ts = time.Now()
	l.churn(t, a, dnsH)
	t.Logf("policy churn took %v", time.Since(ts).Round(time.Millisecond))

	// A clean stop: SIGTERM ends the agent with status 0.
	err, inTime := a.p.stop(10 * time.Second)
	if !inTime || err != nil {
		t.Errorf("pktvisord (%s): SIGTERM: exited in time %v, error %v; want a clean exit within 10 s", source, inTime, err)
	}
	if out := a.p.out.String(); strings.Contains(out, "panic") || strings.Contains(out, "level=ERROR") {
		t.Errorf("pktvisord (%s) logged a panic or an error:\n%s", source, tail(out, 4000))
	}
}

// checkCounters compares one metrics body with the traffic sent.
func (l *dnsLab) checkCounters(t *testing.T, what string, m map[string]any, dnsH, netH, pcapH string, sent dnsTraffic) {
	t.Helper()
	dns, ok := jpath(m, itPolicy, dnsH, "dns")
	if !ok {
		t.Fatalf("%s: no %s.%s.dns object in %v", what, itPolicy, dnsH, m)
	}
	wp := func(k string) int64 { return jint(dns, "wire_packets", k) }
	eq := func(name string, got, want int64) {
		if got != want {
			t.Errorf("%s: dns %s = %d, want %d (the exact number of DNS messages sent)", what, name, got, want)
		}
	}
	msgs := sent.queries + sent.replies
	eq("wire_packets.queries", wp("queries"), sent.queries)
	eq("wire_packets.replies", wp("replies"), sent.replies)
	eq("wire_packets.nxdomain", wp("nxdomain"), sent.nxdomain)
	eq("wire_packets.noerror", wp("noerror"), sent.noerror)
	eq("wire_packets.nodata", wp("nodata"), sent.nodata)
	eq("wire_packets.udp", wp("udp"), msgs)
	eq("wire_packets.tcp", wp("tcp"), 0)
	eq("wire_packets.ipv4", wp("ipv4"), msgs)
	eq("wire_packets.ipv6", wp("ipv6"), 0)
	eq("wire_packets.total", wp("total"), msgs)
	eq("wire_packets.refused", wp("refused"), 0)
	eq("wire_packets.srvfail", wp("srvfail"), 0)
	eq("wire_packets.filtered", wp("filtered"), 0)
	eq("top_qname2["+itAgg+"]", topEstimate(dns, itAgg, "top_qname2"), msgs)
	eq("top_rcode[NXDOMAIN]", topEstimate(dns, "NXDOMAIN", "top_rcode"), sent.nxdomain)
	eq("top_rcode[NOERROR]", topEstimate(dns, "NOERROR", "top_rcode"), sent.noerror)
	eq("top_qtype[A]", topEstimate(dns, "A", "top_qtype"), sent.qtypeA)
	eq("top_qtype[AAAA]", topEstimate(dns, "AAAA", "top_qtype"), sent.qtypeAAAA)
	// The host (10.210.0.2) is the client: every transaction is "out".
	eq("xact.out.total", jint(dns, "xact", "out", "total"), sent.replies)
	eq("xact.in.total", jint(dns, "xact", "in", "total"), 0)
	eq("xact.counts.total", jint(dns, "xact", "counts", "total"), sent.replies)
	eq("xact.counts.timed_out", jint(dns, "xact", "counts", "timed_out"), 0)
	// Distinct names: n1..n20, the dig NX names and the dnsperf NX names.
	distinct := int64(itNames + digNX + perfQueries/perfNXEvery)
	if c := jint(dns, "cardinality", "qname"); c < 0 || math.Abs(float64(c-distinct)) > 0.05*float64(distinct) {
		t.Errorf("%s: dns cardinality.qname = %d, want %d ± 5%%", what, c, distinct)
	}

	net, ok := jpath(m, itPolicy, netH, "packets")
	if !ok {
		t.Fatalf("%s: no %s.%s.packets object", what, itPolicy, netH)
	}
	np := func(k string) int64 { return jint(net, k) }
	ge := func(name string, got, min int64) {
		if got < min {
			t.Errorf("%s: net %s = %d, want >= %d", what, name, got, min)
		}
	}
	ge("udp", np("udp"), msgs)
	ge("ipv4", np("ipv4"), msgs)
	ge("in (replies to the host)", np("in"), sent.replies)
	ge("out (queries from the host)", np("out"), sent.queries)
	if np("unknown_dir") != 0 || np("ipv6") != 0 || np("tcp") != 0 {
		t.Errorf("%s: net unknown_dir %d, ipv6 %d, tcp %d; want 0 (only our UDP/IPv4 traffic crosses the veth)",
			what, np("unknown_dir"), np("ipv6"), np("tcp"))
	}
	if tot := np("total"); tot != np("in")+np("out")+np("unknown_dir") {
		t.Errorf("%s: net total %d != in %d + out %d + unknown %d", what, tot, np("in"), np("out"), np("unknown_dir"))
	}
	t.Logf("%s: net udp %d (DNS messages %d), in %d, out %d", what, np("udp"), msgs, np("in"), np("out"))

	pc, ok := jpath(m, itPolicy, pcapH, "pcap")
	if !ok {
		t.Errorf("%s: no %s.%s.pcap object (pcap handler missing)", what, itPolicy, pcapH)
	} else if e := jint(pc, "tcp_reassembly_errors"); e != 0 {
		t.Errorf("%s: pcap tcp_reassembly_errors = %d, want 0", what, e)
	}
}

// checkErrors checks the error statuses of the metrics routes.
func (l *dnsLab) checkErrors(t *testing.T, a *agent) {
	t.Helper()
	for _, c := range []struct {
		u    string
		want int
	}{
		{a.metricsURL("no-such-policy", "bucket", 0), http.StatusNotFound},
		{a.metricsURL("no-such-policy", "window", 2), http.StatusNotFound},
		{a.metricsURL(itPolicy, "bucket", 9), http.StatusTooEarly}, // outside [0, periods-1]
		{a.metricsURL(itPolicy, "bucket", 1), http.StatusTooEarly}, // not accumulated yet
		{a.metricsURL(itPolicy, "window", 9), http.StatusTooEarly}, // outside [2, periods]
		{a.base + "/api/v1/policies/no-such-policy", http.StatusNotFound},
	} {
		st, h, b := l.get(c.u)
		if st != c.want {
			t.Errorf("GET %s: status %d, want %d; body %s", c.u, st, c.want, b)
			continue
		}
		if ct := h.Get("Content-Type"); !strings.Contains(ct, "json") {
			t.Errorf("GET %s: Content-Type %q, want a JSON type", c.u, ct)
		}
		if e, _ := jpath(decodeJSON(t, c.u, b), "error"); e == nil || e == "" {
			t.Errorf("GET %s: body %s, want {\"error\": ...}", c.u, b)
		}
	}
}

// knownLint are promtool lint findings that follow from pktvisor's metric
// names (spec §1.1: counters are gauges and keep names like
// dns_wire_packets_total; quantiles are named *_us). Anything else fails.
var knownLint = []string{
	`non-counter metrics should not have "_total" suffix`,
	`metric names should not contain abbreviated units`,
}

// promServer is a Prometheus server in the capture namespace that scrapes
// the agent's policy exposition every second.
type promServer struct {
	p       *proc
	base    string
	path    string
	started time.Time
}

// startPrometheus starts Prometheus with a scrape config for the agent; it
// is started early so its start-up overlaps the traffic phase.
func (l *dnsLab) startPrometheus(t *testing.T) *promServer {
	t.Helper()
	dir := t.TempDir()
	ps := &promServer{base: "http://127.0.0.1:" + itPromPort, path: "/api/v1/policies/" + itPolicy + "/metrics/prometheus"}
	// honor_labels keeps the agent's instance="it1" instead of renaming it
	// to exported_instance.
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pktvisord
    honor_labels: true
    metrics_path: %s
    static_configs:
      - targets: ["127.0.0.1:%s"]
`, ps.path, itAgentPort)
	confPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ps.started = time.Now()
	ps.p = startProc(t, "prometheus", "ip", "netns", "exec", l.capNS, l.bins["prometheus"],
		"--config.file="+confPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+itPromPort, "--log.level=warn")
	return ps
}

// waitUp waits until Prometheus reports its one target healthy.
func (ps *promServer) waitUp(t *testing.T, l *dnsLab, a *agent) {
	t.Helper()
	var health string
	poll(45*time.Second, 200*time.Millisecond, func() bool {
		if ps.p.exited() || a.p.exited() {
			return true
		}
		st, _, b := l.get(ps.base + "/api/v1/targets")
		if st != http.StatusOK {
			return false
		}
		var r struct {
			Data struct {
				ActiveTargets []struct {
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		if json.Unmarshal(b, &r) != nil || len(r.Data.ActiveTargets) != 1 {
			return false
		}
		health = r.Data.ActiveTargets[0].Health + " " + r.Data.ActiveTargets[0].LastError
		return r.Data.ActiveTargets[0].Health == "up"
	})
	a.mustBeAlive(t)
	if ps.p.exited() || !strings.HasPrefix(health, "up") {
		t.Fatalf("prometheus target not up within 45 s (exited %v, target %q)\n%s", ps.p.exited(), health, ps.p.out.String())
	}
	t.Logf("prometheus target up %v after prometheus started", time.Since(ps.started).Round(time.Millisecond))
}

// checkPrometheus lints the exposition with promtool, then has a real
// Prometheus scrape it and compares the stored value with the REST value.
func (l *dnsLab) checkPrometheus(t *testing.T, a *agent, ps *promServer, dnsH string, restQueries int64) {
	t.Helper()
	promPath := ps.path
	st, h, expo := l.get(a.base + promPath)
	if st != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", promPath, st, expo)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET %s: Content-Type %q, want text/plain", promPath, ct)
	}
	wantLine := fmt.Sprintf(`dns_wire_packets_queries{handler="%s",instance="%s",policy="%s",tap="%s"} %d`,
		dnsH, itInstance, itPolicy, itTap, restQueries)
	if !bytes.Contains(expo, []byte(wantLine)) {
		t.Errorf("exposition lacks %q", wantLine)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.bins["promtool"], "check", "metrics")
	cmd.Stdin = bytes.NewReader(expo)
	out, err := cmd.CombinedOutput()
	// promtool exits 1 on a parse error and 3 on lint findings only.
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("promtool: %v", err)
	}
	var unknown []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		known := false
		for _, k := range knownLint {
			known = known || strings.Contains(line, k)
		}
		if !known {
			unknown = append(unknown, line)
		}
	}
	if (code != 0 && code != 3) || len(unknown) > 0 {
		t.Errorf("promtool check metrics: exit %d, findings not explained by pktvisor's names:\n%s\nfull output:\n%s",
			code, strings.Join(unknown, "\n"), out)
	} else {
		t.Logf("promtool check metrics: exit %d, %d known pktvisor naming findings:\n%s", code,
			strings.Count(string(out), "\n"), bytes.TrimSpace(out))
	}

	// The Prometheus server started with the agent: wait for its target.
	ps.waitUp(t, l, a)
	promBase := ps.base
	q := fmt.Sprintf(`dns_wire_packets_queries{instance=%q,policy=%q,handler=%q,tap=%q}`, itInstance, itPolicy, dnsH, itTap)
	qURL := promBase + "/api/v1/query?query=" + url.QueryEscape(q)
	var got string
	ok := poll(20*time.Second, 250*time.Millisecond, func() bool {
		st, _, b := l.get(qURL)
		if st != http.StatusOK {
			got = fmt.Sprintf("status %d: %s", st, b)
			return false
		}
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			got = string(b)
			return false
		}
		if len(r.Data.Result) != 1 || len(r.Data.Result[0].Value) != 2 {
			got = string(b)
			return false
		}
		got, _ = r.Data.Result[0].Value[1].(string)
		return got == strconv.FormatInt(restQueries, 10)
	})
	if !ok {
		t.Errorf("prometheus query %s = %s, want %d (REST bucket/0 wire_packets.queries)", q, got, restQueries)
	}
}

const secondPolicyYAML = `version: "1.0"
visor:
  policies:
    %s:
      kind: collection
      input:
        tap: ` + itTap + `
        input_type: pcap
      handlers:
        modules:
          dns2:
            type: dns
`

// checkAdmin adds a second policy on the same tap and checks that it counts,
// then the 409, 400 and delete paths.
func (l *dnsLab) checkAdmin(t *testing.T, a *agent) {
	t.Helper()
	polURL := a.base + "/api/v1/policies"
	doc := []byte(fmt.Sprintf(secondPolicyYAML, "second"))
	st, _, b := l.do(http.MethodPost, polURL, "application/x-yaml", doc)
	if st != http.StatusCreated {
		t.Fatalf("POST /api/v1/policies (second): status %d, want 201; body %s", st, b)
	}
	if _, ok := decodeJSON(t, "POST second", b)["second"]; !ok {
		t.Errorf("POST /api/v1/policies (second): body lacks the policy: %s", b)
	}
	sent := l.runDig(t, 8, 2, 0, "adm")
	secondH := "second-" + itTap + "-dns2"
	m := l.waitCounts(t, a, a.metricsURL("second", "bucket", 0), "second", secondH, sent.queries, sent.replies)
	if q, nx := jint(m, "second", secondH, "dns", "wire_packets", "queries"), jint(m, "second", secondH, "dns", "wire_packets", "nxdomain"); q != sent.queries || nx != sent.nxdomain {
		t.Errorf("policy added at run time: queries %d, nxdomain %d; want %d, %d (only the traffic sent after it was added)",
			q, nx, sent.queries, sent.nxdomain)
	}

	for _, c := range []struct {
		name, ct string
		body     []byte
		want     int
	}{
		{"same name again", "application/x-yaml", doc, http.StatusConflict},
		{"malformed YAML", "application/x-yaml", []byte("visor: [\n  policies:\n"), http.StatusBadRequest},
		{"unsupported content type", "text/plain", doc, http.StatusBadRequest},
	} {
		st, _, b := l.do(http.MethodPost, polURL, c.ct, c.body)
		if st != c.want {
			t.Errorf("POST /api/v1/policies (%s): status %d, want %d; body %s", c.name, st, c.want, b)
			continue
		}
		if e, _ := decodeJSON(t, "POST "+c.name, b)["error"].(string); e == "" {
			t.Errorf("POST /api/v1/policies (%s): body %s, want {\"error\": \"...\"}", c.name, b)
		}
	}
	if st, _, b := l.do(http.MethodDelete, polURL+"/second", "", nil); st != http.StatusOK {
		t.Errorf("DELETE /api/v1/policies/second: status %d, want 200; body %s", st, b)
	}
	if st, _, b := l.get(polURL + "/second"); st != http.StatusNotFound {
		t.Errorf("GET /api/v1/policies/second after DELETE: status %d, want 404; body %s", st, b)
	}
}

// churn adds and deletes a policy churnCycles times while dnsperf sends
// traffic, and checks the agent's RSS and threads stay flat and the first
// policy keeps counting.
func (l *dnsLab) churn(t *testing.T, a *agent, dnsH string) {
	t.Helper()
	before := jint(l.getJSON(t, a.metricsURL(itPolicy, "bucket", 0)), itPolicy, dnsH, "dns", "wire_packets", "queries")
	bg := startProc(t, "dnsperf (background)", "ip", "netns", "exec", l.capNS, l.bins["dnsperf"], "-s", itServerIP,
		"-d", l.perfFile(t, 1000, "bg"), "-l", "120", "-Q", "500", "-t", "2")

	polURL := a.base + "/api/v1/policies"
	doc := []byte(fmt.Sprintf(secondPolicyYAML, "churn"))
	var baseRSS int64
	var baseThreads int
	start := time.Now()
	for i := 1; i <= churnCycles; i++ {
		if st, _, b := l.do(http.MethodPost, polURL, "application/x-yaml", doc); st != http.StatusCreated {
			a.mustBeAlive(t)
			t.Fatalf("churn cycle %d: POST: status %d, want 201; body %s", i, st, b)
		}
		if st, _, b := l.do(http.MethodDelete, polURL+"/churn", "", nil); st != http.StatusOK {
			a.mustBeAlive(t)
			t.Fatalf("churn cycle %d: DELETE: status %d, want 200; body %s", i, st, b)
		}
		if i == churnBaseline || i%250 == 0 {
			rss, th, err := procStatus(a.pid)
			if err != nil {
				t.Fatalf("churn cycle %d: agent status: %v (did it die?)\n%s", i, err, tail(a.p.out.String(), 3000))
			}
			t.Logf("churn cycle %4d: VmRSS %.1f MiB, threads %d, %.0f cycles/s", i, float64(rss)/(1<<20), th,
				float64(i)/time.Since(start).Seconds())
			if i == churnBaseline {
				baseRSS, baseThreads = rss, th
			}
			if i == churnCycles {
				// RSS is noisy (GC timing, page reuse), so allow +10 % plus a
				// fixed 8 MiB; a leak of a policy's handlers and sketches per
				// cycle would show as tens of MiB over 950 cycles.
				limit := baseRSS + baseRSS/10 + rssSlack
				if rss > limit {
					t.Errorf("agent VmRSS after %d add/delete cycles = %.1f MiB, after %d = %.1f MiB; want <= %.1f MiB (+10%% + 8 MiB): memory leak per policy?",
						churnCycles, float64(rss)/(1<<20), churnBaseline, float64(baseRSS)/(1<<20), float64(limit)/(1<<20))
				}
				if th > baseThreads+16 {
					t.Errorf("agent threads after %d cycles = %d, after %d = %d; want <= %d", churnCycles, th, churnBaseline, baseThreads, baseThreads+16)
				}
			}
		}
	}
	if bg.exited() {
		t.Errorf("background dnsperf ended early:\n%s", bg.out.String())
	}
	bg.stop(5 * time.Second)

	// The first policy kept counting, and no churn policy is left.
	after := l.getJSON(t, a.metricsURL(itPolicy, "window", 2))
	if q := jint(after, itPolicy, dnsH, "dns", "wire_packets", "queries"); q <= before {
		t.Errorf("policy %s after churn: wire_packets.queries %d, want > %d (background traffic)", itPolicy, q, before)
	}
	pols := l.getJSON(t, polURL)
	if _, ok := pols[itPolicy]; !ok {
		t.Errorf("GET /api/v1/policies after churn lacks %s: %v", itPolicy, pols)
	}
	for _, gone := range []string{"churn", "second"} {
		if _, ok := pols[gone]; ok {
			t.Errorf("GET /api/v1/policies after churn still lists %s", gone)
		}
	}
}

// testBadInput starts the agent with broken command lines and configs: each
// must exit non-zero within a few seconds with one clear line on stderr.
func testBadInput(t *testing.T, bin string) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A port that is in use: held by this test.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	usedPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	missingIf := "pvnosuch" + randSuffix(t)
	freePort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	}
	admin := func(args ...string) []string {
		return append([]string{"--admin-api", "-l", "127.0.0.1", "-p", freePort()}, args...)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"invalid YAML", admin("--config", write("invalid.yaml", "version: \"1.0\"\nvisor:\n  taps: [\n    x: 1\n")),
			[]string{"invalid.yaml", "line"}},
		{"unknown key", admin("--config", write("unknown.yaml", "version: \"1.0\"\nvisor:\n  taps:\n    t:\n      input_type: pcap\n      bogus_key: 1\n")),
			[]string{"bogus_key", "line 6"}},
		{"wrong type", admin("--config", write("type.yaml", "version: \"1.0\"\nvisor:\n  config:\n    port: notaport\n")),
			[]string{"port", "notaport", "line 4"}},
		{"missing interface", admin("--config", write("iface.yaml", fmt.Sprintf(`version: "1.0"
visor:
  taps:
    t:
      input_type: pcap
      config:
        iface: %s
        pcap_source: af_packet
  policies:
    p:
      kind: collection
      input:
        tap: t
        input_type: pcap
      handlers:
        modules:
          n:
            type: net
`, missingIf))), []string{missingIf, "not found"}},
		{"missing interface IFACE", []string{"-l", "127.0.0.1", "-p", freePort(), missingIf}, []string{missingIf, "not found"}},
		{"port in use", []string{"--admin-api", "-l", "127.0.0.1", "-p", usedPort}, []string{usedPort, "address already in use"}},
		{"tls without cert", admin("--tls", "--tls-cert", filepath.Join(dir, "nope.pem"), "--tls-key", filepath.Join(dir, "nope.key")),
			[]string{"nope.pem", "no such file"}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, c.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			ts := time.Now()
			err := cmd.Run()
			took := time.Since(ts)
			if ctx.Err() != nil {
				t.Fatalf("pktvisord %s: still running after 10 s (killed); want a fast non-zero exit\nstderr: %s", strings.Join(c.args, " "), stderr.String())
			}
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() == 0 {
				t.Fatalf("pktvisord %s: exit %v, want a non-zero status\nstderr: %s", strings.Join(c.args, " "), err, stderr.String())
			}
			if took > 5*time.Second {
				t.Errorf("pktvisord %s: took %v to fail, want < 5 s", strings.Join(c.args, " "), took)
			}
			msg := strings.TrimSpace(stderr.String())
			if n := strings.Count(msg, "\n") + 1; n != 1 {
				t.Errorf("stderr has %d lines, want one:\n%s", n, msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr %q lacks %q", msg, w)
				}
			}
			t.Logf("exit %d in %v: %s", ee.ExitCode(), took.Round(time.Millisecond), msg)
		})
	}
}
