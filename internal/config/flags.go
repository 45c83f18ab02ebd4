package config

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/spf13/pflag"
)

// FlagValues receives the values of the options [Flags] registers. Visor
// holds the option values (flag defaults where a flag was not given); the
// other fields are the options that are not part of visor.config.
type FlagValues struct {
	Visor      Visor
	ConfigFile string // --config FILE
	Version    bool   // --version
	Help       bool   // -h, --help

	// Beyond pktvisor, command line only.
	AdminAPIInsecure bool   // --admin-api-insecure: admin API without a token on a non-loopback address
	AdminTokenFile   string // --admin-token-file FILE: the admin token, read with [ReadTokenFile]
	PcapFileDir      string // --pcap-file-dir DIR: where pcap_file of API documents may point
}

// Flags registers every pktvisord option of pktvisor §4.2 on fs, with
// pktvisor's short and long names and defaults, and returns where their
// values land. Options that pktvisor has only in short form (-d, -v, -l,
// -p, -b, -H) also get a long name (--daemon, --verbose, --host, --port,
// --bpf, --host-spec) because pflag requires one. Pass the result and fs,
// after fs.Parse, to [Merge].
func Flags(fs *pflag.FlagSet) *FlagValues {
	fv := &FlagValues{Visor: DefaultVisor()}
	for _, o := range options() {
		usage := helpOf(o)
		switch f := fv.Visor.field(o.key).(type) {
		case *string:
			fs.StringVarP(f, o.long, o.short, *f, usage)
		case *bool:
			fs.BoolVarP(f, o.long, o.short, *f, usage)
		case *int:
			fs.IntVarP(f, o.long, o.short, *f, usage)
		}
	}
	fs.StringVar(&fv.ConfigFile, "config", "", "read options, taps and policies from this YAML `FILE` (one document, at most 16 MiB)")
	fs.BoolVar(&fv.AdminAPIInsecure, "admin-api-insecure", false,
		"allow --admin-api without a token on an address that is not loopback (anyone who reaches the port may change taps and policies or stop the agent)")
	fs.StringVar(&fv.AdminTokenFile, "admin-token-file", "",
		"read the admin API bearer token from `FILE`, trailing newline trimmed (unlike --admin-token it is not in /proc/PID/cmdline; a warning if group or others may read the file)")
	fs.StringVar(&fv.PcapFileDir, "pcap-file-dir", "",
		"allow pcap_file in taps and policies of the admin API only inside `DIR` (symbolic links resolved); without it the API refuses pcap_file (--config files are not restricted)")
	fs.BoolVar(&fv.Version, "version", false, "show the version and exit")
	fs.BoolVarP(&fv.Help, "help", "h", false, "show this help and exit")
	return fv
}

// Merge returns the effective options: the defaults, overlaid by file's
// visor.config (file may be nil), overlaid by every option set explicitly
// on the command line (fs.Changed; fv and fs may be nil when there is no
// command line). A command-line option therefore wins even when it sets a
// boolean back to false (--tls=false), which pktvisor's "either" logic
// could not do.
//
// Merge checks what pktvisord checks at start and returns pktvisor's
// messages: "you must specify --tls-key and --tls-cert to use --tls" and
// "you must specify --otel-tls-key and --otel-tls-cert to use --otel-tls";
// integer options out of range give "--periods: 11 is out of range [1, 10]".
func Merge(file *File, fv *FlagValues, fs *pflag.FlagSet) (Visor, error) {
	v := DefaultVisor()
	if file != nil {
		v = file.Visor
	}
	if fv != nil && fs != nil {
		for _, o := range options() {
			if !fs.Changed(o.long) {
				continue
			}
			switch dst := v.field(o.key).(type) {
			case *string:
				*dst = *fv.Visor.field(o.key).(*string)
			case *bool:
				*dst = *fv.Visor.field(o.key).(*bool)
			case *int:
				i := *fv.Visor.field(o.key).(*int)
				if i < o.lo || i > o.hi {
					return Visor{}, &Error{Msg: fmt.Sprintf("--%s: %d is out of range [%d, %d]", o.long, i, o.lo, o.hi)}
				}
				*dst = i
			}
		}
	}
	if v.TLS && (v.TLSKey == "" || v.TLSCert == "") {
		return Visor{}, &Error{Msg: "you must specify --tls-key and --tls-cert to use --tls"}
	}
	if v.OTel && v.OTelTLS && (v.OTelTLSKey == "" || v.OTelTLSCert == "") {
		return Visor{}, &Error{Msg: "you must specify --otel-tls-key and --otel-tls-cert to use --otel-tls"}
	}
	if fv != nil && fv.AdminTokenFile != "" && v.AdminToken != "" {
		return Visor{}, &Error{Msg: "--admin-token (or admin_token in --config) and --admin-token-file: give only one"}
	}
	return v, nil
}

// maxTokenFile bounds what [ReadTokenFile] reads.
const maxTokenFile = 4 << 10

// ReadTokenFile returns the admin API token held in the file at path
// (--admin-token-file): its content without trailing CR and LF
// characters. An empty token, or a file of more than 4 KiB, is an error.
// loose reports that group or others may read the file: the caller warns
// rather than refuses, because container secrets are commonly mounted
// that way (Docker 0444, Kubernetes 0644) inside a protected directory.
func ReadTokenFile(path string) (token string, loose bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", false, fmt.Errorf("--admin-token-file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", false, fmt.Errorf("--admin-token-file: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", false, fmt.Errorf("--admin-token-file: %w", err)
	}
	if len(b) > maxTokenFile {
		return "", false, fmt.Errorf("--admin-token-file: %s is larger than %d bytes", path, maxTokenFile)
	}
	token = strings.TrimRight(string(b), "\r\n")
	if token == "" {
		return "", false, fmt.Errorf("--admin-token-file: %s holds no token", path)
	}
	return token, st.Mode().Perm()&0o044 != 0, nil
}

// compatOnly are the options accepted for compatibility with pktvisor
// that do nothing here, with their --help text.
var compatOnly = map[string]string{
	"no_track":   "accepted for compatibility, no effect: this agent sends no usage data",
	"prometheus": "accepted for compatibility, no effect: Prometheus output is always on",
	"cp_disable": "accepted for compatibility, no effect: there is no crash reporter",
	"cp_token":   "accepted for compatibility, no effect: there is no crash reporter",
	"cp_url":     "accepted for compatibility, no effect: there is no crash reporter",
	"cp_custom":  "accepted for compatibility, no effect: there is no crash reporter",
	"cp_path":    "accepted for compatibility, no effect: there is no crash reporter",
}

// Features this version does not have yet, named in the error of their
// options.
const (
	featureGeo      = "GeoIP/ASN enrichment"
	featureOTel     = "OTLP export"
	featureServices = "the IANA service name registry"
)

// notYet maps the options of features this version does not have yet to
// the feature: [CheckInert] rejects them, --help says so.
var notYet = map[string]string{
	"geo_city": featureGeo, "geo_asn": featureGeo, "geo_cache_size": featureGeo,
	"default_geo_city": featureGeo, "default_geo_asn": featureGeo,
	"otel": featureOTel, "otel_host": featureOTel, "otel_port": featureOTel, "otel_path": featureOTel,
	"otel_interval": featureOTel, "otel_tls": featureOTel, "otel_tls_cert": featureOTel, "otel_tls_key": featureOTel,
	"iana_service_port_registry": featureServices, "default_service_registry": featureServices,
}

// helpOf is the --help text of option o.
func helpOf(o option) string {
	if h, ok := compatOnly[o.key]; ok {
		return h
	}
	if _, ok := notYet[o.key]; ok {
		return o.usage + " (not supported by this version yet)"
	}
	return o.usage
}

// CheckInert returns an error for an option that pktvisord would accept
// and then ignore: one of a feature this version does not have yet (set
// on the command line fs, which may be nil, or to a value other than its
// default in the file), with "--otel-host: OTLP export is not supported
// by this version yet", and --tls-cert or --tls-key without --tls
// ("--tls-cert/--tls-key need --tls"; pktvisor serves plain HTTP then).
// Options are checked in --help order. Call it with [Merge]'s result.
func CheckInert(v Visor, fs *pflag.FlagSet) error {
	def := DefaultVisor()
	for _, o := range options() {
		feature, ok := notYet[o.key]
		if !ok {
			continue
		}
		changed := fs != nil && fs.Changed(o.long)
		if changed || !reflect.DeepEqual(v.field(o.key), def.field(o.key)) {
			return &Error{Msg: fmt.Sprintf("--%s: %s is not supported by this version yet", o.long, feature)}
		}
	}
	if !v.TLS && (v.TLSCert != "" || v.TLSKey != "") {
		return &Error{Msg: "--tls-cert/--tls-key need --tls (without it the server would serve plain HTTP)"}
	}
	return nil
}
