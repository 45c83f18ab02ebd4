package testdeps

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// execFuncs are the calls whose program argument the scan reads, with the
// index of that argument; -1 means every string argument is a program
// (requireRootAndBinaries(t, "ip", "unbound", ...)).
var execFuncs = map[string]int{
	"exec.Command":           0,
	"exec.CommandContext":    1,
	"exec.LookPath":          0,
	"runCmd":                 1,
	"runCmdErr":              0,
	"startProc":              2,
	"requireRootAndBinaries": -1,
}

// toolchain are programs that come with Go, not with a Debian package.
var toolchain = []string{"go"}

type dep struct {
	set, pkg string
	indirect bool // run by a tool the tests run ("+" in deps.txt)
}

// readDeps parses scripts/deps.txt: program -> where it comes from.
func readDeps(t *testing.T, root string) map[string][]dep {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "scripts", "deps.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]dep{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			t.Fatalf("deps.txt:%d: want 'set package programs...', got %q", n, line)
		}
		if !slices.Contains([]string{"base", "build", "test", "bench"}, fields[0]) {
			t.Fatalf("deps.txt:%d: unknown set %q", n, fields[0])
		}
		for _, p := range fields[2:] {
			if p == "-" {
				continue
			}
			name, indirect := strings.CutPrefix(p, "+")
			out[name] = append(out[name], dep{fields[0], fields[1], indirect})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// use is one program a test runs, and where.
type use struct {
	prog string
	at   string
}

// scanPrograms returns the programs that the module's test code runs: the
// string literals in program position of execFuncs calls, and the program
// after "ip netns exec NS".
func scanPrograms(t *testing.T, root string) []use {
	t.Helper()
	var uses []use
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		// Test files, and helper packages imported only by tests.
		rel, _ := filepath.Rel(root, path)
		if !strings.HasSuffix(path, "_test.go") && !(strings.HasSuffix(path, ".go") && strings.HasPrefix(rel, "internal/testutil/")) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			idx, ok := execFuncs[callee(call.Fun)]
			if !ok {
				return true
			}
			at := fset.Position(call.Pos()).String()
			if r, err := filepath.Rel(root, at); err == nil {
				at = r
			}
			args := literals(call.Args)
			if idx < 0 {
				for _, a := range args {
					if a != nil {
						uses = append(uses, use{*a, at})
					}
				}
				return true
			}
			if idx >= len(args) || args[idx] == nil {
				return true // a program in a variable: its literal is scanned where it is named
			}
			uses = append(uses, use{*args[idx], at})
			rest := args[idx+1:]
			// ip netns exec NS PROG ...
			if *args[idx] == "ip" && len(rest) >= 4 && eq(rest[0], "netns") && eq(rest[1], "exec") && rest[3] != nil {
				uses = append(uses, use{*rest[3], at})
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return uses
}

func eq(s *string, v string) bool { return s != nil && *s == v }

// literals returns each argument's string value, nil where it is not a
// string literal.
func literals(args []ast.Expr) []*string {
	out := make([]*string, len(args))
	for i, a := range args {
		if bl, ok := a.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			if s, err := strconv.Unquote(bl.Value); err == nil {
				out[i] = &s
			}
		}
	}
	return out
}

func callee(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name + "." + f.Sel.Name
		}
	}
	return ""
}

// TestProgramsInstalled fails when a test runs a program that neither the
// base system, the Go toolchain nor scripts/deps.txt (build or test set)
// provides: a fresh machine's `make test` would fail or skip on it.
func TestProgramsInstalled(t *testing.T) {
	root := moduleRoot(t)
	deps := readDeps(t, root)
	uses := scanPrograms(t, root)
	if len(uses) < 10 {
		t.Fatalf("scan found only %d program uses: the scanner no longer matches the tests' helpers", len(uses))
	}
	seen := map[string]bool{}
	for _, u := range uses {
		if slices.Contains(toolchain, u.prog) {
			continue
		}
		ok := false
		for _, d := range deps[u.prog] {
			if d.set != "bench" {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: the tests run %q, which scripts/deps.txt does not list under base, build or test", u.at, u.prog)
		}
		seen[u.prog] = true
	}
	// Every test program listed is used (a stale line installs for nothing).
	for prog, ds := range deps {
		for _, d := range ds {
			if d.set == "test" && !d.indirect && !seen[prog] {
				t.Errorf("scripts/deps.txt lists %q (package %s) for the tests, but no test runs it", prog, d.pkg)
			}
		}
	}
}

// TestPackagesProvidePrograms checks on a Debian/Ubuntu machine that each
// program listed in scripts/deps.txt, where it is installed, belongs to the
// package the file names.
func TestPackagesProvidePrograms(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("not a dpkg system")
	}
	root := moduleRoot(t)
	for prog, ds := range readDeps(t, root) {
		path, err := exec.LookPath(prog)
		if err != nil {
			continue // not installed here: nothing to compare
		}
		owners := owner(path)
		if len(owners) == 0 {
			t.Logf("%s (%s) belongs to no package", prog, path)
			continue
		}
		for _, d := range ds {
			if !slices.Contains(owners, d.pkg) {
				t.Errorf("scripts/deps.txt says package %s provides %s, but %s belongs to %s", d.pkg, prog, path, strings.Join(owners, ", "))
			}
		}
	}
}

// owner returns the packages that own path, trying the resolved path and
// its pre-usrmerge spelling (/usr/sbin/ip is /sbin/ip in dpkg's database).
func owner(path string) []string {
	cands := []string{path}
	if r, err := filepath.EvalSymlinks(path); err == nil && r != path {
		cands = append(cands, r)
	}
	for _, c := range slices.Clone(cands) {
		if s, ok := strings.CutPrefix(c, "/usr"); ok {
			cands = append(cands, s)
		} else {
			cands = append(cands, "/usr"+c)
		}
	}
	var out []string
	for _, c := range cands {
		b, err := exec.Command("dpkg-query", "-S", c).Output()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			pkgs, _, ok := strings.Cut(line, ": ")
			if !ok {
				continue
			}
			for _, p := range strings.Split(pkgs, ", ") {
				p, _, _ = strings.Cut(p, ":") // drop :amd64
				if !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}
