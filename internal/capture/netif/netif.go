// Package netif answers the questions a capture input asks about a network
// interface before it opens it: which interface pktvisor's IFACE argument
// names (a name, one of the interface's IP addresses, or "auto"), which host
// addresses it holds (to extend host_spec), and how many receive queues it
// has (to size a fanout group or an AF_XDP socket set).
//
// Interface facts come from sysfs (/sys/class/net); [System] lets tests aim
// it at a fixture tree. The package-level functions use the running system.
//
// # The one mistake
//
// Answers are about the network namespace of the calling thread (addresses,
// through netlink) or of the process that mounted sysfs (everything read
// from /sys). Inside a namespace entered with setns(2) but without a fresh
// sysfs mount the two disagree; "ip netns exec" remounts /sys, so code run
// under it sees one consistent namespace.
package netif

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
)

// DefaultSysRoot is where sysfs is mounted on a running Linux system.
const DefaultSysRoot = "/sys"

// arphrdLoopback is ARPHRD_LOOPBACK from <linux/if_arp.h>, the value of
// /sys/class/net/IFACE/type for loopback devices.
const arphrdLoopback = 772

// familyAll is netlink.FAMILY_ALL (AF_UNSPEC), spelled out because the
// netlink package defines it only on Linux.
const familyAll = 0

// ErrNotFound is wrapped by errors about an interface or address that does
// not exist.
var ErrNotFound = errors.New("not found")

// System reads interface facts from a sysfs tree. The zero value uses the
// running system. A System is safe for concurrent use.
type System struct {
	// SysRoot is the sysfs mount point; empty means [DefaultSysRoot].
	SysRoot string
	// Addrs lists an interface's host addresses; nil means [Addrs]. Resolve
	// calls it for every interface under SysRoot when the spec is an IP
	// address.
	Addrs func(iface string) ([]netip.Prefix, error)
}

func (s System) root() string {
	if s.SysRoot == "" {
		return DefaultSysRoot
	}
	return s.SysRoot
}

func (s System) addrs(iface string) ([]netip.Prefix, error) {
	if s.Addrs == nil {
		return Addrs(iface)
	}
	return s.Addrs(iface)
}

// classNet returns the path of class/net/NAME/elem... under the sysfs root.
func (s System) classNet(elem ...string) string {
	return filepath.Join(append([]string{s.root(), "class", "net"}, elem...)...)
}

// Interfaces returns the names of all interfaces under class/net, sorted.
func (s System) Interfaces() ([]string, error) {
	ents, err := os.ReadDir(s.classNet())
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// exists reports whether class/net/NAME exists. Names with a path separator
// or dot-only names never exist.
func (s System) exists(name string) (bool, error) {
	if !validName(name) {
		return false, nil
	}
	_, err := os.Stat(s.classNet(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat interface %s: %w", name, err)
	}
	return true, nil
}

// validName reports whether name can be a Linux interface name (IFNAMSIZ-1
// bytes, no '/', no whitespace, not "." or "..").
func validName(name string) bool {
	if name == "" || len(name) > 15 || name == "." || name == ".." {
		return false
	}
	return !strings.ContainsAny(name, "/: \t\n")
}

// Resolve maps pktvisor's IFACE argument to an interface name:
//
//   - "auto": the non-loopback interface that has received the most packets
//     (class/net/*/statistics/rx_packets; ties go to the first name in
//     lexical order);
//   - an IPv4 or IPv6 address: the interface holding that address;
//   - anything else: an interface name, which must exist.
//
// Errors wrap [ErrNotFound] when nothing matches.
func (s System) Resolve(spec string) (string, error) {
	switch {
	case spec == "auto":
		return s.resolveAuto()
	case isAddr(spec):
		return s.resolveAddr(spec)
	}
	ok, err := s.exists(spec)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("interface %s %w", spec, ErrNotFound)
	}
	return spec, nil
}

func isAddr(spec string) bool {
	_, err := netip.ParseAddr(spec)
	return err == nil
}

func (s System) resolveAddr(spec string) (string, error) {
	want, err := netip.ParseAddr(spec)
	if err != nil {
		return "", fmt.Errorf("parse interface address %s: %w", spec, err)
	}
	want = want.Unmap().WithZone("")
	names, err := s.Interfaces()
	if err != nil {
		return "", fmt.Errorf("resolve interface address %s: %w", spec, err)
	}
	for _, name := range names {
		prefixes, err := s.addrs(name)
		if err != nil {
			// An interface can vanish between listing and asking.
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return "", fmt.Errorf("resolve interface address %s: %w", spec, err)
		}
		for _, p := range prefixes {
			if p.Addr() == want {
				return name, nil
			}
		}
	}
	return "", fmt.Errorf("interface with address %s %w", spec, ErrNotFound)
}

func (s System) resolveAuto() (string, error) {
	names, err := s.Interfaces()
	if err != nil {
		return "", fmt.Errorf("resolve interface auto: %w", err)
	}
	best, bestRx := "", uint64(0)
	for _, name := range names {
		lo, err := s.isLoopback(name)
		if err != nil {
			return "", fmt.Errorf("resolve interface auto: %w", err)
		}
		if lo {
			continue
		}
		rx, err := s.RxPackets(name)
		if err != nil {
			return "", fmt.Errorf("resolve interface auto: %w", err)
		}
		if best == "" || rx > bestRx {
			best, bestRx = name, rx
		}
	}
	if best == "" {
		return "", fmt.Errorf("resolve interface auto: non-loopback interface %w", ErrNotFound)
	}
	return best, nil
}

// isLoopback reports whether class/net/NAME/type is ARPHRD_LOOPBACK.
func (s System) isLoopback(name string) (bool, error) {
	v, err := s.readUint(name, "type")
	if err != nil {
		return false, err
	}
	return v == arphrdLoopback, nil
}

// RxPackets returns class/net/IFACE/statistics/rx_packets.
func (s System) RxPackets(iface string) (uint64, error) {
	return s.readUint(iface, "statistics", "rx_packets")
}

// RxDropped returns class/net/IFACE/statistics/rx_dropped: packets the
// interface received but the kernel dropped before any socket saw them
// (no buffer, unknown protocol, backlog full).
func (s System) RxDropped(iface string) (uint64, error) {
	return s.readUint(iface, "statistics", "rx_dropped")
}

// readUint reads one decimal (or 0x-prefixed hex) number from
// class/net/IFACE/elem....
func (s System) readUint(iface string, elem ...string) (uint64, error) {
	if !validName(iface) {
		return 0, fmt.Errorf("interface %s %w", iface, ErrNotFound)
	}
	p := s.classNet(append([]string{iface}, elem...)...)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("read %s: interface %s %w", p, iface, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", p, err)
	}
	v, err := parseUint(string(b))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", p, err)
	}
	return v, nil
}

// parseUint parses a sysfs number: decimal, or hexadecimal with 0x, with
// surrounding whitespace.
func parseUint(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		return strconv.ParseUint(h, 16, 64)
	}
	return strconv.ParseUint(s, 10, 64)
}

// RxQueues returns the number of receive queues of iface, counted as the
// class/net/IFACE/queues/rx-* directories. It is at least 1 for an existing
// interface.
func (s System) RxQueues(iface string) (int, error) {
	ok, err := s.exists(iface)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("count rx queues: interface %s %w", iface, ErrNotFound)
	}
	ents, err := os.ReadDir(s.classNet(iface, "queues"))
	if errors.Is(err, fs.ErrNotExist) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count rx queues of %s: %w", iface, err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "rx-") {
			n++
		}
	}
	return max(n, 1), nil
}

// Resolve maps pktvisor's IFACE argument to an interface name on the
// running system; see [System.Resolve].
func Resolve(spec string) (string, error) { return System{}.Resolve(spec) }

// RxQueues returns the number of receive queues of iface on the running
// system; see [System.RxQueues].
func RxQueues(iface string) (int, error) { return System{}.RxQueues(iface) }

// Addrs returns the addresses assigned to iface as host prefixes (/32 for
// IPv4, /128 for IPv6; IPv4-mapped addresses are unmapped), in the order
// the kernel reports them. It asks the kernel (netlink) in the network
// namespace of the calling thread. A missing interface gives an error
// wrapping [ErrNotFound].
func Addrs(iface string) ([]netip.Prefix, error) {
	link, err := netlink.LinkByName(iface)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("list addresses: interface %s %w", iface, ErrNotFound)
		}
		return nil, fmt.Errorf("list addresses of %s: %w", iface, err)
	}
	addrs, err := netlink.AddrList(link, familyAll)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", iface, err)
	}
	ips := make([]net.IP, 0, len(addrs))
	for _, a := range addrs {
		if a.IPNet != nil {
			ips = append(ips, a.IP)
		}
	}
	return hostPrefixes(ips), nil
}

// hostPrefixes turns interface addresses into host prefixes, skipping
// anything that is not a 4- or 16-byte address.
func hostPrefixes(ips []net.IP) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ips))
	for _, ip := range ips {
		addr, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		addr = addr.Unmap()
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out
}

// IsLoopback reports whether iface is a loopback device.
func IsLoopback(iface string) (bool, error) { return System{}.isLoopback(iface) }
