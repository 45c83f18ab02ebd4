package config

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// laughs returns the lines of a "billion laughs" map at indent: level 0
// is a map of fan scalars and level i a map of fan aliases of level i-1,
// so the last level stands for fan^levels nodes.
func laughs(indent string, levels, fan int) string {
	var b strings.Builder
	for i := 0; i < levels; i++ {
		fmt.Fprintf(&b, "%sl%d: &l%d {", indent, i, i)
		for j := 0; j < fan; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			if i == 0 {
				fmt.Fprintf(&b, "key%d: lol", j)
			} else {
				fmt.Fprintf(&b, "key%d: *l%d", j, i-1)
			}
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// TestAliasExpansion checks that every parser refuses a document whose
// aliases expand it beyond the limit, and does so before building the
// expanded values.
func TestAliasExpansion(t *testing.T) {
	tapBomb := func(levels, fan int) string {
		return head + "  taps:\n    t:\n      input_type: mock\n      config:\n" + laughs("        ", levels, fan)
	}
	polBomb := func(levels, fan int) string {
		return head + polHead + inTap + "      handlers:\n        modules:\n          n:\n            type: net\n            config:\n" +
			laughs("              ", levels, fan)
	}
	parsers := []struct {
		name  string
		parse func([]byte) error
		doc   func(levels, fan int) string
	}{
		{"Parse", func(b []byte) error { _, err := Parse(b); return err }, tapBomb},
		{"ParseTaps", func(b []byte) error { _, err := ParseTaps(b); return err }, tapBomb},
		{"ParsePolicies", func(b []byte) error { _, err := ParsePolicies(b, nil); return err }, polBomb},
	}
	const want = "aliases expand the document by more than 65536 nodes"
	for _, p := range parsers {
		for _, size := range []struct{ levels, fan int }{{5, 10}, {9, 150}} {
			doc := p.doc(size.levels, size.fan)
			t.Run(fmt.Sprintf("%s/%d levels of %d (%d bytes)", p.name, size.levels, size.fan, len(doc)), func(t *testing.T) {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				err := p.parse([]byte(doc))
				runtime.ReadMemStats(&after)
				if err == nil || err.Error() != want {
					t.Errorf("got %v, want %q", err, want)
				}
				if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 8 {
					t.Errorf("parsing allocated %d MiB, want at most 8", mb)
				}
			})
		}
	}
}

// TestAliasReuse checks that ordinary anchors and aliases still work: a
// config map written once and used by several taps.
func TestAliasReuse(t *testing.T) {
	doc := head + "  taps:\n" +
		"    a:\n      input_type: mock\n      config: &cfg {iface: eth0, n: 1, l: [x, y]}\n" +
		"    b:\n      input_type: mock\n      config: *cfg\n"
	f, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"iface": "eth0", "n": uint64(1), "l": []string{"x", "y"}}
	if len(f.Taps) != 2 || !reflect.DeepEqual(f.Taps[0].Config, want) || !reflect.DeepEqual(f.Taps[1].Config, want) {
		t.Fatalf("got %#v", f.Taps)
	}
	// An alias of its own anchor is a cycle, refused whatever the walker
	// would make of it.
	if _, err := Parse([]byte(head + "  config: &c {a: *c}\n")); err == nil || !strings.Contains(err.Error(), "alias") {
		t.Errorf("self alias: got %v", err)
	}
}
