// Package dhcpmsg parses DHCPv4 (RFC 2131, options of RFC 2132) and DHCPv6
// (RFC 8415) messages from UDP payloads into caller-owned structs, without
// allocating. It reads only what the dhcp stream handler needs: the fixed
// header, the message type, the client's hostname, the server identifier
// and requested address (v4), the transaction id, client and server DUIDs
// and relay headers (v6).
//
// # Ownership
//
// [ParseV4], [ParseV6] and [ParseV6Inner] fill the struct they are given.
// Byte-slice fields ([V4.Hostname], [V6.ClientID], [V6.ServerID],
// [V6.RelayMsg]) point into the input buffer: they are valid only while
// that buffer is, which for a captured packet means until the next packet
// is decoded into it. Copy what must outlive it.
//
// # Errors
//
// The parsers return one of the sentinel errors ([ErrTruncated],
// [ErrMalformed], [ErrNotDHCP], [ErrTooDeep]) unwrapped, so that a failed
// parse never allocates; fields parsed before the problem stay filled in.
// They never panic.
//
// # The one mistake
//
// A DHCPv4 message without option 53 is a BOOTP message, not an error:
// [V4.MsgType] is then 0. Check it before counting message types.
package dhcpmsg

import "errors"

// Errors returned by the parsers.
var (
	// ErrTruncated: the message ends inside its fixed header or inside an
	// option.
	ErrTruncated = errors.New("truncated dhcp message")
	// ErrMalformed: a field has an impossible value (for example option 53
	// with a length other than 1).
	ErrMalformed = errors.New("malformed dhcp message")
	// ErrNotDHCP: a DHCPv4-sized message without the magic cookie (plain
	// BOOTP or not DHCP at all).
	ErrNotDHCP = errors.New("no dhcp magic cookie")
	// ErrTooDeep: more than MaxRelayDepth nested DHCPv6 relay messages.
	ErrTooDeep = errors.New("too many nested dhcpv6 relay messages")
)
