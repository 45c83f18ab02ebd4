package server

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/pkg/api"
)

func TestAdminExposure(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"any address, no token", Config{Addr: "0.0.0.0:0", AdminAPI: true}, true},
		{"empty host, no token", Config{Addr: ":0", AdminAPI: true}, true},
		{"hostname, no token", Config{Addr: "agent.example:0", AdminAPI: true}, true},
		{"any address, token", Config{Addr: "0.0.0.0:0", AdminAPI: true, AdminToken: "t"}, false},
		{"any address, insecure", Config{Addr: "0.0.0.0:0", AdminAPI: true, AdminInsecure: true}, false},
		{"any address, read-only", Config{Addr: "0.0.0.0:0"}, false},
		{"localhost", Config{Addr: "localhost:0", AdminAPI: true}, false},
		{"127.0.0.2", Config{Addr: "127.0.0.2:0", AdminAPI: true}, false},
		{"::1", Config{Addr: "[::1]:0", AdminAPI: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Check()
			if tt.wantErr != (err != nil) {
				t.Fatalf("Check() = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, ErrAdminExposed) || !strings.Contains(err.Error(), "--admin-api-insecure")) {
				t.Errorf("unclear error: %v", err)
			}
		})
	}
	// Listen refuses as well, before binding.
	s := New(Config{Addr: "0.0.0.0:0", AdminAPI: true}, newFake(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if ln, err := s.Listen(); err == nil {
		ln.Close()
		t.Fatal("Listen on 0.0.0.0 with --admin-api and no token succeeded")
	}
}

func TestHostHeader(t *testing.T) {
	tests := []struct {
		addr, host string
		status     int
	}{
		{"127.0.0.1:10853", "localhost", 200},
		{"127.0.0.1:10853", "LOCALHOST:10853", 200},
		{"127.0.0.1:10853", "127.0.0.1:10853", 200},
		{"127.0.0.1:10853", "127.0.0.1", 200},
		{"127.0.0.1:10853", "[::1]:10853", 200},
		{"127.0.0.1:10853", "[::1]", 200},
		{"127.0.0.2:10853", "127.0.0.2:10853", 200},
		{"localhost:10853", "localhost:10853", 200},
		{"127.0.0.1:10853", "evil.example", 403},
		{"127.0.0.1:10853", "evil.example:10853", 403},
		{"127.0.0.1:10853", "localhost.evil.example", 403},
		{"127.0.0.1:10853", "127.0.0.2", 403},
		{"127.0.0.1:10853", "", 403},
		// Not loopback: a rebinding attack cannot reach it more than a
		// direct request can, so any Host is served.
		{"0.0.0.0:10853", "evil.example", 200},
		{"", "evil.example", 200},
	}
	for _, tt := range tests {
		t.Run(tt.addr+" "+tt.host, func(t *testing.T) {
			s := New(Config{Addr: tt.addr, AdminAPI: true, AdminToken: "t"}, newFake(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			for _, path := range []string{"/api/v1/policies", "/metrics", "/api/v1/taps/default"} {
				for _, method := range []string{"GET", "OPTIONS", "DELETE"} {
					if method == "DELETE" && path != "/api/v1/taps/default" {
						continue
					}
					req := httptest.NewRequest(method, path, nil)
					req.Host = tt.host
					req.Header.Set("Authorization", "Bearer t")
					w := httptest.NewRecorder()
					s.Handler().ServeHTTP(w, req)
					st := w.Code
					if st == 204 {
						st = 200
					}
					if st != tt.status {
						t.Errorf("%s %s Host %q: %d, want %d", method, path, tt.host, w.Code, tt.status)
					}
					if tt.status == 403 {
						var e api.Error
						if json.Unmarshal(w.Body.Bytes(), &e) != nil || !strings.Contains(e.Error, "Host") {
							t.Errorf("403 body %q is not a clear api.Error", w.Body)
						}
					}
				}
			}
		})
	}
}

// TestHostHeaderServed checks the guard on a served loopback listener.
func TestHostHeaderServed(t *testing.T) {
	addr, _ := serveTest(t, Config{})
	_, port, _ := net.SplitHostPort(addr)
	for host, want := range map[string]int{"localhost:" + port: 200, "rebind.example:" + port: 403} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/policies", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

func TestBearerScheme(t *testing.T) {
	_, ts := newTest(t, Config{AdminAPI: true, AdminToken: "s3cret"})
	for auth, want := range map[string]int{
		"Bearer s3cret":  200,
		"bearer s3cret":  200,
		"BEARER s3cret":  200,
		"Bearer  s3cret": 200,
		"Basic s3cret":   401,
		"Bearers3cret":   401,
		"s3cret":         401,
		"Bearer ":        401,
	} {
		if st, _ := do(t, ts, "DELETE", "/api/v1/policies/p", "", "", "Authorization", auth); st != want {
			t.Errorf("Authorization %q: %d, want %d", auth, st, want)
		}
	}
}
