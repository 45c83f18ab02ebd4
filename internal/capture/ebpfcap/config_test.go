package ebpfcap

import (
	"errors"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name    string
		in      Config
		want    Config
		wantErr bool
	}{
		{"defaults", Config{Iface: "eth0"}, Config{Iface: "eth0", Snaplen: DefaultSnaplen, Timeout: DefaultTimeout, RingSize: DefaultRingSize}, false},
		{"kept", Config{Iface: "eth0", Snaplen: 96, Timeout: time.Second, Mode: ModeTCX, RingSize: 1 << 16, Ports: []uint16{53}},
			Config{Iface: "eth0", Snaplen: 96, Timeout: time.Second, Mode: ModeTCX, RingSize: 1 << 16, Ports: []uint16{53}}, false},
		{"no iface", Config{}, Config{}, true},
		{"snaplen too big", Config{Iface: "eth0", Snaplen: 513}, Config{}, true},
		{"negative snaplen", Config{Iface: "eth0", Snaplen: -1}, Config{}, true},
		{"too many ports", Config{Iface: "eth0", Ports: make([]uint16, 1025)}, Config{}, true},
		{"timeout too short", Config{Iface: "eth0", Timeout: time.Microsecond}, Config{}, true},
		{"bad mode", Config{Iface: "eth0", Mode: Mode(9)}, Config{}, true},
		{"ring not a power of two", Config{Iface: "eth0", RingSize: 3 << 20}, Config{}, true},
		{"ring below a page", Config{Iface: "eth0", RingSize: 1024}, Config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.withDefaults()
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("error %v, want ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Iface != tt.want.Iface || got.Snaplen != tt.want.Snaplen || got.Timeout != tt.want.Timeout ||
				got.Mode != tt.want.Mode || got.RingSize != tt.want.RingSize || len(got.Ports) != len(tt.want.Ports) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ModeAuto, ModeNative, ModeGeneric, ModeTCX} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMode("zerocopy"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("ParseMode(zerocopy): %v, want ErrInvalidConfig", err)
	}
}
