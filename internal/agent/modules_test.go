package agent

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/input"
)

// TestModuleListIsTheRegistry: --module-list prints exactly the input and
// handler registries, one line each, and the built-in set is linked in.
func TestModuleListIsTheRegistry(t *testing.T) {
	code, out, errOut := runAgent("--module-list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var want strings.Builder
	want.WriteString("inputs:\n")
	for _, i := range input.Registered() {
		fmt.Fprintf(&want, "  %s %s\n", i.Type, i.Version)
	}
	want.WriteString("handlers:\n")
	for _, h := range handler.Registered() {
		fmt.Fprintf(&want, "  %s %s (schema %s)\n", h.Type, h.Version, h.Schema)
	}
	if out != want.String() {
		t.Fatalf("--module-list printed\n%s\nthe registries hold\n%s", out, want.String())
	}
	for _, line := range []string{"  pcap 1.0", "  net 1.0 (schema packets)", "  dns 1.0 (schema dns)",
		"  dhcp 1.0 (schema dhcp)", "  pcap 1.0 (schema pcap)"} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("--module-list lacks %q", line)
		}
	}
}
