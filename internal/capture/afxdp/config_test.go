package afxdp

import (
	"errors"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
		err  bool
	}{
		{"defaults", Config{Iface: "eth0"}, Config{Iface: "eth0", Frames: DefaultFrames, FrameSize: DefaultFrameSize, Timeout: DefaultTimeout}, false},
		{"explicit", Config{Iface: "eth0", Queue: 3, Frames: 1024, FrameSize: 4096, Timeout: time.Second},
			Config{Iface: "eth0", Queue: 3, Frames: 1024, FrameSize: 4096, Timeout: time.Second}, false},
		{"no iface", Config{}, Config{}, true},
		{"negative queue", Config{Iface: "eth0", Queue: -1}, Config{}, true},
		{"frames not power of two", Config{Iface: "eth0", Frames: 3000}, Config{}, true},
		{"frames too few", Config{Iface: "eth0", Frames: 32}, Config{}, true},
		{"frame size", Config{Iface: "eth0", FrameSize: 1500}, Config{}, true},
		{"timeout", Config{Iface: "eth0", Timeout: time.Microsecond}, Config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.withDefaults()
			if tt.err {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("err %v, want ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
