//go:build (386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm) && linux

package bpf

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

// generateArgs returns the bpf2go arguments of gen.go's go:generate line.
func generateArgs(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("gen.go")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "//go:generate go run "); ok {
			return strings.Fields(rest)
		}
	}
	tb.Fatal("gen.go has no go:generate go run line")
	return nil
}

// TestGeneratedUpToDate compiles xdp_capture.c again with the command of
// gen.go into a temporary directory and checks that the committed output
// matches it. The Go file must be identical; the objects are compared by
// their programs' instructions and their maps' definitions, not byte by
// byte, because BTF and DWARF sections differ between clang versions
// even when the code is the same.
func TestGeneratedUpToDate(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("clang not on PATH")
	}
	if testing.Short() {
		t.Skip("builds bpf2go; skipped in -short mode")
	}
	args := generateArgs(t)
	// args: github.com/cilium/ebpf/cmd/bpf2go [flags] ident source -- cflags
	dir := t.TempDir()
	cmdArgs := append([]string{"run", args[0], "-output-dir", dir, "-go-package", "bpf"}, args[1:]...)
	cmd := exec.Command("go", cmdArgs...)
	cmd.Env = append(os.Environ(), "GOPACKAGE=bpf")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(cmdArgs, " "), err, out)
	}

	for _, name := range []string{"xdpcapture_bpfel.go"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./bpf/", name)
		}
	}

	fresh, err := ebpf.LoadCollectionSpec(filepath.Join(dir, "xdpcapture_bpfel.o"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	compareSpecs(t, committed, fresh)
}

// compareSpecs reports every difference in programs or maps between got
// (committed) and want (freshly built).
func compareSpecs(t *testing.T, got, want *ebpf.CollectionSpec) {
	t.Helper()
	if len(got.Programs) != len(want.Programs) {
		t.Errorf("committed object has %d programs, fresh build %d: run go generate ./bpf/", len(got.Programs), len(want.Programs))
	}
	for name, w := range want.Programs {
		g, ok := got.Programs[name]
		if !ok {
			t.Errorf("program %s missing from committed object", name)
			continue
		}
		if g.Type != w.Type || g.SectionName != w.SectionName || g.License != w.License {
			t.Errorf("program %s: type/section/license %v/%s/%s, fresh %v/%s/%s",
				name, g.Type, g.SectionName, g.License, w.Type, w.SectionName, w.License)
		}
		if len(g.Instructions) != len(w.Instructions) {
			t.Errorf("program %s: %d instructions, fresh build %d: run go generate ./bpf/", name, len(g.Instructions), len(w.Instructions))
			continue
		}
		for i := range w.Instructions {
			gi, wi := g.Instructions[i], w.Instructions[i]
			if gi.OpCode != wi.OpCode || gi.Dst != wi.Dst || gi.Src != wi.Src ||
				gi.Offset != wi.Offset || gi.Constant != wi.Constant || gi.Reference() != wi.Reference() {
				t.Errorf("program %s: instruction %d is %v, fresh build %v: run go generate ./bpf/", name, i, gi, wi)
				break
			}
		}
	}
	if len(got.Maps) != len(want.Maps) {
		t.Errorf("committed object has %d maps, fresh build %d", len(got.Maps), len(want.Maps))
	}
	for name, w := range want.Maps {
		g, ok := got.Maps[name]
		if !ok {
			t.Errorf("map %s missing from committed object", name)
			continue
		}
		if g.Type != w.Type || g.KeySize != w.KeySize || g.ValueSize != w.ValueSize ||
			g.MaxEntries != w.MaxEntries || g.Flags != w.Flags {
			t.Errorf("map %s: %v key %d value %d max %d flags %#x, fresh build %v key %d value %d max %d flags %#x",
				name, g.Type, g.KeySize, g.ValueSize, g.MaxEntries, g.Flags,
				w.Type, w.KeySize, w.ValueSize, w.MaxEntries, w.Flags)
		}
	}
}

// TestSpec checks, without privileges, that the committed object has the
// shape the Go side relies on.
func TestSpec(t *testing.T) {
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	prog, ok := spec.Programs[ProgXDPCapture]
	if !ok || prog.Type != ebpf.XDP {
		t.Fatalf("program %s: %v, want an XDP program", ProgXDPCapture, prog)
	}
	tests := []struct {
		name       string
		typ        ebpf.MapType
		key, value uint32
		max        uint32
	}{
		{MapCounters, ebpf.PerCPUArray, 4, 16, NumCounters},
		{MapPorts, ebpf.Hash, 2, 1, MaxPorts},
		{MapConfig, ebpf.Array, 4, 4, 1},
		{MapXsks, ebpf.XSKMap, 4, 4, MaxQueues},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := spec.Maps[tt.name]
			if !ok {
				t.Fatalf("map %s missing", tt.name)
			}
			if m.Type != tt.typ || m.KeySize != tt.key || m.ValueSize != tt.value || m.MaxEntries != tt.max {
				t.Errorf("map %s: %v key %d value %d max %d, want %v key %d value %d max %d",
					tt.name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, tt.typ, tt.key, tt.value, tt.max)
			}
		})
	}
}

// TestCounterClasses checks that CounterNames covers every class.
func TestCounterClasses(t *testing.T) {
	seen := map[string]bool{}
	for i, n := range CounterNames {
		if n == "" || seen[n] {
			t.Errorf("class %d: name %q empty or repeated", i, n)
		}
		seen[n] = true
	}
}
