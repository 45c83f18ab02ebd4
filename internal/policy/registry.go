package policy

import (
	"slices"

	"github.com/pktvisor-go/pktvisor/internal/handler"
	"github.com/pktvisor-go/pktvisor/internal/handler/dhcp"
	"github.com/pktvisor-go/pktvisor/internal/handler/dns"
	"github.com/pktvisor-go/pktvisor/internal/handler/netstats"
	"github.com/pktvisor-go/pktvisor/internal/handler/pcapstats"
)

// Factory builds one handler shard.
type Factory func(handler.Options) (handler.Handler, error)

// HandlerInfo describes a built-in handler for --module-list and for
// policy validation.
type HandlerInfo struct {
	Type    string
	Version string
	Schema  string
	Inputs  []string // input types it accepts
	New     Factory
}

// Handlers lists the built-in handlers (an explicit list: the set is small
// and closed).
func Handlers() []HandlerInfo {
	return []HandlerInfo{
		{Type: netstats.Type, Version: "1.0", Schema: netstats.Schema, Inputs: []string{"pcap"},
			New: func(o handler.Options) (handler.Handler, error) { return netstats.NewV1(o) }},
		{Type: dns.Type, Version: "1.0", Schema: dns.Schema, Inputs: []string{"pcap"},
			New: func(o handler.Options) (handler.Handler, error) { return dns.NewV1(o) }},
		{Type: dhcp.Type, Version: "1.0", Schema: dhcp.Schema, Inputs: []string{"pcap"},
			New: func(o handler.Options) (handler.Handler, error) { return dhcp.NewV1(o) }},
		{Type: pcapstats.Type, Version: "1.0", Schema: pcapstats.Schema, Inputs: []string{"pcap"},
			New: func(o handler.Options) (handler.Handler, error) { return pcapstats.New(o) }},
	}
}

// Inputs lists the built-in input types with their versions.
func Inputs() [][2]string { return [][2]string{{"pcap", "1.0"}} }

func lookupHandler(policy, typ, version, input string) (HandlerInfo, error) {
	for _, h := range Handlers() {
		if h.Type == typ && h.Version == version {
			if !slices.Contains(h.Inputs, input) {
				return HandlerInfo{}, errf(ErrInvalid, "handler type '%s' does not accept input type '%s'", typ, input)
			}
			return h, nil
		}
	}
	return HandlerInfo{}, errf(ErrInvalid, "Policy '%s' requires stream handler type '%s' and version '%s' which is not available", policy, typ, version)
}
