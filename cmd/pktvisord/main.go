// Command pktvisord is the network observability agent: it taps live
// traffic, runs collection policies and serves their metrics over REST and
// Prometheus.
package main

import (
	"os"

	"github.com/pktvisor-go/pktvisor/internal/agent"
)

func main() {
	os.Exit(agent.Run(os.Args[1:], os.Stdout, os.Stderr))
}
