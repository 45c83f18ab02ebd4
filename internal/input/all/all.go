// Package all links every built-in input type into a program: each one
// registers itself with internal/input when its package is imported.
package all

import (
	// The built-in inputs, by type.
	_ "github.com/pktvisor-go/pktvisor/internal/input/pcap"
)
