package decode

import (
	"net/netip"
	"testing"
)

func TestHostSpec(t *testing.T) {
	h, err := ParseHostSpec("192.168.0.0/24, 10.0.0.1 ,2001:db8::/32,fe80::/10,::ffff:172.16.0.0/108,2001:db8:1:2:3:4:5:0/127")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		addr string
		want bool
	}{
		{"192.168.0.1", true}, {"192.168.1.1", false}, {"2001:db8::1", true}, {"2001:db9::1", false},
		{"fe80::1", true}, {"febf::1", true}, {"fec0::1", false}, {"2001:db8:1:2:3:4:5:1", true},
		{"::ffff:192.168.0.5", true}, {"::1", false}, {"172.16.5.5", true},
	}
	for _, tc := range cases {
		if got := h.Contains(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	// Without the catch-all, and checked against netip.Prefix.Contains.
	h2, _ := ParseHostSpec("192.168.0.0/24,10.0.0.1,2001:db8::/32,2001:db8:1:2:3:4:5:0/127,fe80::/10")
	for _, s := range []string{"192.168.0.255", "192.168.1.0", "10.0.0.1", "10.0.0.2", "2001:db8:ffff::1",
		"2001:db8:1:2:3:4:5:1", "2001:db8:1:2:3:4:5:2", "fe80::1", "fec0::1", "8.8.8.8"} {
		a := netip.MustParseAddr(s)
		want := false
		for _, p := range h2.Prefixes() {
			want = want || p.Contains(a)
		}
		if got := h2.Contains(a); got != want {
			t.Errorf("Contains(%s) = %v, netip says %v", s, got, want)
		}
	}
	if h2.Contains(netip.Addr{}) {
		t.Error("zero Addr is contained")
	}
	if _, err := ParseHostSpec("10.0.0.0/33"); err == nil {
		t.Error("bad prefix accepted")
	}
	if d := h2.Direction(netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("192.168.0.3")); d != DirToHost {
		t.Errorf("direction %v", d)
	}
	if d := h2.Direction(netip.MustParseAddr("192.168.0.3"), netip.MustParseAddr("8.8.8.8")); d != DirFromHost {
		t.Errorf("direction %v", d)
	}
	if d := (&HostSpec{}).Direction(netip.MustParseAddr("192.168.0.3"), netip.MustParseAddr("8.8.8.8")); d != DirUnknown {
		t.Errorf("direction %v", d)
	}
}

func BenchmarkHostSpecContains(b *testing.B) {
	h, _ := ParseHostSpec("192.168.0.0/24,2001:db8::/32")
	a := netip.MustParseAddr("8.8.8.8")
	for i := 0; i < b.N; i++ {
		h.Contains(a)
	}
}
