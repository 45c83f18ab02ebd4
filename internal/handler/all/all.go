// Package all links every built-in handler into a program: each one
// registers itself with internal/handler when its package is imported.
// Programs (and tests that need real handlers) import it for its effect.
package all

import (
	// The built-in handlers, by type.
	_ "github.com/pktvisor-go/pktvisor/internal/handler/dhcp"
	_ "github.com/pktvisor-go/pktvisor/internal/handler/dns"
	_ "github.com/pktvisor-go/pktvisor/internal/handler/netstats"
	_ "github.com/pktvisor-go/pktvisor/internal/handler/pcapstats"
)
