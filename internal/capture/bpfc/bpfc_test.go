package bpfc

import (
	"errors"
	"testing"
)

// ethUDP is an Ethernet/IPv4/UDP frame 10.0.0.1:1234 -> 10.0.0.2:53.
var ethUDP = []byte{
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
	0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
	0x04, 0xd2, 0, 53, 0, 8, 0, 0,
}

func TestCompile(t *testing.T) {
	cases := []struct {
		expr string
		want bool
	}{
		{"udp port 53", true},
		{"tcp", false},
		{"host 10.0.0.2", true},
		{"net 192.168.0.0/16", false},
		{"src port 1234 and dst host 10.0.0.2", true},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			m, err := Compile(tc.expr, 1, 65535)
			if errors.Is(err, ErrNotSupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m(ethUDP); got != tc.want {
				t.Fatalf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCompileError(t *testing.T) {
	_, err := Compile("port nonsense and", 1, 65535)
	if errors.Is(err, ErrNotSupported) {
		t.Skip(err)
	}
	if err == nil {
		t.Fatal("want an error for a bad expression")
	}
}

func TestMatcherAllocs(t *testing.T) {
	m, err := Compile("udp port 53", 1, 65535)
	if err != nil {
		t.Skip(err)
	}
	if a := testing.AllocsPerRun(100, func() { m(ethUDP) }); a != 0 {
		t.Errorf("matcher allocates %v per frame", a)
	}
}
