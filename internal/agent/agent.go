// Package agent is pktvisord: it parses the command line and the YAML
// configuration, starts the taps and policies, and serves the REST API and
// Prometheus until it is told to stop.
//
// # The one mistake
//
// Policies from --config run without --admin-api (pktvisor refused to start
// with "Nothing to do" there); the admin API is only needed to change
// taps and policies at run time.
package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/pktvisor-go/pktvisor/internal/config"
	"github.com/pktvisor-go/pktvisor/internal/handler"
	// pktvisord links every built-in handler and input type.
	_ "github.com/pktvisor-go/pktvisor/internal/handler/all"
	"github.com/pktvisor-go/pktvisor/internal/input"
	_ "github.com/pktvisor-go/pktvisor/internal/input/all"
	"github.com/pktvisor-go/pktvisor/internal/policy"
	"github.com/pktvisor-go/pktvisor/internal/server"
	"github.com/pktvisor-go/pktvisor/internal/version"
)

var _ server.Backend = (*policy.Manager)(nil)

const usage = `pktvisord: network observability agent

Usage:
  pktvisord [options] [IFACE]
  pktvisord (-h | --help)
  pktvisord --version

IFACE, if given, is an interface name, an IP address of an interface, or
"auto" (the busiest non-loopback interface). It creates the tap "default"
and the policy "default" (handlers net, dhcp, dns and pcap_stats).

With -d, pktvisord returns once the detached agent serves (exit status 0),
or with the agent's error (exit status 1).

--pid-file FILE is created exclusively: a symbolic link, a file that does
not hold a pid and the pid file of a running process are refused; a stale
pid file is replaced. It is removed when the agent stops.

The admin API (--admin-api) changes taps and policies and stops the agent.
On an address that is not loopback (-l other than localhost, 127.0.0.0/8
or ::1) it needs a bearer token (--admin-token-file FILE, --admin-token or
$PKTVISORD_ADMIN_TOKEN) unless --admin-api-insecure is given. On loopback,
requests must name Host localhost, 127.0.0.1, [::1] or the -l address
(DNS rebinding); others get 403. pcap_file in taps and policies sent to
the admin API must lie inside --pcap-file-dir DIR; without it the API
refuses pcap_file.

Signals:
  SIGTERM, SIGINT  stop
  SIGHUP           reopen the --log-file FILE (for logrotate); ignored
                   (and logged) without --log-file

Options:
`

// ProfileEnv, when set, names a file that receives a CPU profile of the
// run (go tool pprof reads it).
const ProfileEnv = "PKTVISORD_CPUPROFILE"

// TokenEnv may hold the admin API bearer token instead of --admin-token.
const TokenEnv = "PKTVISORD_ADMIN_TOKEN"

// Run is pktvisord's main: it returns the exit status.
func Run(args []string, stdout, stderr io.Writer) int {
	if ready := childReadiness(stderr); ready != nil {
		// The detached child of -d: the parent prints what goes to
		// stderr until the agent serves.
		defer ready.close()
		return run(args, stdout, ready, ready)
	}
	return run(args, stdout, stderr, nil)
}

// run is [Run]; ready is the readiness pipe of the detached child of -d,
// or nil.
func run(args []string, stdout, stderr io.Writer, ready *readiness) int {
	fs := pflag.NewFlagSet("pktvisord", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fv := config.Flags(fs)
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "pktvisord: %v\n\n%s%s", err, usage, fs.FlagUsages())
		return 2
	}
	if fv.Help {
		fmt.Fprint(stdout, usage+fs.FlagUsages())
		return 0
	}
	if fv.Version {
		fmt.Fprintln(stdout, version.Version)
		return 0
	}
	var file *config.File
	if fv.ConfigFile != "" {
		f, err := config.ReadFile(fv.ConfigFile)
		var ce *config.Error
		switch {
		case errors.Is(err, config.ErrMultipleDocuments) && errors.As(err, &ce):
			fmt.Fprintf(stderr, "pktvisord: --config: %s holds more than one YAML document (the second starts at line %d)\n",
				fv.ConfigFile, ce.Line)
			return 1
		case err != nil:
			fmt.Fprintf(stderr, "pktvisord: %s: %v\n", fv.ConfigFile, errLine(err))
			return 1
		}
		file = f
	}
	v, err := config.Merge(file, fv, fs)
	if err != nil {
		fmt.Fprintf(stderr, "pktvisord: %v\n", err)
		return 2
	}
	if v.ModuleList {
		printModules(stdout)
		return 0
	}
	looseToken := false
	if fv.AdminTokenFile != "" {
		token, loose, err := config.ReadTokenFile(fv.AdminTokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "pktvisord: %v\n", err)
			return 1
		}
		v.AdminToken, looseToken = token, loose
	}
	if v.AdminToken == "" {
		v.AdminToken = os.Getenv(TokenEnv)
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "pktvisord: expected at most one IFACE, got %d arguments\n", fs.NArg())
		return 2
	}
	iface := fs.Arg(0)
	hasPolicies := file != nil && len(file.Policies) > 0
	if iface == "" && !v.AdminAPI && !hasPolicies {
		fmt.Fprintln(stderr, "Nothing to do: specify --admin-api, IFACE, or --config with policies.")
		return 1
	}
	if err := checkUnsupported(v); err != nil {
		fmt.Fprintf(stderr, "pktvisord: %v\n", err)
		return 2
	}
	if err := config.CheckInert(v, fs); err != nil {
		fmt.Fprintf(stderr, "pktvisord: %v\n", err)
		return 2
	}
	scfg := serverConfig(v, fv)
	if err := scfg.Check(); err != nil {
		fmt.Fprintf(stderr, "pktvisord: %v\n", err)
		return 2
	}
	if v.Daemon && ready == nil {
		pid, err := daemonize(args)
		var ce *childError
		switch {
		case errors.As(err, &ce):
			fmt.Fprint(stderr, ce.msg)
			return 1
		case err != nil:
			fmt.Fprintf(stderr, "pktvisord: daemonize: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "pktvisord running in the background, pid %d\n", pid)
		return 0
	}
	logOut := stderr
	if ready != nil {
		// Log lines are not part of the error the parent prints.
		logOut = ready.stderr
	}
	log, lf, closeLog, err := newLogger(v, logOut)
	if err != nil {
		fmt.Fprintf(stderr, "pktvisord: %v\n", err)
		return 1
	}
	defer closeLog()
	if looseToken {
		log.Warn("the admin token file is readable by group or others", "path", fv.AdminTokenFile)
	}
	if path := os.Getenv(ProfileEnv); path != "" {
		// A CPU profile of the whole run, for performance work.
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGHUP {
					reopenLog(log, lf)
					continue
				}
				log.Info("stopping", "signal", s.String())
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	var onReady func()
	if ready != nil {
		onReady = ready.ready
	}
	if err := serve(ctx, v, scfg, file, iface, log, onReady); err != nil {
		log.Error("pktvisord stopped", "err", err)
		if ready != nil {
			ready.fail(err)
		}
		return 1
	}
	return 0
}

// reopenLog handles SIGHUP: it reopens the --log-file, if any.
func reopenLog(log *slog.Logger, lf *logFile) {
	if lf == nil {
		log.Info("SIGHUP ignored: no --log-file to reopen")
		return
	}
	if err := lf.Reopen(); err != nil {
		log.Error("SIGHUP: log file not reopened", "err", err)
		return
	}
	log.Info("reopened log file", "signal", "hangup", "path", lf.path)
}

func errLine(err error) error {
	var ce *config.Error
	if errors.As(err, &ce) && ce.Line > 0 && !containsLine(ce.Msg) {
		return fmt.Errorf("%s (line %d)", ce.Msg, ce.Line)
	}
	return err
}

func containsLine(s string) bool {
	return len(s) > 5 && (s[:5] == "line " || s[:5] == "yaml:")
}

func checkUnsupported(v config.Visor) error {
	switch {
	case v.GeoCity != "" || v.GeoASN != "" || v.DefaultGeoCity != "" || v.DefaultGeoASN != "":
		return errors.New("--geo-city/--geo-asn: GeoIP/ASN enrichment is not supported by this version yet")
	case v.OTel:
		return errors.New("--otel: OTLP export is not supported by this version yet")
	case v.ModuleDir != "":
		return errors.New("--module-dir: modules are built in; there is nothing to load")
	}
	return nil
}

func printModules(w io.Writer) {
	fmt.Fprintln(w, "inputs:")
	for _, in := range input.Registered() {
		fmt.Fprintf(w, "  %s %s\n", in.Type, in.Version)
	}
	fmt.Fprintln(w, "handlers:")
	for _, h := range handler.Registered() {
		fmt.Fprintf(w, "  %s %s (schema %s)\n", h.Type, h.Version, h.Schema)
	}
}

// newLogger returns the logger the options ask for, the log file if it is
// --log-file (else nil), and a function that closes what it opened.
func newLogger(v config.Visor, stderr io.Writer) (*slog.Logger, *logFile, func(), error) {
	level := slog.LevelInfo
	if v.Verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	switch {
	case v.Syslog:
		w, err := syslog.New(syslog.LOG_INFO|syslog.LOG_DAEMON, "pktvisord")
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open syslog: %w", err)
		}
		return slog.New(slog.NewTextHandler(w, opts)), nil, func() { w.Close() }, nil
	case v.LogFile != "":
		lf, err := openLogFile(v.LogFile)
		if err != nil {
			return nil, nil, nil, err
		}
		return slog.New(slog.NewTextHandler(lf, opts)), lf, func() { lf.Close() }, nil
	}
	return slog.New(slog.NewTextHandler(stderr, opts)), nil, func() {}, nil
}

// serverConfig returns the server configuration of the options; serve
// adds Stop.
func serverConfig(v config.Visor, fv *config.FlagValues) server.Config {
	return server.Config{
		Addr:          net.JoinHostPort(v.Host, strconv.Itoa(v.Port)),
		AdminAPI:      v.AdminAPI,
		AdminToken:    v.AdminToken,
		AdminInsecure: fv.AdminAPIInsecure,
		PcapFileDir:   fv.PcapFileDir,
		TLSCert:       tlsOr(v.TLS, v.TLSCert), TLSKey: tlsOr(v.TLS, v.TLSKey),
		PromInstance: v.PromInstance,
		Version:      version.Version,
	}
}

// serve runs the agent until ctx ends, serving scfg. It calls onReady (if
// not nil) once the listener is bound and the taps and policies have
// started.
func serve(ctx context.Context, v config.Visor, scfg server.Config, file *config.File, iface string, log *slog.Logger, onReady func()) error {
	if v.TLS {
		if _, err := tls.LoadX509KeyPair(v.TLSCert, v.TLSKey); err != nil {
			return fmt.Errorf("load TLS certificate and key: %w", err)
		}
	}
	if v.PidFile != "" {
		if err := writePidFile(v.PidFile); err != nil {
			return fmt.Errorf("write pid file: %w", err)
		}
		defer func() {
			if err := removePidFile(v.PidFile); err != nil {
				log.Warn("pid file not removed", "err", err)
			}
		}()
	}
	if v.NoTrack {
		log.Debug("--no-track: this agent never sends usage data")
	}
	if v.CPToken != "" || v.CPURL != "" || v.CPPath != "" || v.CPCustom != "" {
		log.Warn("crashpad options are accepted and ignored")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var global map[string]map[string]any
	if file != nil {
		global = file.GlobalHandlerConfig
	}
	mgr := policy.NewManager(ctx, policy.ManagerConfig{Periods: v.Periods, DeepSampleRate: v.MaxDeepSample,
		Global: global, Log: log})
	defer mgr.Close()

	scfg.Stop = func() {
		log.Info("stopping", "reason", "DELETE /api/v1/server")
		cancel()
	}
	srv := server.New(scfg, mgr, log.With("component", "server"))
	ln, err := srv.Listen()
	if err != nil {
		return err
	}

	if file != nil {
		if err := mgr.AddTaps(file.Taps...); err != nil {
			ln.Close()
			return err
		}
		if err := mgr.AddPolicies(file.Policies...); err != nil {
			ln.Close()
			return err
		}
	}
	if iface != "" {
		tap, pol := config.DefaultTapPolicy(iface, v, global, handler.Defaults())
		if err := mgr.AddTaps(tap); err != nil {
			ln.Close()
			return err
		}
		if err := mgr.AddPolicies(pol); err != nil {
			ln.Close()
			return err
		}
	}
	log.Info("pktvisord started", "version", version.Version, "listen", ln.Addr().String(), "admin_api", v.AdminAPI,
		"tls", v.TLS)
	if onReady != nil {
		onReady()
	}
	err = srv.Serve(ctx, ln)
	log.Info("pktvisord stopped")
	return err
}

func tlsOr(on bool, s string) string {
	if on {
		return s
	}
	return ""
}
