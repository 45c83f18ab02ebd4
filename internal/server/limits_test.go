package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveTest serves cfg (on 127.0.0.1 unless cfg.Addr is set) until the test
// ends and returns the bound address.
func serveTest(t testing.TB, cfg Config) (string, *fake) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	f := newFake()
	s := New(cfg, f, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ln, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String(), f
}

// get sends one keep-alive GET on c and reads the response.
func get(t testing.TB, c net.Conn, br *bufio.Reader, path string) *http.Response {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// closedWithin reports whether the server closes c (EOF or reset) within
// d, after whatever response it sends.
func closedWithin(c net.Conn, br *bufio.Reader, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, br)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func dial(t testing.TB, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func TestMaxConns(t *testing.T) {
	addr, _ := serveTest(t, Config{MaxConns: 2})
	c1, r1 := dial(t, addr)
	c2, r2 := dial(t, addr)
	get(t, c1, r1, "/api/v1/metrics/app")
	get(t, c2, r2, "/api/v1/metrics/app")
	c3, r3 := dial(t, addr)
	io.WriteString(c3, "GET /api/v1/metrics/app HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if !closedWithin(c3, r3, 3*time.Second) {
		t.Fatal("a third connection was served with MaxConns 2")
	}
	// A slot freed is a slot for the next connection.
	c1.Close()
	c4, r4 := dial(t, addr)
	if resp := get(t, c4, r4, "/api/v1/metrics/app"); resp.StatusCode != 200 {
		t.Fatalf("after a close: %d", resp.StatusCode)
	}
}

func TestTimeouts(t *testing.T) {
	addr, _ := serveTest(t, Config{IdleTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	t.Run("idle keep-alive", func(t *testing.T) {
		c, br := dial(t, addr)
		get(t, c, br, "/api/v1/metrics/app")
		if !closedWithin(c, br, 3*time.Second) {
			t.Fatal("an idle keep-alive connection is still open after 3 s with IdleTimeout 200ms")
		}
	})
	t.Run("slow body", func(t *testing.T) {
		c, br := dial(t, addr)
		io.WriteString(c, "POST /api/v1/taps HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		if !closedWithin(c, br, 3*time.Second) {
			t.Fatal("a request whose body never ends is still open after 3 s with ReadTimeout 300ms")
		}
	})
}

func TestDefaultLimits(t *testing.T) {
	s := New(Config{}, newFake(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	h := s.httpServer()
	if h.ReadTimeout != DefaultReadTimeout || h.WriteTimeout != DefaultWriteTimeout || h.IdleTimeout != DefaultIdleTimeout ||
		h.ReadHeaderTimeout != DefaultReadHeaderTimeout || h.MaxHeaderBytes != DefaultMaxHeaderBytes || s.cfg.MaxConns != DefaultMaxConns {
		t.Fatalf("defaults not applied: %+v, MaxConns %d", h, s.cfg.MaxConns)
	}
}

func TestHeadOptions(t *testing.T) {
	for _, admin := range []bool{false, true} {
		_, ts := newTest(t, Config{AdminAPI: admin})
		cases := []struct {
			path, allow string
		}{
			{"/api/v1/policies", "GET, HEAD, OPTIONS"},
			{"/metrics", "GET, HEAD, OPTIONS"},
			{"/api/v1/policies/default", "GET, HEAD, OPTIONS"},
		}
		if admin {
			cases[0].allow = "GET, HEAD, OPTIONS, POST"
			cases[2].allow = "DELETE, GET, HEAD, OPTIONS"
		}
		for _, tc := range cases {
			t.Run(tc.path, func(t *testing.T) {
				_, want := do(t, ts, "GET", tc.path, "", "")
				req, _ := http.NewRequest("HEAD", ts.URL+tc.path, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Content-Type") == "" {
					t.Errorf("HEAD %s: %d %q %v, want 200, no body, GET's headers", tc.path, resp.StatusCode, b, resp.Header)
				}
				if want == "" {
					t.Errorf("GET %s: empty body", tc.path)
				}
				req, _ = http.NewRequest("OPTIONS", ts.URL+tc.path, nil)
				resp, err = http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 204 || resp.Header.Get("Allow") != tc.allow {
					t.Errorf("OPTIONS %s (admin %v): %d Allow %q, want 204 Allow %q", tc.path, admin, resp.StatusCode,
						resp.Header.Get("Allow"), tc.allow)
				}
			})
		}
		if st, _ := do(t, ts, "OPTIONS", "/nope", "", ""); st != 404 {
			t.Errorf("OPTIONS of an unknown path: %d, want 404", st)
		}
		req, _ := http.NewRequest("PUT", ts.URL+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("PUT /metrics: %d Allow %q, want 405 with the Allow header", resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}
