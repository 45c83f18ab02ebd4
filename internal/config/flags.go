package config

import (
	"fmt"

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
		switch f := fv.Visor.field(o.key).(type) {
		case *string:
			fs.StringVarP(f, o.long, o.short, *f, o.usage)
		case *bool:
			fs.BoolVarP(f, o.long, o.short, *f, o.usage)
		case *int:
			fs.IntVarP(f, o.long, o.short, *f, o.usage)
		}
	}
	fs.StringVar(&fv.ConfigFile, "config", "", "read options, taps and policies from this YAML `FILE` (one document, at most 16 MiB)")
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
	return v, nil
}
