package reader

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestInterruptOnPipe: the reader on a named pipe answers an interrupt
// within seconds, whether no writer ever came (the open blocks) or the
// writer stopped sending mid-capture (a read blocks); in the second case
// it still prints what it summarized.
func TestInterruptOnPipe(t *testing.T) {
	src, err := os.ReadFile(fixtures + "dns_ipv4_udp.pcap")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name   string
		writer bool
	}{{"no writer", false}, {"writer stalls", true}} {
		t.Run(tc.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "cap.fifo")
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			if tc.writer {
				go func() {
					w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
					if err != nil {
						return
					}
					// Half the capture, then silence with the pipe held open.
					_, _ = w.Write(src[:len(src)/2])
					time.Sleep(20 * time.Second)
					w.Close()
				}()
			}
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(500*time.Millisecond, cancel)
			var out bytes.Buffer
			start := time.Now()
			_, err := Run(ctx, Config{File: fifo, Periods: 1}, &out, log)
			took := time.Since(start)
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("err = %v, want ErrInterrupted", err)
			}
			if took > 6*time.Second {
				t.Fatalf("the interrupt took %v", took)
			}
			if tc.writer {
				var doc map[string]any
				if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
					t.Fatalf("no JSON after the interrupt: %v (%q)", err, out.String())
				}
				if n, _ := get(doc, "1m.packets.total"); n == nil || n.(float64) < 1 {
					t.Errorf("packets.total = %v, want what was read before the stall: %s", n, out.String()[:min(400, out.Len())])
				}
			}
			t.Logf("interrupted after %v", took.Round(time.Millisecond))
		})
	}
}
