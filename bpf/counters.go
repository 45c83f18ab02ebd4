package bpf

// Counter classes, the indexes of the counters map; they mirror enum
// counter_class in xdp_capture.c.
const (
	CounterIPv4 = iota
	CounterIPv6
	CounterOtherL3
	CounterTCP
	CounterUDP
	CounterOtherL4
	CounterParseErrors
	CounterRedirected
	CounterRedirectFailed
	CounterFilteredOut
	NumCounters // number of classes, the size of the counters map
)

// CounterNames are the classes' names, indexed by class.
var CounterNames = [NumCounters]string{
	CounterIPv4:           "ipv4",
	CounterIPv6:           "ipv6",
	CounterOtherL3:        "other_l3",
	CounterTCP:            "tcp",
	CounterUDP:            "udp",
	CounterOtherL4:        "other_l4",
	CounterParseErrors:    "parse_errors",
	CounterRedirected:     "redirected",
	CounterRedirectFailed: "redirect_failed",
	CounterFilteredOut:    "filtered_out",
}

// ConfigFilterPorts is the bit of the config map's flags that turns the
// port pre-filter on.
const ConfigFilterPorts = 1 << 0

// ConfigDropFiltered is the bit that makes the program drop the frames the
// port filter leaves instead of passing them to the kernel stack.
const ConfigDropFiltered = 1 << 1

// Limits compiled into the program.
const (
	MaxQueues = 64   // entries of the xsks map: receive queues 0..63
	MaxPorts  = 1024 // entries of the ports map
)
