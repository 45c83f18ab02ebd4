package reader

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pipeStdin makes os.Stdin the read end of a pipe that receives data in
// two halves, pause apart, then ends.
func pipeStdin(tb testing.TB, data []byte, pause time.Duration) {
	tb.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	saved := os.Stdin
	os.Stdin = r
	tb.Cleanup(func() { os.Stdin = saved; r.Close() })
	go func() {
		defer w.Close()
		half := len(data) / 2
		if _, err := w.Write(data[:half]); err != nil {
			return
		}
		time.Sleep(pause)
		w.Write(data[half:])
	}()
}

// TestStdin: FILE "-" reads the capture (pcap or pcapng) from standard
// input, a pipe, and gives the document the file gives; the progress line
// counts packets without a percentage (the size is unknown).
func TestStdin(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, name := range []string{"dns_udp_tcp_random.pcap", "ndpi__dns-google-nsid.pcapng"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(fixtures + name)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			if _, err := Run(context.Background(), Config{File: fixtures + name, Periods: 1, Workers: 1}, &want, log); err != nil {
				t.Fatal(err)
			}
			pipeStdin(t, data, 600*time.Millisecond)
			var got, progress bytes.Buffer
			res, err := Run(context.Background(), Config{File: "-", Periods: 1, Workers: 1, Progress: &progress}, &got, log)
			if err != nil {
				t.Fatal(err)
			}
			if res.Packets == 0 || got.String() != want.String() {
				t.Errorf("%d packets from standard input:\n%s\nfrom the file:\n%s", res.Packets, got.String(), want.String())
			}
			if p := progress.String(); !strings.Contains(p, " packets, ") || strings.Contains(p, "%") {
				t.Errorf("progress %q: want packets and no percentage", p)
			}
		})
	}
}

// TestStdinErrors: a bad stream on standard input is named so, and one
// standard input cannot feed two taps.
func TestStdinErrors(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pipeStdin(t, []byte("this is not a capture file at all"), 0)
	_, err := Run(context.Background(), Config{File: "-"}, io.Discard, log)
	if err == nil || !strings.Contains(err.Error(), "standard input") || !strings.Contains(err.Error(), "byte offset 0") {
		t.Errorf("garbage on standard input: err = %v", err)
	}

	cfgFile := filepath.Join(t.TempDir(), "two.yaml")
	os.WriteFile(cfgFile, []byte(`version: "1.0"
visor:
  taps:
    a:
      input_type: pcap
      config:
        iface: eth8
    b:
      input_type: pcap
      config:
        iface: eth9
  policies:
    pa:
      kind: collection
      input:
        tap: a
        input_type: pcap
      handlers:
        modules:
          net:
            type: net
    pb:
      kind: collection
      input:
        tap: b
        input_type: pcap
      handlers:
        modules:
          net:
            type: net
`), 0o644)
	err = RunPolicies(context.Background(), Config{File: "-"}, cfgFile, io.Discard, log)
	if err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Errorf("two taps on standard input: err = %v", err)
	}
}
