package libpcap

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	cases := []struct {
		name    string
		in      Config
		want    Config
		wantErr string
	}{
		{
			name: "zero means pktvisor's settings",
			in:   Config{Iface: "eth0"},
			want: Config{Iface: "eth0", Snaplen: 1000, BufferSize: 16 << 20, Timeout: 10 * time.Millisecond},
		},
		{
			name: "explicit values kept",
			in:   Config{Iface: "eth0", Snaplen: 65535, Promisc: true, DisableImmediate: true, BufferSize: 1 << 20, Timeout: time.Second, Filter: "udp"},
			want: Config{Iface: "eth0", Snaplen: 65535, Promisc: true, DisableImmediate: true, BufferSize: 1 << 20, Timeout: time.Second, Filter: "udp"},
		},
		{
			name: "timeout rounded up to a millisecond",
			in:   Config{Iface: "eth0", Timeout: 1500 * time.Microsecond},
			want: Config{Iface: "eth0", Snaplen: 1000, BufferSize: 16 << 20, Timeout: 2 * time.Millisecond},
		},
		{
			name: "sub-millisecond timeout becomes 1 ms",
			in:   Config{Iface: "eth0", Timeout: time.Nanosecond},
			want: Config{Iface: "eth0", Snaplen: 1000, BufferSize: 16 << 20, Timeout: time.Millisecond},
		},
		{name: "no interface", in: Config{}, wantErr: "no interface"},
		{name: "negative snaplen", in: Config{Iface: "eth0", Snaplen: -1}, wantErr: "snaplen -1"},
		{name: "huge snaplen", in: Config{Iface: "eth0", Snaplen: MaxSnaplen + 1}, wantErr: "snaplen 262145"},
		{name: "negative buffer", in: Config{Iface: "eth0", BufferSize: -1}, wantErr: "negative buffer"},
		{name: "negative timeout", in: Config{Iface: "eth0", Timeout: -time.Second}, wantErr: "negative timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.withDefaults()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestBatchLimit(t *testing.T) {
	cases := []struct {
		snaplen, want int
	}{
		{1000, 4194},
		{65535, 64},
		{MaxSnaplen, 16},
		{64, maxBatch},
	}
	for _, tc := range cases {
		if got := batchLimit(tc.snaplen); got != tc.want {
			t.Errorf("batchLimit(%d) = %d, want %d", tc.snaplen, got, tc.want)
		}
	}
}

func TestNoSuchInterfaceError(t *testing.T) {
	err := &NoSuchInterfaceError{Iface: "eth9"}
	if got, want := err.Error(), "interface eth9 not found"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
