//go:build ignore

// xdp_capture is the kernel half of pktvisor's AF_XDP capture path: it
// classifies every frame (counters per class, per CPU), optionally drops
// uninteresting frames from the capture by passing them to the kernel
// stack (port pre-filter), and redirects the rest to the AF_XDP socket
// bound to the frame's receive queue.
//
// The Go side (internal/capture/afxdp) mirrors enum counter_class in
// bpf/counters.go; TestSpec and TestClassify keep the two in step.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char __license[] SEC("license") = "Dual MIT/GPL";

// counter_class indexes the counters map. Every frame is counted once in
// an L3 class (when its Ethernet header is complete) and, when it is IP,
// once in an L4 class (when its L4 header is complete); truncated or
// invalid headers count in COUNTER_PARSE_ERRORS. Every frame is then
// counted in exactly one of FILTERED_OUT, REDIRECTED and REDIRECT_FAILED.
enum counter_class {
	COUNTER_IPV4 = 0,
	COUNTER_IPV6 = 1,
	COUNTER_OTHER_L3 = 2,
	COUNTER_TCP = 3,
	COUNTER_UDP = 4,
	COUNTER_OTHER_L4 = 5,
	COUNTER_PARSE_ERRORS = 6,
	COUNTER_REDIRECTED = 7,
	COUNTER_REDIRECT_FAILED = 8,
	COUNTER_FILTERED_OUT = 9,
	COUNTER_MAX = 10,
};

// counter is one class's per-CPU tally; bytes are frame lengths (the
// linear part the program sees, data_end - data).
struct counter {
	__u64 packets;
	__u64 bytes;
};

// config_flags are the bits of struct config.flags.
enum config_flags {
	CONFIG_FILTER_PORTS = 1 << 0, // redirect only frames with a port in ports
	CONFIG_DROP_FILTERED = 1 << 1, // drop, rather than pass, what the filter leaves
};

struct config {
	__u32 flags;
};

#define MAX_QUEUES 64
#define MAX_PORTS 1024
#define MAX_VLAN_TAGS 2

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct counter);
	__uint(max_entries, COUNTER_MAX);
} counters SEC(".maps");

// ports holds the interesting L4 ports (host byte order) of the pre-filter.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u16);
	__type(value, __u8);
	__uint(max_entries, MAX_PORTS);
} ports SEC(".maps");

// config has one entry, key 0.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct config);
	__uint(max_entries, 1);
} config SEC(".maps");

// xsks maps a receive queue index to the AF_XDP socket bound to it.
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, MAX_QUEUES);
} xsks SEC(".maps");

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

static __always_inline void count(__u32 class, __u64 len)
{
	struct counter *c = bpf_map_lookup_elem(&counters, &class);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

// parse_l4 reads the ports of a UDP or TCP header at l4 and counts the L4
// class. It returns 1 when the frame has ports.
static __always_inline int parse_l4(void *l4, void *data_end, __u8 proto, __u64 len,
				    __u16 *sport, __u16 *dport)
{
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end) {
			count(COUNTER_PARSE_ERRORS, len);
			return 0;
		}
		count(COUNTER_UDP, len);
		*sport = bpf_ntohs(udp->source);
		*dport = bpf_ntohs(udp->dest);
		return 1;
	}
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end) {
			count(COUNTER_PARSE_ERRORS, len);
			return 0;
		}
		count(COUNTER_TCP, len);
		*sport = bpf_ntohs(tcp->source);
		*dport = bpf_ntohs(tcp->dest);
		return 1;
	}
	count(COUNTER_OTHER_L4, len);
	return 0;
}

// classify counts the frame's classes and returns 1 with its ports set
// when it is TCP or UDP with a complete L4 header.
static __always_inline int classify(struct xdp_md *ctx, __u64 len, __u16 *sport, __u16 *dport)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end) {
		count(COUNTER_PARSE_ERRORS, len);
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
			count(COUNTER_PARSE_ERRORS, len);
			return 0;
		}
		proto = tag->proto;
		l3 = tag + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		count(COUNTER_IPV4, len);
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > data_end || ip->ihl < 5) {
			count(COUNTER_PARSE_ERRORS, len);
			return 0;
		}
		void *l4 = (void *)ip + ip->ihl * 4;
		if (l4 > data_end) {
			count(COUNTER_PARSE_ERRORS, len);
			return 0;
		}
		// A non-first fragment carries no L4 header.
		if (ip->frag_off & bpf_htons(0x1fff)) {
			count(COUNTER_OTHER_L4, len);
			return 0;
		}
		return parse_l4(l4, data_end, ip->protocol, len, sport, dport);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		count(COUNTER_IPV6, len);
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > data_end) {
			count(COUNTER_PARSE_ERRORS, len);
			return 0;
		}
		// Extension headers are not walked: only TCP or UDP directly
		// after the fixed header is classified as such.
		__u8 next = ip6->nexthdr;
		if (next != IPPROTO_TCP && next != IPPROTO_UDP) {
			count(COUNTER_OTHER_L4, len);
			return 0;
		}
		return parse_l4(ip6 + 1, data_end, next, len, sport, dport);
	}
	count(COUNTER_OTHER_L3, len);
	return 0;
}

SEC("xdp")
int xdp_capture(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;
	__u16 sport = 0, dport = 0;
	int has_ports = classify(ctx, len, &sport, &dport);

	__u32 zero = 0;
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && (cfg->flags & CONFIG_FILTER_PORTS)) {
		if (!has_ports || (!bpf_map_lookup_elem(&ports, &sport) &&
				   !bpf_map_lookup_elem(&ports, &dport))) {
			count(COUNTER_FILTERED_OUT, len);
			// On a dedicated capture port the host has no use for
			// the rest: dropping it spares the kernel stack.
			return (cfg->flags & CONFIG_DROP_FILTERED) ? XDP_DROP : XDP_PASS;
		}
	}

	// With no socket for this queue the lookup fails and the frame
	// goes to the kernel stack (the flags argument is the fallback
	// action).
	long action = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	if (action == XDP_REDIRECT)
		count(COUNTER_REDIRECTED, len);
	else
		count(COUNTER_REDIRECT_FAILED, len);
	return action;
}
