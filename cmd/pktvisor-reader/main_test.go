package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixture = "../../testdata/captures/dns_ipv4_udp.pcap"

func runReader(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	whole, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside the 71st record: 24-byte file header, then records of
	// 16-byte headers and data.
	off := 24
	for i := 0; i < 70; i++ {
		off += 16 + int(binary.LittleEndian.Uint32(whole[off+8:]))
	}
	truncated := filepath.Join(dir, "truncated.pcap")
	os.WriteFile(truncated, whole[:off+20], 0o644)

	badLink := filepath.Join(dir, "link147.pcap")
	hdr := append([]byte(nil), whole[:24]...)
	binary.LittleEndian.PutUint32(hdr[20:], 147)
	os.WriteFile(badLink, hdr, 0o644)

	garbage := filepath.Join(dir, "garbage.pcap")
	os.WriteFile(garbage, []byte("this is not a capture file at all"), 0o644)

	cases := []struct {
		name     string
		args     []string
		code     int
		errHas   []string
		wantJSON bool
	}{
		{"missing file", []string{"/nonexistent/x.pcap"}, 1, []string{"/nonexistent/x.pcap", "no such file"}, false},
		{"unknown link type", []string{badLink}, 1, []string{badLink, "unsupported link type 147"}, false},
		{"not a capture", []string{garbage}, 1, []string{garbage, "byte offset 0"}, false},
		{"truncated capture", []string{"--periods", "1", truncated}, 1, []string{truncated, "byte offset " + itoa(off)}, true},
		{"no file", []string{}, 2, []string{"expected exactly one FILE"}, false},
		{"bad flag", []string{"--nope", fixture}, 2, []string{"unknown flag: --nope"}, false},
		{"bad periods", []string{"--periods", "11", fixture}, 2, []string{"--periods must be between 1 and 10"}, false},
		{"bad deep sample", []string{"--max-deep-sample", "0", fixture}, 2, []string{"--max-deep-sample must be between 1 and 100"}, false},
		{"bad host spec", []string{"-H", "10.0.0.0/99", fixture}, 1, []string{"invalid host_spec entry"}, false},
		{"bad bpf", []string{"-b", "port nonsense and", fixture}, 1, []string{"-b"}, false},
		{"unsupported input", []string{"-i", "sflow", fixture}, 1, []string{"not supported"}, false},
		{"geo not yet", []string{"--geo-city", "x.mmdb", fixture}, 2, []string{"not supported"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runReader(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			for _, s := range tc.errHas {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q does not contain %q", stderr, s)
				}
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 && tc.code == 1 {
				t.Errorf("want one error line, got:\n%s", stderr)
			}
			if tc.wantJSON {
				var doc map[string]map[string]map[string]any
				if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
					t.Fatalf("no JSON on stdout: %v: %q", err, stdout)
				}
				// 70 whole records were read before the break.
				if got := doc["1m"]["packets"]["events"]; got != float64(70) {
					t.Errorf("packets.events = %v, want the 70 records before the break", got)
				}
			} else if stdout != "" {
				t.Errorf("unexpected stdout %q", stdout)
			}
		})
	}
}

func TestGoodRun(t *testing.T) {
	code, stdout, stderr := runReader(t, "--periods", "1", "-H", "127.0.0.1/32", "-b", "udp", fixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "processed 140 packets") {
		t.Errorf("stderr %q lacks the processed line", stderr)
	}
	var doc map[string]map[string]map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["1m"]["packets"]["udp"] != float64(140) {
		t.Errorf("udp = %v", doc["1m"]["packets"]["udp"])
	}
	code, stdout, _ = runReader(t, "--periods", "1", "-b", "tcp", fixture)
	if code != 0 || !strings.Contains(stdout, `"events":0`) {
		t.Errorf("bpf tcp on a UDP capture: exit %d, %s", code, stdout)
	}
	if code, stdout, _ := runReader(t, "--version"); code != 0 || strings.TrimSpace(stdout) == "" {
		t.Errorf("--version: %d %q", code, stdout)
	}
	if code, stdout, _ := runReader(t, "-h"); code != 0 || !strings.Contains(stdout, "--max-deep-sample") {
		t.Errorf("-h: %d %q", code, stdout)
	}
}

// TestEveryCaptureSurvives runs the reader over every capture in the
// repository (real, malformed, flow exports): none may crash or hang, and
// each gives a JSON document.
func TestEveryCaptureSurvives(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/captures/*")
	more, _ := filepath.Glob("../../testdata/captures/*.pcap")
	files = append(files, more...)
	if len(files) < 40 {
		t.Fatalf("found only %d captures", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, stdout, stderr := runReader(t, "--periods", "2", f)
			if code != 0 {
				t.Errorf("exit %d: %s", code, stderr)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc["2m"] == nil {
				t.Errorf("bad JSON: %v %q", err, stdout)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestConfigPeriods: with --config and no --periods, a policy with one
// period gives its bucket; a capture without packets is exit status 1.
func TestConfigPeriods(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "p.yaml")
	os.WriteFile(cfg, []byte(`version: "1.0"
visor:
  taps:
    wire:
      input_type: pcap
      config:
        iface: eth9
  policies:
    p1:
      kind: collection
      input:
        tap: wire
        input_type: pcap
      handlers:
        window_config:
          num_periods: 1
        modules:
          net:
            type: net
`), 0o644)
	code, stdout, stderr := runReader(t, "--config", cfg, fixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc map[string]map[string]map[string]map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if got := doc["p1"]["p1-wire-net"]["packets"]["events"]; got != float64(140) {
		t.Errorf("p1 packets.events = %v, want 140; stdout %s", got, stdout)
	}

	whole, _ := os.ReadFile(fixture)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, whole[:24], 0o644)
	for _, args := range [][]string{{empty}, {"--config", cfg, empty}} {
		code, stdout, stderr := runReader(t, args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "no packets") {
			t.Errorf("%v: exit %d stdout %q stderr %q; want 1, nothing, \"no packets\"", args, code, stdout, stderr)
		}
	}
}

// TestStdin: FILE "-" reads the capture from standard input, a pipe.
func TestStdin(t *testing.T) {
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = saved; r.Close() }()
	go func() { w.Write(data); w.Close() }()
	code, stdout, stderr := runReader(t, "--periods", "1", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc map[string]map[string]map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["1m"]["packets"]["udp"] != float64(140) {
		t.Errorf("udp = %v, want 140", doc["1m"]["packets"]["udp"])
	}
}
