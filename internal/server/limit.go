package server

import (
	"net"
	"sync"
	"time"
)

// ConnWait is how long a connection beyond Config.MaxConns waits for a free
// slot before it is closed. The listener accepts nothing else meanwhile, so
// further connections wait in the kernel's backlog.
const ConnWait = 100 * time.Millisecond

// limitListener accepts at most cap(slots) open connections. Unlike
// x/net/netutil.LimitListener, which leaves every excess connection in the
// backlog until a slot frees, it closes a connection that found no slot
// within wait: a client flood cannot queue behind the limit for ever.
type limitListener struct {
	net.Listener
	slots  chan struct{}
	wait   time.Duration
	refuse func(remote net.Addr) // called (on the accepting goroutine) before a connection is closed
}

func newLimitListener(ln net.Listener, n int, wait time.Duration, refuse func(net.Addr)) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), wait: wait, refuse: refuse}
}

// Accept implements net.Listener.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.acquire() {
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		}
		l.refuse(c.RemoteAddr())
		c.Close()
	}
}

func (l *limitListener) acquire() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// limitConn gives its slot back on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close implements net.Conn.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
