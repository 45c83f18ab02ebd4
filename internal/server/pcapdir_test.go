package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/policy"
	"github.com/pktvisor-go/pktvisor/pkg/api"
)

func tapDoc(path string) string {
	return fmt.Sprintf(`{"visor":{"taps":{"t2":{"input_type":"pcap","config":{"pcap_file":%q}}}}}`, path)
}

func policyDoc(path string) string {
	return fmt.Sprintf(`{"visor":{"policies":{"p2":{"kind":"collection","input":{"tap":"t","input_type":"pcap","config":{"pcap_file":%q}},"handlers":{"modules":{"net":{"type":"net"}}}}}}}`, path)
}

func TestPcapFileDir(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("root:$6$SECRET"), 0o600)
	inside := filepath.Join(dir, "in.pcap")
	os.WriteFile(inside, []byte("x"), 0o600)
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	os.Symlink(secret, filepath.Join(dir, "link.pcap"))
	os.Symlink(filepath.Join(outside, "none"), filepath.Join(dir, "dangling.pcap"))
	os.Symlink(inside, filepath.Join(dir, "sub", "ok.pcap"))
	const refusedNoDir = "pcap_file is not accepted through the admin API: start pktvisord with --pcap-file-dir DIR to allow capture files inside DIR"
	refused := func(p string) string {
		return fmt.Sprintf("pcap_file %q: not a regular file inside the --pcap-file-dir directory", p)
	}
	tests := []struct {
		name, dir, path string
		status          int
		msg             string
	}{
		{"no dir", "", inside, 400, refusedNoDir},
		{"no dir, shadow", "", "/etc/shadow", 400, refusedNoDir},
		{"inside", dir, inside, 201, ""},
		{"inside through a link", dir, filepath.Join(dir, "sub", "ok.pcap"), 201, ""},
		{"inside, dotdot back in", dir, filepath.Join(dir, "sub", "..", "in.pcap"), 201, ""},
		{"outside, exists", dir, secret, 400, refused(secret)},
		{"outside, missing", dir, filepath.Join(outside, "none"), 400, refused(filepath.Join(outside, "none"))},
		{"dotdot out", dir, filepath.Join(dir, "..", filepath.Base(outside), "secret"), 400, refused(filepath.Join(dir, "..", filepath.Base(outside), "secret"))},
		{"link out, exists", dir, filepath.Join(dir, "link.pcap"), 400, refused(filepath.Join(dir, "link.pcap"))},
		{"link out, missing", dir, filepath.Join(dir, "dangling.pcap"), 400, refused(filepath.Join(dir, "dangling.pcap"))},
		{"missing inside", dir, filepath.Join(dir, "none.pcap"), 400, refused(filepath.Join(dir, "none.pcap"))},
		{"the directory", dir, dir, 400, refused(dir)},
		{"a directory inside", dir, filepath.Join(dir, "sub"), 400, refused(filepath.Join(dir, "sub"))},
	}
	for _, tt := range tests {
		for _, kind := range []string{"taps", "policies"} {
			t.Run(tt.name+" "+kind, func(t *testing.T) {
				_, ts := newTest(t, Config{AdminAPI: true, PcapFileDir: tt.dir})
				doc := tapDoc(tt.path)
				if kind == "policies" {
					doc = policyDoc(tt.path)
				}
				st, body := do(t, ts, "POST", "/api/v1/"+kind, "application/json", doc)
				var e api.Error
				json.Unmarshal([]byte(body), &e)
				if st != tt.status || e.Error != tt.msg {
					t.Errorf("%d %s, want %d %q", st, body, tt.status, tt.msg)
				}
			})
		}
	}
	// A document without pcap_file is not affected; neither are other
	// input types' keys.
	_, ts := newTest(t, Config{AdminAPI: true})
	if st, body := do(t, ts, "POST", "/api/v1/taps", "application/json", `{"visor":{"taps":{"t2":{"input_type":"pcap","config":{"iface":"eth0"}}}}}`); st != 201 {
		t.Errorf("a tap on an interface: %d %s", st, body)
	}
}

func TestPcapFileDirCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	for path, want := range map[string]string{dir: "", file: "is not a directory", filepath.Join(dir, "none"): "no such file"} {
		err := Config{PcapFileDir: path}.Check()
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), "--pcap-file-dir: ") || err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("--pcap-file-dir %s: %v, want %q", path, err, want)
		}
	}
}

// TestPcapFileSecret is the attack on the real manager: a tap on a file
// outside any capture directory, then a policy on it. No answer may carry
// the file's bytes or say whether it exists.
func TestPcapFileSecret(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(secret, []byte("root:$6$SECRET:19000:0:99999:7:::\n"), 0o600)
	m := policy.NewManager(context.Background(), policy.ManagerConfig{Periods: 1, DeepSampleRate: 100,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer m.Close()
	s := New(Config{AdminAPI: true}, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := newServer(t, s)
	for _, path := range []string{secret, secret + ".missing"} {
		st, body := do(t, ts, "POST", "/api/v1/taps", "application/json",
			strings.Replace(tapDoc(path), "t2", "leak", 1))
		st2, body2 := do(t, ts, "POST", "/api/v1/policies", "application/json",
			`{"visor":{"policies":{"leak":{"kind":"collection","input":{"tap":"leak","input_type":"pcap"},"handlers":{"modules":{"net":{"type":"net"}}}}}}}`)
		all := body + body2
		for _, leak := range []string{"726f6f74", "746f6f72", "root:", "SECRET", "magic", "no such file", "permission denied"} {
			if strings.Contains(all, leak) {
				t.Errorf("pcap_file %s: a response reveals %q: %d %s / %d %s", path, leak, st, body, st2, body2)
			}
		}
		if st != 400 || !strings.Contains(body, "--pcap-file-dir") {
			t.Errorf("pcap_file %s: POST tap %d %s, want 400 naming --pcap-file-dir", path, st, body)
		}
		do(t, ts, "DELETE", "/api/v1/policies/leak", "", "")
		do(t, ts, "DELETE", "/api/v1/taps/leak", "", "")
	}
}
