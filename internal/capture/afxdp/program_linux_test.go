//go:build linux

package afxdp

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/pktvisor-go/pktvisor/bpf"
)

// attachedProgID returns the id of the XDP program netlink reports on the
// receiver interface (0 when none); it runs in the receiver namespace.
func (t *testbed) attachedProgID(tb testing.TB) uint32 {
	tb.Helper()
	var id uint32
	if err := inNS(t.recvNS, func() error {
		l, err := netlink.LinkByName(recvIf)
		if err != nil {
			return err
		}
		if x := l.Attrs().Xdp; x != nil && x.Attached {
			id = x.ProgId
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return id
}

// leaveStale attaches a program to the receiver interface the way a
// crashed agent would leave it: through netlink (it outlives its
// process) or as a bpf_link whose fd someone else still holds.
func (t *testbed) leaveStale(tb testing.TB, how string, foreign bool) {
	tb.Helper()
	err := inNS(t.recvNS, func() error {
		var prog *ebpf.Program
		if foreign {
			p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
				Name: "other_xdp", Type: ebpf.XDP, License: "MIT",
				Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()},
			})
			if err != nil {
				return err
			}
			prog = p
		} else {
			var objs bpf.Objects
			if err := bpf.LoadObjects(&objs, nil); err != nil {
				return err
			}
			defer objs.Close()
			p, err := objs.XdpCapture.Clone()
			if err != nil {
				return err
			}
			prog = p
		}
		defer prog.Close() // the attachment keeps the program alive
		l, err := netlink.LinkByName(recvIf)
		if err != nil {
			return err
		}
		switch how {
		case "netlink native":
			return netlink.LinkSetXdpFdWithFlags(l, prog.FD(), unix.XDP_FLAGS_DRV_MODE)
		case "netlink generic":
			return netlink.LinkSetXdpFdWithFlags(l, prog.FD(), unix.XDP_FLAGS_SKB_MODE)
		case "bpf_link generic":
			lk, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: l.Attrs().Index, Flags: link.XDPGenericMode})
			if err != nil {
				return err
			}
			tb.Cleanup(func() { lk.Close() }) // "another process" holds it
			return nil
		}
		return errors.New("unknown way " + how)
	})
	if err != nil {
		tb.Fatalf("attach stale program (%s): %v", how, err)
	}
	if t.attachedProgID(tb) == 0 {
		tb.Fatalf("stale program (%s) not attached", how)
	}
}

func TestLoadProgramReplacesStale(t *testing.T) {
	tests := []struct {
		how      string
		mode     AttachMode
		replaced string // in Program.Replaced
	}{
		{"netlink generic", ModeNative, "netlink attachment"},
		{"netlink native", ModeGeneric, "netlink attachment"},
		{"netlink native", ModeNative, "netlink attachment"},
		{"bpf_link generic", ModeNative, "bpf_link"},
	}
	for _, tt := range tests {
		t.Run(tt.how+" then "+tt.mode.String(), func(t *testing.T) {
			tb := newTestbed(t)
			tb.leaveStale(t, tt.how, false)
			var p *Program
			if err := inNS(tb.recvNS, func() (err error) { p, err = LoadProgram(recvIf, ProgramOptions{Mode: tt.mode}); return err }); err != nil {
				t.Fatalf("LoadProgram over a stale program: %v", err)
			}
			defer p.Close()
			t.Logf("replaced: %q", p.Replaced())
			if r := p.Replaced(); len(r) != 1 || !strings.Contains(r[0], tt.replaced) {
				t.Errorf("Replaced() = %q, want one entry about a %s", r, tt.replaced)
			}
			info, err := p.objs.XdpCapture.Info()
			if err != nil {
				t.Fatal(err)
			}
			id, _ := info.ID()
			if got := tb.attachedProgID(t); got != uint32(id) {
				t.Errorf("attached program id %d, want ours %d", got, id)
			}
			if p.Mode() != tt.mode {
				t.Errorf("mode %s, want %s", p.Mode(), tt.mode)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if got := tb.attachedProgID(t); got != 0 {
				t.Errorf("after Close, program %d still attached", got)
			}
		})
	}
}

func TestLoadProgramForeign(t *testing.T) {
	tb := newTestbed(t)
	tb.leaveStale(t, "netlink generic", true)
	foreign := tb.attachedProgID(t)
	err := inNS(tb.recvNS, func() error {
		p, err := LoadProgram(recvIf, ProgramOptions{})
		if err == nil {
			p.Close()
		}
		return err
	})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("LoadProgram over a foreign program: %v, want ErrBusy", err)
	}
	t.Logf("refused: %v", err)
	if got := tb.attachedProgID(t); got != foreign {
		t.Fatalf("foreign program %d replaced by %d after a refusal", foreign, got)
	}
	var p *Program
	if err := inNS(tb.recvNS, func() (err error) { p, err = LoadProgram(recvIf, ProgramOptions{ReplaceForeign: true}); return err }); err != nil {
		t.Fatalf("LoadProgram with ReplaceForeign: %v", err)
	}
	defer p.Close()
	if got := tb.attachedProgID(t); got == foreign || got == 0 {
		t.Errorf("attached program %d, want ours", got)
	}
	t.Logf("mode %s, fallbacks %q, replaced %q", p.Mode(), p.Fallbacks(), p.Replaced())
}

func TestLoadProgramErrors(t *testing.T) {
	tb := newTestbed(t)
	err := inNS(tb.recvNS, func() error { _, err := LoadProgram("nosuch0", ProgramOptions{}); return err })
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing interface: %v", err)
	}
	var p *Program
	if err := inNS(tb.recvNS, func() (err error) { p, err = LoadProgram(recvIf, ProgramOptions{}); return err }); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Mode() != ModeNative || len(p.Fallbacks()) != 0 {
		t.Errorf("auto on veth: mode %s fallbacks %q, want native without fallbacks", p.Mode(), p.Fallbacks())
	}
	if err := p.Register(bpf.MaxQueues, 0); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Register(64): %v, want ErrInvalidConfig", err)
	}
	big := make([]uint16, bpf.MaxPorts+1)
	if err := p.SetPortFilter(big); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SetPortFilter(1025 ports): %v, want ErrInvalidConfig", err)
	}
	if err := p.SetPortFilter([]uint16{53, 9999}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetPortFilter([]uint16{53}); err != nil {
		t.Fatal(err)
	}
	var keys []uint16
	var k uint16
	var v uint8
	for it := p.objs.Ports.Iterate(); it.Next(&k, &v); {
		keys = append(keys, k)
	}
	if len(keys) != 1 || keys[0] != 53 {
		t.Errorf("ports map after SetPortFilter([53]): %v", keys)
	}
	// Opening a second socket on a queue that has one fails with EBUSY.
	err = inNS(tb.recvNS, func() error {
		s1, err := Open(Config{Iface: recvIf, Queue: 1}, p)
		if err != nil {
			return err
		}
		defer s1.Close()
		s2, err := Open(Config{Iface: recvIf, Queue: 1}, p)
		if err == nil {
			s2.Close()
			return errors.New("second socket on queue 1 opened")
		}
		if !errors.Is(err, unix.EBUSY) {
			return err
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
