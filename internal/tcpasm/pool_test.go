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

func TestBufCap(t *testing.T) {
	tests := []struct {
		n, want int
	}{
		{0, 512}, {1, 512}, {512, 512}, {513, 1024}, {1 << 18, 1 << 18}, {1<<18 + 1, 1<<18 + 1},
	}
	var p bufPool
	for _, tt := range tests {
		if got := bufCap(tt.n); got != tt.want {
			t.Errorf("bufCap(%d) = %d, want %d", tt.n, got, tt.want)
		}
		b := p.get(tt.n)
		if cap(b) != tt.want {
			t.Errorf("cap(get(%d)) = %d, want %d", tt.n, cap(b), tt.want)
		}
		p.put(b)
		if b = p.get(tt.n); cap(b) != tt.want {
			t.Errorf("cap(get(%d)) from the free list = %d, want %d", tt.n, cap(b), tt.want)
		}
	}
}
