// Package server serves pktvisord's REST API (pktvisor's /api/v1 routes
// and its admin API), the Prometheus exposition and the OpenAPI document,
// over HTTP or HTTPS.
//
// # The one mistake
//
// Without Config.AdminAPI the write routes (POST/DELETE of taps and
// policies, DELETE /api/v1/server) are not registered at all: they answer
// 404, as in pktvisor. With it, set Config.AdminToken so that they also
// require "Authorization: Bearer <token>". [Server.Listen] refuses an
// admin API without a token on an address that is not loopback unless
// Config.AdminInsecure is set; on loopback every request must carry a Host
// header naming loopback or the listen host (DNS rebinding), and pcap_file
// in API documents must lie inside Config.PcapFileDir.
package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/policy"
	"github.com/pktvisor-go/pktvisor/internal/window"
	"github.com/pktvisor-go/pktvisor/pkg/api"
)

// Backend is what the API serves: the policy manager.
type Backend interface {
	Taps() map[string]api.Tap
	Tap(name string) (map[string]api.Tap, error)
	AddTap(doc []byte) (map[string]api.Tap, error)
	DeleteTap(name string) error
	Policies() map[string]api.Policy
	Policy(name string) (map[string]api.Policy, error)
	AddPolicy(doc []byte) (map[string]api.Policy, error)
	DeletePolicy(name string) error
	// Metrics renders the handlers of a policy ("__all": every policy,
	// skipping those with a period error): {policy: {handler: {schema: {...}}}}.
	Metrics(policy string, window bool, n int) (map[string]any, error)
	// Prometheus returns the trees of bucket 1 (or 0 while only one
	// exists) of a policy's handlers ("__all": every policy).
	Prometheus(policy string) ([]handler.Labeled, error)
}

// Config configures the server.
type Config struct {
	Addr       string // host:port, pktvisor's default localhost:10853
	AdminAPI   bool
	AdminToken string // required as a bearer token on write routes when set
	// AdminInsecure allows AdminAPI without AdminToken on an address that
	// is not loopback ([Config.Check]).
	AdminInsecure bool
	// PcapFileDir is the directory pcap_file of taps and policies sent to
	// the admin API must lie in (after resolving symbolic links); ""
	// refuses pcap_file there. Documents of --config are not checked.
	PcapFileDir  string
	TLSCert      string // serve HTTPS when both are set
	TLSKey       string
	PromInstance string // "instance" label of every sample
	Version      string
	// DefaultPolicy is the policy of the legacy /api/v1/metrics routes and
	// of /metrics ("default").
	DefaultPolicy string
	// Stop is called by DELETE /api/v1/server.
	Stop func()

	// Limits of the HTTP server; a zero value takes the default named
	// beside it.
	ReadHeaderTimeout time.Duration // DefaultReadHeaderTimeout
	ReadTimeout       time.Duration // a whole request, body included; DefaultReadTimeout
	WriteTimeout      time.Duration // a whole response; DefaultWriteTimeout
	IdleTimeout       time.Duration // a keep-alive connection between requests; DefaultIdleTimeout
	MaxHeaderBytes    int           // DefaultMaxHeaderBytes
	// MaxConns bounds the open connections (DefaultMaxConns). A connection
	// beyond it waits at most [ConnWait] for a free slot, then is closed.
	MaxConns int
}

// Server is the HTTP server.
type Server struct {
	cfg     Config
	b       Backend
	log     *slog.Logger
	started time.Time
	router  chi.Router
	http    *http.Server
	prom    *promHandler
}

// New builds the routes.
func New(cfg Config, b Backend, log *slog.Logger) *Server {
	if cfg.DefaultPolicy == "" {
		cfg.DefaultPolicy = "default"
	}
	orDefault(&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	orDefault(&cfg.ReadTimeout, DefaultReadTimeout)
	orDefault(&cfg.WriteTimeout, DefaultWriteTimeout)
	orDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	orDefault(&cfg.MaxHeaderBytes, DefaultMaxHeaderBytes)
	orDefault(&cfg.MaxConns, DefaultMaxConns)
	s := &Server{cfg: cfg, b: b, log: log, started: time.Now()}
	s.prom = newPromHandler(b, cfg.PromInstance)
	r := chi.NewRouter()
	if hosts := loopbackHosts(cfg.Addr); hosts != nil {
		r.Use(checkHost(hosts))
	}
	// OPTIONS answers from the routing table; HEAD runs the GET handler
	// (net/http drops the body).
	r.Use(allowOptions, middleware.GetHead)
	r.Get("/api/v1/metrics/app", s.app)
	r.Get("/api/v1/metrics/rates", s.rates)
	r.Get("/api/v1/metrics/bucket/{n}", s.legacy(false))
	r.Get("/api/v1/metrics/window/{n}", s.legacy(true))
	r.Get("/metrics", s.prom.serve(cfg.DefaultPolicy, false))
	r.Get("/api/v1/taps", s.taps)
	r.Get("/api/v1/taps/{name}", s.tap)
	r.Get("/api/v1/policies", s.policies)
	r.Get("/api/v1/policies/{name}", s.policyInfo)
	r.Get("/api/v1/policies/{name}/metrics/bucket/{n}", s.metrics(false))
	r.Get("/api/v1/policies/{name}/metrics/window/{n}", s.metrics(true))
	r.Get("/api/v1/policies/{name}/metrics/prometheus", s.policyProm)
	r.Get("/api/v1/openapi.json", s.openapi)
	if cfg.AdminAPI {
		r.Group(func(r chi.Router) {
			r.Use(s.requireToken)
			r.Post("/api/v1/taps", s.addTap)
			r.Delete("/api/v1/taps/{name}", s.deleteTap)
			r.Post("/api/v1/policies", s.addPolicy)
			r.Delete("/api/v1/policies/{name}", s.deletePolicy)
			r.Delete("/api/v1/server", s.stopServer)
		})
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { writeError(w, http.StatusNotFound, "not found") })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(allowed(r), ", "))
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	})
	s.router = r
	return s
}

// Handler returns the routes, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.router }

// Listen checks the configuration ([Config.Check]) and binds the address,
// so that "port in use" is reported before the agent starts capturing.
func (s *Server) Listen() (net.Listener, error) {
	if err := s.cfg.Check(); err != nil {
		return nil, err
	}
	if s.cfg.AdminAPI && s.cfg.AdminToken == "" && !isLoopback(s.cfg.Addr) {
		s.log.Warn("admin API without a token on an address that is not loopback", "listen", s.cfg.Addr)
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.http = s.httpServer()
	ln = newLimitListener(ln, s.cfg.MaxConns, ConnWait, func(remote net.Addr) {
		s.log.Warn("connection closed: too many open connections", "remote", remote.String(), "max", s.cfg.MaxConns)
	})
	errc := make(chan error, 1)
	go func() {
		var err error
		if s.cfg.TLSCert != "" || s.cfg.TLSKey != "" {
			err = s.http.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			err = s.http.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.http.Shutdown(sctx)
	}
}

// Defaults of the [Config] limits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxConns          = 512
)

func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:           s.router,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// methods are the methods a route may have, in the order of an Allow
// header (OPTIONS is added to every route).
var methods = []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost, http.MethodPut}

// allowed returns the methods the routing table has for r's path: HEAD
// with GET, OPTIONS with any; none for an unknown path.
func allowed(r *http.Request) []string {
	rctx := chi.RouteContext(r.Context())
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	var has []string
	for _, m := range methods {
		if m == http.MethodHead || m == http.MethodOptions {
			continue
		}
		if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
			has = append(has, m)
		}
	}
	if len(has) == 0 {
		return nil
	}
	has = append(has, http.MethodOptions)
	if slices.Contains(has, http.MethodGet) {
		has = append(has, http.MethodHead)
	}
	slices.Sort(has)
	return has
}

// allowOptions answers OPTIONS with 204 and the Allow header of the path
// (RFC 9110 §9.3.7), or 404 for an unknown path.
func allowOptions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		ms := allowed(r)
		if ms == nil {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
		w.Header().Set("Allow", strings.Join(ms, ", "))
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.AdminToken != "" {
			got, ok := bearer(r.Header.Get("Authorization"))
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.AdminToken)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="pktvisord"`)
				writeError(w, http.StatusUnauthorized, "missing or invalid bearer token")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, api.Error{Error: msg})
}

// status maps a backend error to its HTTP status.
func status(err error) int {
	var pe *window.PeriodError
	switch {
	case errors.As(err, &pe):
		return http.StatusTooEarly
	case errors.Is(err, policy.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, policy.ErrExists):
		return http.StatusConflict
	case errors.Is(err, policy.ErrNoTapMatch):
		return http.StatusUnprocessableEntity
	case errors.Is(err, policy.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func fail(w http.ResponseWriter, err error) { writeError(w, status(err), err.Error()) }

func (s *Server) app(w http.ResponseWriter, r *http.Request) {
	var a api.App
	a.App.Version = s.cfg.Version
	a.App.UpTimeMin = time.Since(s.started).Minutes()
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) rates(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"packets": map[string]any{"in": 0, "out": 0},
		"warning": "deprecated: use 'live' data from /api/v1/metrics/bucket/0 instead",
	})
}

func period(r *http.Request) (int, bool) {
	n, err := strconv.Atoi(chi.URLParam(r, "n"))
	return n, err == nil && n >= 0
}

// legacy serves /api/v1/metrics/{bucket,window}/N of the default policy:
// {"<N>m": {schema: {...}}} (bucket: "1m").
func (s *Server) legacy(win bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, ok := period(r)
		if !ok {
			writeError(w, http.StatusBadRequest, "period must be a non-negative integer")
			return
		}
		m, err := s.b.Metrics(s.cfg.DefaultPolicy, win, n)
		if err != nil {
			if errors.Is(err, policy.ErrNotFound) {
				writeError(w, http.StatusNotFound, "no default policy")
				return
			}
			fail(w, err)
			return
		}
		body := map[string]any{}
		if pol, ok := m[s.cfg.DefaultPolicy].(map[string]any); ok {
			for _, hv := range pol {
				for schema, obj := range hv.(map[string]any) {
					body[schema] = obj
				}
			}
		}
		key := "1m"
		if win {
			key = fmt.Sprintf("%dm", n)
		}
		writeJSON(w, http.StatusOK, map[string]any{key: body})
	}
}

func (s *Server) metrics(win bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, ok := period(r)
		if !ok {
			writeError(w, http.StatusBadRequest, "period must be a non-negative integer")
			return
		}
		m, err := s.b.Metrics(chi.URLParam(r, "name"), win, n)
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, m) // api.Metrics once decoded
	}
}

func (s *Server) policyProm(w http.ResponseWriter, r *http.Request) {
	s.prom.serve(chi.URLParam(r, "name"), true)(w, r)
}

func (s *Server) taps(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Taps())
}

func (s *Server) tap(w http.ResponseWriter, r *http.Request) {
	t, err := s.b.Tap(chi.URLParam(r, "name"))
	if err != nil {
		if errors.Is(err, policy.ErrNotFound) {
			writeError(w, http.StatusNotFound, "tap does not exists")
			return
		}
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) policies(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.b.Policies())
}

func (s *Server) policyInfo(w http.ResponseWriter, r *http.Request) {
	p, err := s.b.Policy(chi.URLParam(r, "name"))
	if err != nil {
		if errors.Is(err, policy.ErrNotFound) {
			writeError(w, http.StatusNotFound, "policy does not exists")
			return
		}
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// maxBody bounds POST bodies (a policy document is a few KiB).
const maxBody = 1 << 20

func readDoc(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (ct != "application/x-yaml" && ct != "application/json" && ct != "application/yaml" && ct != "text/yaml") {
		writeError(w, http.StatusBadRequest, "Content-Type not supported: use application/x-yaml or application/json")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("read body: %v", err))
		return nil, false
	}
	if len(body) == 0 {
		writeError(w, http.StatusBadRequest, "empty data")
		return nil, false
	}
	return body, true
}

func (s *Server) addTap(w http.ResponseWriter, r *http.Request) {
	doc, ok := readDoc(w, r)
	if !ok {
		return
	}
	if msg := s.checkPcapTaps(doc); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	t, err := s.b.AddTap(doc)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) deleteTap(w http.ResponseWriter, r *http.Request) {
	if err := s.b.DeleteTap(chi.URLParam(r, "name")); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) addPolicy(w http.ResponseWriter, r *http.Request) {
	doc, ok := readDoc(w, r)
	if !ok {
		return
	}
	if msg := s.checkPcapPolicies(doc); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	p, err := s.b.AddPolicy(doc)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request) {
	if err := s.b.DeletePolicy(chi.URLParam(r, "name")); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) stopServer(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{})
	if s.cfg.Stop != nil {
		go s.cfg.Stop()
	}
}

// ErrAdminExposed is wrapped by the error of [Config.Check] for an admin
// API without a token on an address that is not loopback.
var ErrAdminExposed = errors.New("the admin API needs a token on an address that is not loopback")

// Check returns the error [Server.Listen] would return for c before
// binding: PcapFileDir, if set, is not a directory; or an error wrapping
// [ErrAdminExposed] when AdminAPI is on without
// AdminToken or AdminInsecure and Addr is not loopback. Only "localhost"
// and loopback IP literals count as loopback: a host name is not resolved.
func (c Config) Check() error {
	if c.PcapFileDir != "" {
		st, err := os.Stat(c.PcapFileDir)
		if err != nil {
			return fmt.Errorf("--pcap-file-dir: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("--pcap-file-dir: %s is not a directory", c.PcapFileDir)
		}
	}
	if c.AdminAPI && c.AdminToken == "" && !c.AdminInsecure && !isLoopback(c.Addr) {
		return fmt.Errorf("--admin-api on %s: %w: set --admin-token or --admin-token-file, or --admin-api-insecure to serve it without one",
			c.Addr, ErrAdminExposed)
	}
	return nil
}

// isLoopback reports whether the host of addr (host:port) is "localhost"
// or a loopback IP literal.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackHosts returns the Host header values (without port, lower case)
// a server listening on the loopback address addr answers, or nil when
// addr is not loopback.
func loopbackHosts(addr string) map[string]bool {
	if !isLoopback(addr) {
		return nil
	}
	host, _, _ := net.SplitHostPort(addr)
	return map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, strings.ToLower(host): true}
}

// checkHost answers 403 to a request whose Host header is not one of
// hosts, so that a web page whose name an attacker rebinds to 127.0.0.1
// cannot read or change the agent from a browser (DNS rebinding).
func checkHost(hosts map[string]bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			} else {
				host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
			}
			if !hosts[strings.ToLower(host)] {
				writeError(w, http.StatusForbidden, fmt.Sprintf(
					"Host %q not allowed: this server listens on loopback and answers only Host localhost, 127.0.0.1, [::1] or its listen address",
					r.Host))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// bearer returns the token of an Authorization header of the Bearer
// scheme (RFC 6750 §2.1; the scheme is case-insensitive, RFC 9110 §11.1).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}
