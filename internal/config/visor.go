package config

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Visor holds pktvisord's options (pktvisor §4.2): visor.config in the YAML
// file, with the same snake_case names as the long command-line options.
// [DefaultVisor] gives the defaults, [Parse] lays visor.config over them,
// and [Merge] lays the options set on the command line over that.
type Visor struct {
	Daemon  bool   // -d [daemon]
	Verbose bool   // -v [verbose]
	NoTrack bool   // --no-track [no_track]: no DNS phone-home
	Host    string // -l HOST [host]; default "localhost"
	Port    int    // -p PORT [port]; default 10853

	TLS      bool   // --tls [tls]
	TLSCert  string // --tls-cert FILE [tls_cert]
	TLSKey   string // --tls-key FILE [tls_key]
	AdminAPI bool   // --admin-api [admin_api]

	GeoCity        string // --geo-city FILE [geo_city]
	GeoASN         string // --geo-asn FILE [geo_asn]
	GeoCacheSize   int    // --geo-cache-size N [geo_cache_size]; default 10000, 0 disables the LRU
	DefaultGeoCity string // --default-geo-city FILE [default_geo_city]: used when no geo_city is given
	DefaultGeoASN  string // --default-geo-asn FILE [default_geo_asn]: used when no geo_asn is given

	ModuleList bool   // --module-list [module_list]
	ModuleDir  string // --module-dir DIR [module_dir]
	LogFile    string // --log-file FILE [log_file]
	Syslog     bool   // --syslog [syslog]

	Prometheus   bool   // --prometheus [prometheus]: accepted and ignored (always on)
	PromInstance string // --prom-instance ID [prom_instance]

	OTel         bool   // --otel [otel]
	OTelHost     string // --otel-host HOST [otel_host]; default "localhost"
	OTelPort     int    // --otel-port PORT [otel_port]; default 4318
	OTelPath     string // --otel-path PATH [otel_path]; default "/v1/metrics"
	OTelInterval int    // --otel-interval S [otel_interval]; default 60
	OTelTLS      bool   // --otel-tls [otel_tls]
	OTelTLSCert  string // --otel-tls-cert FILE [otel_tls_cert]
	OTelTLSKey   string // --otel-tls-key FILE [otel_tls_key]

	IANAServicePortRegistry string // --iana-service-port-registry FILE [iana_service_port_registry]
	DefaultServiceRegistry  string // --default-service-registry FILE [default_service_registry]

	MaxDeepSample int    // --max-deep-sample N [max_deep_sample]; default 100, 0..100
	Periods       int    // --periods P [periods]; default 5, 1..10
	BPF           string // -b BPF [bpf]: for the IFACE default policy
	HostSpec      string // -H HOSTSPEC [host_spec]: for the IFACE default policy

	CPDisable bool   // --cp-disable [cp_disable]: crashpad, accepted and unused
	CPToken   string // --cp-token TOKEN [cp_token]
	CPURL     string // --cp-url URL [cp_url]
	CPCustom  string // --cp-custom USERDEF [cp_custom]
	CPPath    string // --cp-path PATH [cp_path]

	AdminToken string // --admin-token TOKEN [admin_token]: beyond pktvisor, bearer token for the admin API
	PidFile    string // --pid-file FILE [pid_file]: beyond pktvisor
}

// DefaultVisor returns pktvisord's defaults.
func DefaultVisor() Visor {
	return Visor{
		Host:          "localhost",
		Port:          10853,
		GeoCacheSize:  10000,
		OTelHost:      "localhost",
		OTelPort:      4318,
		OTelPath:      "/v1/metrics",
		OTelInterval:  60,
		MaxDeepSample: 100,
		Periods:       5,
	}
}

// GeoCityPath returns the GeoLite2 City database to load: geo_city, else
// default_geo_city, else "" (none).
func (v *Visor) GeoCityPath() string { return firstNonEmpty(v.GeoCity, v.DefaultGeoCity) }

// GeoASNPath returns the GeoLite2 ASN database to load: geo_asn, else
// default_geo_asn, else "" (none).
func (v *Visor) GeoASNPath() string { return firstNonEmpty(v.GeoASN, v.DefaultGeoASN) }

// ServiceRegistryPath returns the IANA port registry CSV to load:
// iana_service_port_registry, else default_service_registry, else "".
func (v *Visor) ServiceRegistryPath() string {
	return firstNonEmpty(v.IANAServicePortRegistry, v.DefaultServiceRegistry)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// option describes one pktvisord option: its visor.config key, its flag
// names, and for integers the accepted range.
type option struct {
	key    string // visor.config key
	long   string // long flag name
	short  string // one-letter flag, or ""
	usage  string
	lo, hi int // integer range, inclusive
}

// options lists every option of [Visor] in usage order. It is a function
// so the table cannot be modified.
func options() []option {
	const maxInt = int(^uint32(0) >> 1)
	return []option{
		{key: "daemon", long: "daemon", short: "d", usage: "daemonize: fork and keep running in the background"},
		{key: "verbose", long: "verbose", short: "v", usage: "verbose log output"},
		{key: "no_track", long: "no-track", usage: "don't send the anonymous usage metric (a daily DNS query)"},
		{key: "host", long: "host", short: "l", usage: "run the web server on this host or IP"},
		{key: "port", long: "port", short: "p", usage: "run the web server on this port", lo: 1, hi: 65535},
		{key: "tls", long: "tls", usage: "enable TLS on the web server"},
		{key: "tls_cert", long: "tls-cert", usage: "TLS certificate `FILE`, required with --tls"},
		{key: "tls_key", long: "tls-key", usage: "TLS private key `FILE`, required with --tls"},
		{key: "admin_api", long: "admin-api", usage: "enable the admin REST API (create and delete taps and policies)"},
		{key: "geo_city", long: "geo-city", usage: "GeoLite2 City database `FILE` for IP to geo mapping"},
		{key: "geo_asn", long: "geo-asn", usage: "GeoLite2 ASN database `FILE` for IP to ASN mapping"},
		{key: "geo_cache_size", long: "geo-cache-size", usage: "geo lookup LRU cache size, 0 disables it", lo: 0, hi: maxInt},
		{key: "default_geo_city", long: "default-geo-city", usage: "GeoLite2 City database `FILE` used when --geo-city is not given"},
		{key: "default_geo_asn", long: "default-geo-asn", usage: "GeoLite2 ASN database `FILE` used when --geo-asn is not given"},
		{key: "module_list", long: "module-list", usage: "list the loaded modules"},
		{key: "module_dir", long: "module-dir", usage: "module load path `DIR`"},
		{key: "log_file", long: "log-file", usage: "log to this `FILE`"},
		{key: "syslog", long: "syslog", usage: "log to syslog"},
		{key: "prometheus", long: "prometheus", usage: "ignored: Prometheus output is always enabled"},
		{key: "prom_instance", long: "prom-instance", usage: "set the Prometheus 'instance' label to `ID`"},
		{key: "otel", long: "otel", usage: "push metrics with OTLP over HTTP"},
		{key: "otel_host", long: "otel-host", usage: "OTLP collector `HOST`"},
		{key: "otel_port", long: "otel-port", usage: "OTLP collector `PORT`", lo: 1, hi: 65535},
		{key: "otel_path", long: "otel-path", usage: "OTLP collector URL `PATH`"},
		{key: "otel_interval", long: "otel-interval", usage: "OTLP push interval in seconds", lo: 1, hi: maxInt},
		{key: "otel_tls", long: "otel-tls", usage: "use TLS towards the OTLP collector"},
		{key: "otel_tls_cert", long: "otel-tls-cert", usage: "OTLP TLS certificate `FILE`, required with --otel-tls"},
		{key: "otel_tls_key", long: "otel-tls-key", usage: "OTLP TLS private key `FILE`, required with --otel-tls"},
		{key: "iana_service_port_registry", long: "iana-service-port-registry", usage: "IANA service name and port number registry CSV `FILE`"},
		{key: "default_service_registry", long: "default-service-registry", usage: "IANA registry CSV `FILE` used when --iana-service-port-registry is not given"},
		{key: "max_deep_sample", long: "max-deep-sample", usage: "never deep sample more than N% of events (0-100)", lo: 0, hi: 100},
		{key: "periods", long: "periods", usage: "keep this many 60 s periods of history (1-10)", lo: 1, hi: 10},
		{key: "bpf", long: "bpf", short: "b", usage: "tcpdump filter expression for the IFACE default policy"},
		{key: "host_spec", long: "host-spec", short: "H", usage: "comma-separated CIDRs of the monitored host(s), for in/out direction"},
		{key: "cp_disable", long: "cp-disable", usage: "disable the crash reporter (accepted, no effect)"},
		{key: "cp_token", long: "cp-token", usage: "crash reporter token (accepted, no effect)"},
		{key: "cp_url", long: "cp-url", usage: "crash reporter URL (accepted, no effect)"},
		{key: "cp_custom", long: "cp-custom", usage: "crash reporter user field (accepted, no effect)"},
		{key: "cp_path", long: "cp-path", usage: "crash reporter handler binary (accepted, no effect)"},
		{key: "admin_token", long: "admin-token", usage: "require this bearer token on admin API requests"},
		{key: "pid_file", long: "pid-file", usage: "write the process id to this `FILE`"},
	}
}

// field returns a pointer to the field of v that option key sets: *string,
// *bool or *int.
func (v *Visor) field(key string) any {
	switch key {
	case "daemon":
		return &v.Daemon
	case "verbose":
		return &v.Verbose
	case "no_track":
		return &v.NoTrack
	case "host":
		return &v.Host
	case "port":
		return &v.Port
	case "tls":
		return &v.TLS
	case "tls_cert":
		return &v.TLSCert
	case "tls_key":
		return &v.TLSKey
	case "admin_api":
		return &v.AdminAPI
	case "geo_city":
		return &v.GeoCity
	case "geo_asn":
		return &v.GeoASN
	case "geo_cache_size":
		return &v.GeoCacheSize
	case "default_geo_city":
		return &v.DefaultGeoCity
	case "default_geo_asn":
		return &v.DefaultGeoASN
	case "module_list":
		return &v.ModuleList
	case "module_dir":
		return &v.ModuleDir
	case "log_file":
		return &v.LogFile
	case "syslog":
		return &v.Syslog
	case "prometheus":
		return &v.Prometheus
	case "prom_instance":
		return &v.PromInstance
	case "otel":
		return &v.OTel
	case "otel_host":
		return &v.OTelHost
	case "otel_port":
		return &v.OTelPort
	case "otel_path":
		return &v.OTelPath
	case "otel_interval":
		return &v.OTelInterval
	case "otel_tls":
		return &v.OTelTLS
	case "otel_tls_cert":
		return &v.OTelTLSCert
	case "otel_tls_key":
		return &v.OTelTLSKey
	case "iana_service_port_registry":
		return &v.IANAServicePortRegistry
	case "default_service_registry":
		return &v.DefaultServiceRegistry
	case "max_deep_sample":
		return &v.MaxDeepSample
	case "periods":
		return &v.Periods
	case "bpf":
		return &v.BPF
	case "host_spec":
		return &v.HostSpec
	case "cp_disable":
		return &v.CPDisable
	case "cp_token":
		return &v.CPToken
	case "cp_url":
		return &v.CPURL
	case "cp_custom":
		return &v.CPCustom
	case "cp_path":
		return &v.CPPath
	case "admin_token":
		return &v.AdminToken
	case "pid_file":
		return &v.PidFile
	}
	return nil
}

// parseBool accepts what pktvisor's YAML library accepts as a boolean:
// true/false, yes/no, on/off, y/n, in lower, upper or title case (we accept
// any case).
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "y":
		return true, true
	case "false", "no", "off", "n":
		return false, true
	}
	return false, false
}

// parseVisorConfig lays visor.config (mapping n) over v.
func (w *walker) parseVisorConfig(n *yaml.Node, v *Visor) error {
	opts := options()
	known := make([]string, len(opts))
	for i, o := range opts {
		known[i] = o.key
	}
	fs, err := w.fields(n, "visor.config", known...)
	if err != nil {
		return err
	}
	// Walk in the table's order so the first error is deterministic.
	for _, o := range opts {
		p, ok := fs[o.key]
		if !ok {
			continue
		}
		name := "visor.config." + o.key
		switch f := v.field(o.key).(type) {
		case *string:
			if !isScalar(p.v) {
				return lineErrf(p.v, "%s: want a string, got %s", name, describe(p.v))
			}
			*f = p.v.Value
		case *bool:
			b, ok := parseBool(p.v.Value)
			if !isScalar(p.v) || !ok {
				return lineErrf(p.v, "%s: want true or false, got %s", name, describe(p.v))
			}
			*f = b
		case *int:
			i, err := strconv.Atoi(p.v.Value)
			if !isScalar(p.v) || err != nil {
				return lineErrf(p.v, "%s: want an integer, got %s", name, describe(p.v))
			}
			if i < o.lo || i > o.hi {
				return lineErrf(p.v, "%s: %d is out of range [%d, %d]", name, i, o.lo, o.hi)
			}
			*f = i
		}
	}
	return nil
}
