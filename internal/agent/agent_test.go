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
