//go:build !cgo || nolibpcap

package libpcap

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/pktvisor-go/pktvisor/internal/capture"
)

var _ capture.Source = (*Source)(nil)

// errNoLibpcap is the reason every call fails in this build.
var errNoLibpcap = fmt.Errorf("libpcap needs a build with cgo and without the nolibpcap tag: %w", capture.ErrNotSupported)

// Source is a live libpcap capture; this build has none, so no Source is
// ever opened.
type Source struct{}

// Open reports an error wrapping [capture.ErrNotSupported]: this build has
// no libpcap.
func Open(cfg Config) (*Source, error) {
	return nil, fmt.Errorf("open libpcap source: %w", errNoLibpcap)
}

// ReadBatch implements [capture.Source]; it always fails in this build.
func (s *Source) ReadBatch(ctx context.Context, frames []capture.Frame) (int, error) {
	return 0, errNoLibpcap
}

// LinkType implements [capture.Source].
func (s *Source) LinkType() uint32 { return 0 }

// Stats implements [capture.Source]; it always fails in this build.
func (s *Source) Stats() (capture.Stats, error) { return capture.Stats{}, errNoLibpcap }

// Close implements [capture.Source].
func (s *Source) Close() error { return nil }

// Version returns "" in this build.
func Version() string { return "" }

// InterfaceAddrs reports an error wrapping [capture.ErrNotSupported] in
// this build.
func InterfaceAddrs(iface string) ([]netip.Prefix, error) {
	return nil, fmt.Errorf("list addresses: %w", errNoLibpcap)
}
