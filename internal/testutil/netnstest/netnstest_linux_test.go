//go:build linux

package netnstest

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

func TestNewNamed(t *testing.T) {
	RequireRoot(t, "CAP_SYS_ADMIN")
	name := fmt.Sprintf("nnt%d", os.Getpid())
	t.Run("create", func(t *testing.T) {
		ns := NewNamed(t, name)
		DisableIPv6(t, ns)
		byName, err := netns.GetFromName(name)
		if err != nil {
			t.Fatalf("GetFromName: %v", err)
		}
		defer byName.Close()
		if !byName.Equal(ns) {
			t.Errorf("namespace %s is %v, want %v", name, byName, ns)
		}
	})
	if _, err := os.Stat("/run/netns/" + name); !os.IsNotExist(err) {
		t.Errorf("/run/netns/%s after cleanup: %v, want not exist", name, err)
	}
}

func TestPair(t *testing.T) {
	RequireRoot(t, "CAP_NET_ADMIN", "CAP_NET_RAW")
	mac := net.HardwareAddr{0x02, 0x77, 0, 0, 0, 0x01}
	p := NewPair(t, PairConfig{
		VethConfig:  VethConfig{Name: "nnta0", PeerName: "nntb0", MAC: mac, Queues: 2},
		Addr:        netip.MustParsePrefix("10.209.0.1/24"),
		PeerAddr:    netip.MustParsePrefix("10.209.0.2/24"),
		StaticNeigh: true,
	})
	if !bytes.Equal(p.Link.MAC, mac) || len(p.Peer.MAC) != 6 {
		t.Errorf("MACs %v, %v; want %v and a kernel-chosen one", p.Link.MAC, p.Peer.MAC, mac)
	}
	// The receiving end sees a frame sent from the peer.
	var conn *net.UDPConn
	if err := Do(p.Link.NS, func() (err error) {
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 209, 0, 1), Port: 9999})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := Do(p.Link.NS, func() error {
		l, err := netlink.LinkByName("nnta0")
		if err != nil {
			return err
		}
		if l.Attrs().NumTxQueues != 2 {
			return fmt.Errorf("%d TX queues, want 2", l.Attrs().NumTxQueues)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	s := NewSender(t, p.Peer, p.Link.MAC)
	f := PutUDP(make([]byte, 1514), UDPHeader{
		DstMAC: p.Link.MAC, SrcMAC: p.Peer.MAC,
		SrcIP: net.IPv4(10, 209, 0, 2), DstIP: net.IPv4(10, 209, 0, 1),
		SrcPort: 4000, DstPort: 9999,
	}, 5)
	copy(f[UDPHeaderLen:], "hello")
	if err := s.Send(f); err != nil {
		t.Fatalf("Send: %v", err)
	}
	buf := make([]byte, 64)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if got := string(buf[:n]); got != "hello" || from.Port != 4000 {
		t.Errorf("got %q from %v, want \"hello\" from port 4000", got, from)
	}
}

func TestIPv4Checksum(t *testing.T) {
	// RFC 1071 example header (Wikipedia "IPv4 header checksum").
	h := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	if got := IPv4Checksum(h); got != 0xb861 {
		t.Errorf("IPv4Checksum = %#04x, want 0xb861", got)
	}
}
