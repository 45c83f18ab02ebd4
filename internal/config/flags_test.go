package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestMerge(t *testing.T) {
	file, err := Parse([]byte(head + "  config:\n    port: 2000\n    host: 0.0.0.0\n    tls: true\n    tls_cert: c.pem\n    tls_key: k.pem\n    periods: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		file    *File
		args    []string
		wantErr string
		check   func(Visor) bool
	}{
		{name: "defaults", check: func(v Visor) bool { return v == DefaultVisor() }},
		{name: "file only", file: file, check: func(v Visor) bool { return v.Port == 2000 && v.Host == "0.0.0.0" && v.Periods == 3 && v.TLS }},
		{name: "cli wins", file: file, args: []string{"-p", "3000", "-l", "::1", "--periods", "7"},
			check: func(v Visor) bool { return v.Port == 3000 && v.Host == "::1" && v.Periods == 7 && v.TLSCert == "c.pem" }},
		{name: "cli bool off", file: file, args: []string{"--tls=false"}, check: func(v Visor) bool { return !v.TLS }},
		{name: "short flags", args: []string{"-d", "-v", "-b", "port 53", "-H", "10.0.0.0/8"},
			check: func(v Visor) bool { return v.Daemon && v.Verbose && v.BPF == "port 53" && v.HostSpec == "10.0.0.0/8" }},
		{name: "default geo and registry", args: []string{"--default-geo-city", "c", "--default-geo-asn", "a", "--default-service-registry", "r"},
			check: func(v Visor) bool {
				return v.GeoCityPath() == "c" && v.GeoASNPath() == "a" && v.ServiceRegistryPath() == "r"
			}},
		{name: "geo beats default", args: []string{"--geo-city", "x", "--default-geo-city", "c"}, check: func(v Visor) bool { return v.GeoCityPath() == "x" }},
		{name: "crashpad and prometheus accepted", args: []string{"--cp-token", "t", "--cp-url", "u", "--cp-path", "p", "--cp-custom", "c", "--cp-disable", "--prometheus"},
			check: func(v Visor) bool { return v.CPToken == "t" && v.Prometheus }},
		{name: "otel", args: []string{"--otel", "--otel-host", "collector", "--otel-port", "4317"},
			check: func(v Visor) bool {
				return v.OTel && v.OTelHost == "collector" && v.OTelPort == 4317 && v.OTelPath == "/v1/metrics"
			}},
		{name: "periods out of range", args: []string{"--periods", "11"}, wantErr: "--periods: 11 is out of range [1, 10]"},
		{name: "port out of range", args: []string{"-p", "0"}, wantErr: "--port: 0 is out of range [1, 65535]"},
		{name: "tls without key", args: []string{"--tls"}, wantErr: "you must specify --tls-key and --tls-cert to use --tls"},
		{name: "otel tls without key", args: []string{"--otel", "--otel-tls"}, wantErr: "you must specify --otel-tls-key and --otel-tls-cert to use --otel-tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("pktvisord", pflag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fv := Flags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			v, err := Merge(tt.file, fv, fs)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(v) {
				t.Fatalf("unexpected %+v", v)
			}
		})
	}
}

func TestFlagsOther(t *testing.T) {
	fs := pflag.NewFlagSet("pktvisord", pflag.ContinueOnError)
	fv := Flags(fs)
	if err := fs.Parse([]string{"--config", "a.yaml", "--version", "-h", "--admin-api", "--module-list", "eth0"}); err != nil {
		t.Fatal(err)
	}
	if fv.ConfigFile != "a.yaml" || !fv.Version || !fv.Help || !fv.Visor.AdminAPI || fs.Arg(0) != "eth0" {
		t.Fatalf("unexpected %+v args %v", fv, fs.Args())
	}
}

func TestFlagsBeyondPktvisor(t *testing.T) {
	tests := []struct {
		name    string
		file    *File
		args    []string
		wantErr string
		check   func(*FlagValues, Visor) bool
	}{
		{name: "defaults", check: func(fv *FlagValues, v Visor) bool {
			return !fv.AdminAPIInsecure && fv.AdminTokenFile == "" && fv.PcapFileDir == ""
		}},
		{name: "set", args: []string{"--admin-api-insecure", "--admin-token-file", "/run/t", "--pcap-file-dir", "/srv/pcap"},
			check: func(fv *FlagValues, v Visor) bool {
				return fv.AdminAPIInsecure && fv.AdminTokenFile == "/run/t" && fv.PcapFileDir == "/srv/pcap"
			}},
		{name: "token and token file", args: []string{"--admin-token", "x", "--admin-token-file", "/run/t"},
			wantErr: "--admin-token (or admin_token in --config) and --admin-token-file: give only one"},
		{name: "config token and token file", file: &File{Visor: Visor{AdminToken: "x"}}, args: []string{"--admin-token-file", "/run/t"},
			wantErr: "--admin-token (or admin_token in --config) and --admin-token-file: give only one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("pktvisord", pflag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fv := Flags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			v, err := Merge(tt.file, fv, fs)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(fv, v) {
				t.Fatalf("err %v, %+v", err, fv)
			}
		})
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		mode          os.FileMode
		token         string
		loose         bool
		wantErr       string
	}{
		{name: "newline", content: "s3cret\n", mode: 0o600, token: "s3cret"},
		{name: "crlf", content: "s3cret\r\n", mode: 0o400, token: "s3cret"},
		{name: "no newline", content: "s3cret", mode: 0o600, token: "s3cret"},
		{name: "group readable", content: "s3cret\n", mode: 0o640, token: "s3cret", loose: true},
		{name: "world readable", content: "s3cret\n", mode: 0o604, token: "s3cret", loose: true},
		{name: "empty", content: "", mode: 0o600, wantErr: "holds no token"},
		{name: "only newline", content: "\n", mode: 0o600, wantErr: "holds no token"},
		{name: "too large", content: strings.Repeat("x", 5000), mode: 0o600, wantErr: "larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tt.mode)
			token, loose, err := ReadTokenFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || token != tt.token || loose != tt.loose {
				t.Fatalf("got %q %v %v, want %q %v", token, loose, err, tt.token, tt.loose)
			}
		})
	}
	if _, _, err := ReadTokenFile(filepath.Join(dir, "none")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// TestCheckInert: an option of a feature not built yet is rejected when it
// is given, even at its default value, and --tls-cert/--tls-key need --tls.
func TestCheckInert(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		args    []string
		wantErr string
	}{
		{name: "defaults"},
		{name: "tls with cert", args: []string{"--tls", "--tls-cert", "c", "--tls-key", "k"}},
		{name: "crashpad accepted", args: []string{"--cp-token", "t", "--no-track", "--prometheus"}},
		{name: "otel host at its default", args: []string{"--otel-host", "localhost"},
			wantErr: "--otel-host: OTLP export is not supported by this version yet"},
		{name: "geo cache in yaml", yaml: "    geo_cache_size: 5\n",
			wantErr: "--geo-cache-size: GeoIP/ASN enrichment is not supported by this version yet"},
		{name: "yaml at the defaults", yaml: "    otel_port: 4318\n    geo_cache_size: 10000\n"},
		{name: "first in help order", args: []string{"--otel-path", "/x", "--geo-cache-size", "1"},
			wantErr: "--geo-cache-size: GeoIP/ASN enrichment is not supported by this version yet"},
		{name: "registry", args: []string{"--default-service-registry", "r.csv"},
			wantErr: "--default-service-registry: the IANA service name registry is not supported by this version yet"},
		{name: "tls cert in yaml", yaml: "    tls_cert: c.pem\n",
			wantErr: "--tls-cert/--tls-key need --tls (without it the server would serve plain HTTP)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var file *File
			if tt.yaml != "" {
				f, err := Parse([]byte(head + "  config:\n" + tt.yaml))
				if err != nil {
					t.Fatal(err)
				}
				file = f
			}
			fs := pflag.NewFlagSet("pktvisord", pflag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fv := Flags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			v, err := Merge(file, fv, fs)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckInert(v, fs)
			if got := fmt.Sprint(err); (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && got != tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
