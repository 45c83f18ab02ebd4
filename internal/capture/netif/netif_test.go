package netif

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeIface is one interface of a fake sysfs tree.
type fakeIface struct {
	typ       string // class/net/NAME/type
	rxPackets string // statistics/rx_packets
	rxQueues  int
	addrs     []string
}

// fakeSys writes a class/net tree under a temporary root and returns a
// System reading it, with addresses served from the same table.
func fakeSys(tb testing.TB, ifaces map[string]fakeIface) System {
	tb.Helper()
	root := tb.TempDir()
	for name, fi := range ifaces {
		dir := filepath.Join(root, "class", "net", name)
		write := func(rel, content string) {
			tb.Helper()
			p := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content+"\n"), 0o644); err != nil {
				tb.Fatal(err)
			}
		}
		write("type", fi.typ)
		write("statistics/rx_packets", fi.rxPackets)
		write("statistics/rx_dropped", "7")
		for q := 0; q < fi.rxQueues; q++ {
			if err := os.MkdirAll(filepath.Join(dir, "queues", fmt.Sprintf("rx-%d", q)), 0o755); err != nil {
				tb.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, "queues", fmt.Sprintf("tx-%d", q)), 0o755); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return System{
		SysRoot: root,
		Addrs: func(iface string) ([]netip.Prefix, error) {
			fi, ok := ifaces[iface]
			if !ok {
				return nil, fmt.Errorf("interface %s %w", iface, ErrNotFound)
			}
			var out []netip.Prefix
			for _, a := range fi.addrs {
				out = append(out, netip.MustParsePrefix(a))
			}
			return out, nil
		},
	}
}

var testIfaces = map[string]fakeIface{
	"lo":    {typ: "772", rxPackets: "999999", rxQueues: 1, addrs: []string{"127.0.0.1/32", "::1/128"}},
	"eth0":  {typ: "1", rxPackets: "1200", rxQueues: 4, addrs: []string{"192.0.2.10/32", "2001:db8::10/128"}},
	"eth1":  {typ: "1", rxPackets: "98765", rxQueues: 2, addrs: []string{"198.51.100.7/32"}},
	"tun0":  {typ: "65534", rxPackets: "5", rxQueues: 1},
	"wlan0": {typ: "1", rxPackets: "98765", rxQueues: 1}, // ties with eth1; eth1 sorts first
}

func TestResolve(t *testing.T) {
	sys := fakeSys(t, testIfaces)
	for _, tc := range []struct {
		spec    string
		want    string
		wantErr string
	}{
		{spec: "eth0", want: "eth0"},
		{spec: "lo", want: "lo"},
		{spec: "auto", want: "eth1"},
		{spec: "192.0.2.10", want: "eth0"},
		{spec: "2001:db8::10", want: "eth0"},
		{spec: "198.51.100.7", want: "eth1"},
		{spec: "::ffff:198.51.100.7", want: "eth1"},
		{spec: "127.0.0.1", want: "lo"},
		{spec: "eth9", wantErr: "interface eth9 not found"},
		{spec: "203.0.113.1", wantErr: "interface with address 203.0.113.1 not found"},
		{spec: "../eth0", wantErr: "interface ../eth0 not found"},
		{spec: "", wantErr: "interface  not found"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := sys.Resolve(tc.spec)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || !errors.Is(err, ErrNotFound) {
					t.Fatalf("Resolve(%q) = %q, %v; want error %q", tc.spec, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tc.spec, got, err, tc.want)
			}
		})
	}
}

func TestResolveAutoOnlyLoopback(t *testing.T) {
	sys := fakeSys(t, map[string]fakeIface{"lo": testIfaces["lo"]})
	_, err := sys.Resolve("auto")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Resolve(auto) = %v, want ErrNotFound", err)
	}
}

func TestResolveAutoBadCounter(t *testing.T) {
	sys := fakeSys(t, map[string]fakeIface{"eth0": {typ: "1", rxPackets: "lots"}})
	if _, err := sys.Resolve("auto"); err == nil || !strings.Contains(err.Error(), "rx_packets") {
		t.Fatalf("Resolve(auto) = %v, want a parse error naming rx_packets", err)
	}
}

func TestRxQueues(t *testing.T) {
	sys := fakeSys(t, testIfaces)
	for name, want := range map[string]int{"eth0": 4, "eth1": 2, "lo": 1} {
		if got, err := sys.RxQueues(name); err != nil || got != want {
			t.Errorf("RxQueues(%s) = %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := sys.RxQueues("eth9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RxQueues(eth9) = %v, want ErrNotFound", err)
	}
}

func TestCounters(t *testing.T) {
	sys := fakeSys(t, testIfaces)
	if got, err := sys.RxPackets("eth1"); err != nil || got != 98765 {
		t.Errorf("RxPackets = %d, %v", got, err)
	}
	if got, err := sys.RxDropped("eth1"); err != nil || got != 7 {
		t.Errorf("RxDropped = %d, %v", got, err)
	}
	if _, err := sys.RxDropped("eth9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RxDropped(eth9) = %v, want ErrNotFound", err)
	}
	names, err := sys.Interfaces()
	if want := []string{"eth0", "eth1", "lo", "tun0", "wlan0"}; err != nil || !reflect.DeepEqual(names, want) {
		t.Errorf("Interfaces = %v, %v; want %v", names, err, want)
	}
}

func TestParseUint(t *testing.T) {
	for in, want := range map[string]uint64{"0\n": 0, " 42 \n": 42, "0x1003\n": 0x1003} {
		if got, err := parseUint(in); err != nil || got != want {
			t.Errorf("parseUint(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := parseUint("-1"); err == nil {
		t.Error("parseUint(-1) succeeded")
	}
}

func TestHostPrefixes(t *testing.T) {
	got := hostPrefixes([]net.IP{
		net.IPv4(10, 0, 0, 1), // 16-byte form
		net.ParseIP("2001:db8::1"),
		{1, 2, 3}, // not an address
	})
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("2001:db8::1/128")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hostPrefixes = %v, want %v", got, want)
	}
}

// TestAddrsLoopback reads the real loopback device, which every Linux
// network namespace has.
func TestAddrsLoopback(t *testing.T) {
	if _, err := os.Stat("/sys/class/net/lo"); err != nil {
		t.Skip("no Linux loopback device here")
	}
	prefixes, err := Addrs("lo")
	if err != nil {
		t.Fatalf("Addrs(lo): %v", err)
	}
	found := false
	for _, p := range prefixes {
		if !p.IsSingleIP() {
			t.Errorf("%v is not a host prefix", p)
		}
		if p == netip.MustParsePrefix("127.0.0.1/32") {
			found = true
		}
	}
	if !found {
		t.Errorf("Addrs(lo) = %v, want 127.0.0.1/32 among them", prefixes)
	}
	if _, err := Addrs("nosuchif9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Addrs(nosuchif9) = %v, want ErrNotFound", err)
	}
}

// TestRunningSystem checks the package-level helpers against this host.
func TestRunningSystem(t *testing.T) {
	if _, err := os.Stat("/sys/class/net/lo"); err != nil {
		t.Skip("no Linux sysfs here")
	}
	if got, err := Resolve("lo"); err != nil || got != "lo" {
		t.Errorf("Resolve(lo) = %q, %v", got, err)
	}
	if got, err := Resolve("127.0.0.1"); err != nil || got != "lo" {
		t.Errorf("Resolve(127.0.0.1) = %q, %v", got, err)
	}
	if n, err := RxQueues("lo"); err != nil || n < 1 {
		t.Errorf("RxQueues(lo) = %d, %v", n, err)
	}
}
