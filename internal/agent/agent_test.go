package agent

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runAgent(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestQuickExits(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("visor:\n  taps: [\n"), 0o644)
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("version: \"1.0\"\nvisor:\n  config:\n    no_such_option: 1\n"), 0o644)
	wrongType := filepath.Join(dir, "type.yaml")
	os.WriteFile(wrongType, []byte("version: \"1.0\"\nvisor:\n  config:\n    port: abc\n"), 0o644)
	used, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer used.Close()
	_, usedPort, _ := net.SplitHostPort(used.Addr().String())
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600)
	emptyToken := filepath.Join(dir, "empty-token")
	os.WriteFile(emptyToken, nil, 0o600)
	twoDocs := filepath.Join(dir, "two.yaml")
	os.WriteFile(twoDocs, []byte("version: \"1.0\"\nvisor:\n  config:\n    port: 1\n---\nvisor:\n  config:\n    admin_api: true\n"), 0o644)
	// noHost cannot be bound: a case whose options pass every check
	// ends at once instead of serving.
	const noHost = "256.0.0.1"
	otelYAML := filepath.Join(dir, "otel.yaml")
	os.WriteFile(otelYAML, []byte("version: \"1.0\"\nvisor:\n  config:\n    admin_api: true\n    host: 256.0.0.1\n    otel_host: collector\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		out  string
		err  string
	}{
		{"version", []string{"--version"}, 0, "4.", ""},
		{"help", []string{"-h"}, 0, "--admin-api", ""},
		{"module list", []string{"--module-list"}, 0, "dns 1.0", ""},
		{"nothing to do", nil, 1, "", "Nothing to do"},
		{"bad flag", []string{"--nope"}, 2, "", "unknown flag: --nope"},
		{"two ifaces", []string{"eth0", "eth1"}, 2, "", "at most one IFACE"},
		{"invalid yaml", []string{"--config", bad}, 1, "", "line"},
		{"unknown key", []string{"--config", unknown}, 1, "", "no_such_option"},
		{"wrong type", []string{"--config", wrongType}, 1, "", "port"},
		{"two documents", []string{"--config", twoDocs}, 1, "", "pktvisord: --config: " + twoDocs + " holds more than one YAML document (the second starts at line 5)\n"},
		{"endless config", []string{"--config", "/dev/zero"}, 1, "", "larger than the 16 MiB limit"},
		{"missing config", []string{"--config", filepath.Join(dir, "none.yaml")}, 1, "", "no such file"},
		{"tls without cert", []string{"--tls", "--admin-api"}, 2, "", "you must specify --tls-key and --tls-cert"},
		{"geo not yet", []string{"--geo-city", "x.mmdb", "--admin-api"}, 2, "", "not supported"},
		{"periods range", []string{"--periods", "11", "--admin-api"}, 2, "", "periods"},
		{"help: admin flags", []string{"-h"}, 0, "--admin-api-insecure", ""},
		{"help: token file", []string{"-h"}, 0, "--admin-token-file FILE", ""},
		{"help: pcap dir", []string{"-h"}, 0, "--pcap-file-dir DIR", ""},
		{"admin api exposed", []string{"--admin-api", "-l", "0.0.0.0", "-p", usedPort}, 2, "",
			"pktvisord: --admin-api on 0.0.0.0:" + usedPort + ": the admin API needs a token on an address that is not loopback: set --admin-token or --admin-token-file, or --admin-api-insecure to serve it without one\n"},
		{"admin api exposed, empty host", []string{"--admin-api", "-l", "", "-p", usedPort}, 2, "", "--admin-api-insecure"},
		// Past the check, the port in use stops the agent before it serves.
		{"admin api insecure", []string{"--admin-api", "--admin-api-insecure", "-l", "0.0.0.0", "-p", usedPort}, 1, "", "address already in use"},
		{"admin api with token", []string{"--admin-api", "--admin-token", "t", "-l", "0.0.0.0", "-p", usedPort}, 1, "", "address already in use"},
		{"admin api with token file", []string{"--admin-api", "--admin-token-file", tokenFile, "-l", "0.0.0.0", "-p", usedPort}, 1, "", "address already in use"},
		{"token and token file", []string{"--admin-api", "--admin-token", "t", "--admin-token-file", tokenFile}, 2, "", "give only one"},
		{"empty token file", []string{"--admin-api", "--admin-token-file", emptyToken}, 1, "", "holds no token"},
		{"missing pcap dir", []string{"--admin-api", "--pcap-file-dir", filepath.Join(dir, "none")}, 2, "", "--pcap-file-dir: stat "},
		{"missing token file", []string{"--admin-api", "--admin-token-file", filepath.Join(dir, "none")}, 1, "", "no such file"},
		{"service registry not yet", []string{"--iana-service-port-registry", filepath.Join(dir, "none.csv"), "--admin-api", "-l", noHost}, 2, "",
			"pktvisord: --iana-service-port-registry: the IANA service name registry is not supported by this version yet\n"},
		{"default service registry not yet", []string{"--default-service-registry", "x.csv", "--admin-api", "-l", noHost}, 2, "",
			"pktvisord: --default-service-registry: the IANA service name registry is not supported by this version yet\n"},
		{"otel host not yet", []string{"--otel-host", "collector", "--admin-api", "-l", noHost}, 2, "",
			"pktvisord: --otel-host: OTLP export is not supported by this version yet\n"},
		{"otel port not yet", []string{"--otel-port", "4317", "--admin-api", "-l", noHost}, 2, "", "--otel-port: OTLP export is not supported"},
		{"otel path not yet", []string{"--otel-path", "/v1/m", "--admin-api", "-l", noHost}, 2, "", "--otel-path: OTLP export is not supported"},
		{"otel interval not yet", []string{"--otel-interval", "60", "--admin-api", "-l", noHost}, 2, "", "--otel-interval: OTLP export is not supported"},
		{"otel tls not yet", []string{"--otel-tls", "--otel-tls-cert", "c", "--otel-tls-key", "k", "--admin-api", "-l", noHost}, 2, "", "--otel-tls: OTLP export is not supported"},
		{"otel tls cert not yet", []string{"--otel-tls-cert", "c", "--admin-api", "-l", noHost}, 2, "", "--otel-tls-cert: OTLP export is not supported"},
		{"geo cache not yet", []string{"--geo-cache-size", "5", "--admin-api", "-l", noHost}, 2, "",
			"pktvisord: --geo-cache-size: GeoIP/ASN enrichment is not supported by this version yet\n"},
		{"otel host in yaml", []string{"--config", otelYAML}, 2, "", "--otel-host: OTLP export is not supported"},
		{"tls cert without tls", []string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--admin-api", "-l", noHost}, 2, "",
			"pktvisord: --tls-cert/--tls-key need --tls (without it the server would serve plain HTTP)\n"},
		{"tls key without tls", []string{"--tls-key", "k.pem", "--admin-api", "-l", noHost}, 2, "", "need --tls"},
		{"tls off wins", []string{"--tls=false", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--admin-api", "-l", noHost}, 2, "", "need --tls"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runAgent(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d stdout %q stderr %q; want %d, %q, %q", code, out, errs, tc.code, tc.out, tc.err)
			}
		})
	}
}

// TestHelpMarks: --help says which options do nothing (accepted for
// compatibility) and which are rejected until their feature exists.
func TestHelpMarks(t *testing.T) {
	code, out, _ := runAgent("--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	line := func(flag string) string {
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 && (f[0] == flag || strings.HasPrefix(f[0], flag+"[")) {
				return l
			}
		}
		t.Fatalf("no %s line in --help:\n%s", flag, out)
		return ""
	}
	for _, flag := range []string{"--no-track", "--prometheus", "--cp-disable", "--cp-token", "--cp-url", "--cp-custom", "--cp-path"} {
		if l := line(flag); !strings.Contains(l, "accepted for compatibility, no effect") {
			t.Errorf("%s: %q does not say it has no effect", flag, l)
		}
	}
	for _, flag := range []string{"--otel", "--otel-host", "--otel-tls-key", "--geo-city", "--geo-cache-size",
		"--default-geo-asn", "--iana-service-port-registry", "--default-service-registry"} {
		if l := line(flag); !strings.Contains(l, "not supported by this version yet") {
			t.Errorf("%s: %q does not say it is not supported yet", flag, l)
		}
	}
	if l := line("--admin-api"); strings.Contains(l, "compatibility") || strings.Contains(l, "not supported") {
		t.Errorf("--admin-api is marked: %q", l)
	}
}
