package tcpasm

import (
	"strconv"
	"testing"
)

func TestBufPool(t *testing.T) {
	tests := []struct {
		n, class, cap int
	}{
		{1, 0, 512},
		{512, 0, 512},
		{513, 1, 1024},
		{4096, 3, 4096},
		{DefaultMaxBuffered, 9, 1 << 18},
		{1 << 18, 9, 1 << 18},
		{1<<18 + 1, -1, 1<<18 + 1},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			if got := class(tt.n); got != tt.class {
				t.Errorf("class(%d) = %d, want %d", tt.n, got, tt.class)
			}
			var p bufPool
			b := p.get(tt.n)
			if len(b) != 0 || cap(b) != tt.cap {
				t.Errorf("get(%d): len %d cap %d, want 0, %d", tt.n, len(b), cap(b), tt.cap)
			}
			p.put(append(b, 1))
			again := p.get(tt.n)
			reused := tt.class >= 0 && cap(again) == cap(b) && &again[:1][0] == &b[:1][0]
			if reused != (tt.class >= 0) {
				t.Errorf("get after put reused the buffer: %v, want %v", reused, tt.class >= 0)
			}
		})
	}
}

func TestBufPoolRetainLimit(t *testing.T) {
	var p bufPool
	for range 10 {
		p.put(make([]byte, 0, 1<<18))
		p.put(make([]byte, 0, 512))
		p.put(make([]byte, 0, 1000)) // not a class size: dropped
	}
	if got := len(p.free[9]); got != minRetain {
		t.Errorf("256 KiB class keeps %d buffers, want %d", got, minRetain)
	}
	if got := len(p.free[0]); got != 10 {
		t.Errorf("512 B class keeps %d buffers, want 10", got)
	}
	if got := len(p.free[1]); got != 0 {
		t.Errorf("1 KiB class keeps %d buffers, want 0", got)
	}
}

func TestBufPoolGrow(t *testing.T) {
	var p bufPool
	b := append(p.get(10), "0123456789"...)
	b = p.grow(b, 600)
	if cap(b) != 1024 || string(b) != "0123456789" {
		t.Errorf("grow: cap %d contents %q", cap(b), b)
	}
	if len(p.free[0]) != 1 {
		t.Errorf("old buffer not returned: %d in class 0", len(p.free[0]))
	}
}
