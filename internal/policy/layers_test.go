package policy

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/pktvisor-go/pktvisor/internal/"

// TestLayers checks the boundaries DESIGN §2 sets, on the packages' full
// dependency sets (go list -deps): the core (policy, reader, server,
// config) links no capture backend, no handler and no input type; handlers
// link no input; inputs link no handler. Programs link them through
// internal/handler/all and internal/input/all.
func TestLayers(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goBin, "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[f[0]] = f[1:]
	}
	under := func(p, dir string) bool { return strings.HasPrefix(p, module+dir+"/") }
	check := func(pkg, why string, bad func(dep string) bool) {
		ds, ok := deps[pkg]
		if !ok {
			t.Errorf("%s: not listed", pkg)
			return
		}
		for _, d := range ds {
			if bad(d) {
				t.Errorf("%s imports %s: %s", pkg, d, why)
			}
		}
	}
	for _, core := range []string{"policy", "reader", "server", "config"} {
		check(module+core, "the core names no capture backend, handler or input type", func(d string) bool {
			return under(d, "capture") || under(d, "handler") || under(d, "input")
		})
	}
	var handlers, inputs int
	for pkg := range deps {
		switch {
		case under(pkg, "handler") && pkg != module+"handler/all":
			handlers++
			check(pkg, "handlers know nothing about inputs", func(d string) bool {
				return d == module+"input" || under(d, "input") || under(d, "capture")
			})
		case under(pkg, "input") && pkg != module+"input/all":
			inputs++
			check(pkg, "inputs know nothing about handlers", func(d string) bool {
				return d == module+"handler" || under(d, "handler")
			})
		}
	}
	if handlers < 4 || inputs < 1 {
		t.Fatalf("found %d handler and %d input packages: the listing is wrong", handlers, inputs)
	}
}
