// parse.h is the frame classifier shared by xdp_capture.c and passthru.c:
// Ethernet, up to two VLAN tags (802.1Q, 802.1ad), IPv4 or IPv6, and the
// ports of UDP or TCP. It counts every frame once in an L3 class (when its
// Ethernet header is complete) and, when it is IP, once in an L4 class
// (when its L4 header is complete); truncated or invalid headers count in
// L34_PARSE_ERRORS.
//
// The including file defines, before including it,
//
//   static __always_inline void count_class(__u32 dir, __u32 class, __u64 len);
//
// which adds one frame of len bytes to class (an enum l34_class value) for
// direction dir (always 0 for a program that knows one direction).

#ifndef PKTVISOR_PARSE_H
#define PKTVISOR_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// l34_class are the classes the classifier counts; each program's counter
// enum starts with them, in this order.
enum l34_class {
	L34_IPV4 = 0,
	L34_IPV6 = 1,
	L34_OTHER_L3 = 2,
	L34_TCP = 3,
	L34_UDP = 4,
	L34_OTHER_L4 = 5,
	L34_PARSE_ERRORS = 6,
	L34_CLASSES = 7,
};

// counter is one class's per-CPU tally.
struct counter {
	__u64 packets;
	__u64 bytes;
};

#define MAX_PORTS 1024
#define MAX_VLAN_TAGS 2

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

// parse_l4 reads the ports of a UDP or TCP header at l4 and counts the L4
// class. It returns 1 when the frame has ports.
static __always_inline int parse_l4(void *l4, void *data_end, __u8 proto, __u32 dir,
				    __u64 len, __u16 *sport, __u16 *dport)
{
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end) {
			count_class(dir, L34_PARSE_ERRORS, len);
			return 0;
		}
		count_class(dir, L34_UDP, len);
		*sport = bpf_ntohs(udp->source);
		*dport = bpf_ntohs(udp->dest);
		return 1;
	}
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end) {
			count_class(dir, L34_PARSE_ERRORS, len);
			return 0;
		}
		count_class(dir, L34_TCP, len);
		*sport = bpf_ntohs(tcp->source);
		*dport = bpf_ntohs(tcp->dest);
		return 1;
	}
	count_class(dir, L34_OTHER_L4, len);
	return 0;
}

// classify counts the classes of the frame in [data, data_end) (len is
// what the counters add up: the frame's length) and returns 1 with its
// ports set when it is TCP or UDP with a complete L4 header. A non-first
// IPv4 fragment counts as OTHER_L4; IPv6 extension headers are not
// walked, so only TCP or UDP directly after the fixed header has ports.
static __always_inline int classify(void *data, void *data_end, __u32 dir, __u64 len,
				    __u16 *sport, __u16 *dport)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end) {
		count_class(dir, L34_PARSE_ERRORS, len);
		return 0;
	}
	__u16 proto = eth->h_proto;
	void *l3 = eth + 1;

#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan_tag *tag = l3;
		if ((void *)(tag + 1) > data_end) {
			count_class(dir, L34_PARSE_ERRORS, len);
			return 0;
		}
		proto = tag->proto;
		l3 = tag + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		count_class(dir, L34_IPV4, len);
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > data_end || ip->ihl < 5) {
			count_class(dir, L34_PARSE_ERRORS, len);
			return 0;
		}
		void *l4 = (void *)ip + ip->ihl * 4;
		if (l4 > data_end) {
			count_class(dir, L34_PARSE_ERRORS, len);
			return 0;
		}
		if (ip->frag_off & bpf_htons(0x1fff)) {
			count_class(dir, L34_OTHER_L4, len);
			return 0;
		}
		return parse_l4(l4, data_end, ip->protocol, dir, len, sport, dport);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		count_class(dir, L34_IPV6, len);
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > data_end) {
			count_class(dir, L34_PARSE_ERRORS, len);
			return 0;
		}
		__u8 next = ip6->nexthdr;
		if (next != IPPROTO_TCP && next != IPPROTO_UDP) {
			count_class(dir, L34_OTHER_L4, len);
			return 0;
		}
		return parse_l4(ip6 + 1, data_end, next, dir, len, sport, dport);
	}
	count_class(dir, L34_OTHER_L3, len);
	return 0;
}

#endif // PKTVISOR_PARSE_H
