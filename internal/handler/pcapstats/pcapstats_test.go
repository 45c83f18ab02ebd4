package pcapstats

import (
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/event"
	"github.com/pktvisor-go/pktvisor/internal/handler"
)

func TestDeltasPerPeriod(t *testing.T) {
	h, err := New(handler.Options{Name: "p", Periods: 3, Recorded: true})
	if err != nil {
		t.Fatal(err)
	}
	s := func(sec int64, tcp, os, ifd uint64) {
		h.InputStats(&event.InputStats{TS: sec * 1e9, TCPReassemblyErrors: tcp, OSDrops: os, IfDrops: ifd})
	}
	h.Start(0)
	s(1, 2, 10, 1)
	s(30, 5, 10, 1)
	s(61, 6, 15, 1) // new period
	s(70, 1, 0, 0)  // input restarted: counters went back
	b1, err := h.Bucket(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b1["tcp_reassembly_errors"] != uint64(5) || b1["os_drops"] != uint64(10) || b1["if_drops"] != uint64(1) {
		t.Fatalf("bucket 1: %v", b1)
	}
	b0, _ := h.Bucket(0, 0)
	if b0["tcp_reassembly_errors"] != uint64(2) || b0["os_drops"] != uint64(5) {
		t.Fatalf("bucket 0: %v", b0)
	}
	w, _ := h.Window(2, 0)
	if w["tcp_reassembly_errors"] != uint64(7) || w["os_drops"] != uint64(15) {
		t.Fatalf("window: %v", w)
	}
}

func TestRejectsUnknownKeys(t *testing.T) {
	_, err := New(handler.Options{Config: map[string]any{"bogus": true}})
	want := "bogus is an invalid/unsupported config or filter. The valid configs/filters are: deep_sample_rate, num_periods, topn_count, topn_percentile_threshold"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}
}
