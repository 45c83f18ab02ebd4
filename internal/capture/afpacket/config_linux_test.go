//go:build linux

package afpacket

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Iface: "eth0"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Iface:        "eth0",
		BlockSize:    1 << 20,
		NumBlocks:    32,
		FrameSize:    2048,
		Snaplen:      65535,
		BlockTimeout: 10 * time.Millisecond,
		Timeout:      100 * time.Millisecond,
	}
	if c.Iface != want.Iface || c.BlockSize != want.BlockSize || c.NumBlocks != want.NumBlocks ||
		c.FrameSize != want.FrameSize || c.Snaplen != want.Snaplen || c.BlockTimeout != want.BlockTimeout ||
		c.Timeout != want.Timeout {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	if got := c.BlockSize * c.NumBlocks; got != 32<<20 {
		t.Errorf("default ring = %d bytes, want 32 MiB", got)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Iface: "eth0", BlockSize: 1 << 20, NumBlocks: 4, FrameSize: 2048, Snaplen: 1000,
		BlockTimeout: 10 * time.Millisecond, Timeout: 100 * time.Millisecond}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		valid  bool
	}{
		{"ok", func(*Config) {}, true},
		{"fanout", func(c *Config) { c.Fanout = &Fanout{Mode: FanoutQM, Workers: 2} }, true},
		{"filter", func(c *Config) { c.Filter = make([]unix.SockFilter, 4096) }, true},
		{"no iface", func(c *Config) { c.Iface = "" }, false},
		{"block not page multiple", func(c *Config) { c.BlockSize = 5000 }, false},
		{"negative blocks", func(c *Config) { c.NumBlocks = -1 }, false},
		{"ring too large", func(c *Config) { c.BlockSize, c.NumBlocks = 1<<30, 4 }, false},
		{"frame unaligned", func(c *Config) { c.FrameSize = 2000 }, false},
		{"frame too small", func(c *Config) { c.FrameSize = 64 }, false},
		{"frame does not divide block", func(c *Config) { c.FrameSize = 3 * 1024 }, false},
		{"frame larger than block", func(c *Config) { c.BlockSize, c.FrameSize = 4096, 8192 }, false},
		{"snaplen", func(c *Config) { c.Snaplen = 300000 }, false},
		{"block timeout", func(c *Config) { c.BlockTimeout = time.Microsecond }, false},
		{"timeout", func(c *Config) { c.Timeout = -time.Second }, false},
		{"filter too long", func(c *Config) { c.Filter = make([]unix.SockFilter, 4097) }, false},
		{"fanout mode", func(c *Config) { c.Fanout = &Fanout{Mode: 9} }, false},
		{"fanout workers", func(c *Config) { c.Fanout = &Fanout{Workers: -1} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.change(&c)
			err := c.validate(4096)
			if tc.valid && err != nil {
				t.Fatalf("validate: %v", err)
			}
			if !tc.valid && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("validate = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestFanoutMode(t *testing.T) {
	for _, name := range []string{"hash", "lb", "cpu", "qm"} {
		m, err := ParseFanoutMode(name)
		if err != nil || m.String() != name {
			t.Errorf("ParseFanoutMode(%q) = %v, %v", name, m, err)
		}
	}
	if _, err := ParseFanoutMode("rollover"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("ParseFanoutMode(rollover) = %v", err)
	}
	if got := FanoutMode(7).String(); got != "FanoutMode(7)" {
		t.Errorf("String = %q", got)
	}
	typ, flags, err := FanoutHash.kernel()
	if err != nil || typ != unix.PACKET_FANOUT_HASH || flags != unix.PACKET_FANOUT_FLAG_DEFRAG {
		t.Errorf("hash = %#x %#x %v", typ, flags, err)
	}
}

func TestLinkType(t *testing.T) {
	for _, tc := range []struct {
		hatype uint16
		want   uint32
	}{
		{unix.ARPHRD_ETHER, 1},
		{unix.ARPHRD_LOOPBACK, 1},
		{unix.ARPHRD_NONE, 101},
		{unix.ARPHRD_RAWIP, 101},
		{unix.ARPHRD_IEEE80211_RADIOTAP, 127},
	} {
		if got, err := linkType(tc.hatype); err != nil || got != tc.want {
			t.Errorf("linkType(%d) = %d, %v; want %d", tc.hatype, got, err, tc.want)
		}
	}
	if _, err := linkType(unix.ARPHRD_PPP); !errors.Is(err, capture.ErrNotSupported) {
		t.Errorf("linkType(PPP) = %v, want ErrNotSupported", err)
	}
}

func TestHtons(t *testing.T) {
	if got := htons(unix.ETH_P_ALL); got != 0x0300 {
		t.Errorf("htons(ETH_P_ALL) = %#x", got)
	}
}
